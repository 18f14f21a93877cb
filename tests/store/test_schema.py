"""Opening, initialising and migrating the database; pragmas, permissions, failures."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, event

import appliance.district.schema  # noqa: F401  (its tables are in Base.metadata too)
from appliance.core.model import Mode
from appliance.store import Store, StoreError
from appliance.store.schema.box import Base
from appliance.store.schema.migrate import head_revisions

from .conftest import StepClock


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, for before/after comparisons."""
    with sqlite3.connect(path) as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
        ]
        return {n: sorted(map(tuple, conn.execute(f'SELECT * FROM "{n}"'))) for n in names}


def test_new_file_is_not_current_until_init(db_path: Path, clock: StepClock) -> None:
    with Store(db_path, clock=clock) as s:
        assert not s.schema_is_current()
        with pytest.raises(StoreError, match="doorward init"):
            s.current_rev()
        s.init("Front door")
        assert s.schema_is_current()


def test_init_twice_changes_nothing(store: Store, db_path: Path, clock: StepClock) -> None:
    before = _tables(db_path)
    rev = store.current_rev()
    clock.advance(60)
    store.init("Front door")
    with Store(db_path, clock=clock) as again:
        again.init("Front door")
    assert _tables(db_path) == before
    assert store.current_rev() == rev


def test_init_stamps_head(store: Store, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        stamped = {r[0] for r in conn.execute("SELECT version_num FROM alembic_version")}
    assert stamped == head_revisions() == {"0005"}


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_migration_builds_exactly_the_models(store: Store, db_path: Path) -> None:
    engine = create_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
    # Alembic can't compare expression indexes on SQLite: check that one by hand.
    with sqlite3.connect(db_path) as raw:
        sql = raw.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'uq_credentials_card'"
        ).fetchone()[0]
    assert "UNIQUE" in sql and "coalesce(facility, -1)" in sql


def test_builtin_groups(store: Store) -> None:
    groups = {g.name: g for g in store.groups.list()}
    assert set(groups) == {"responders", "staff"}
    responders, staff = groups["responders"], groups["staff"]
    assert responders.all_doors and responders.always and responders.lockdown_immune
    assert responders.builtin and not responders.pin_required and responders.schedule == ()
    assert not staff.all_doors and staff.doors == ("Front door",) and staff.always
    assert staff.builtin and not staff.lockdown_immune
    policies = store.load_groups()
    assert policies[responders.id].lockdown_immune and policies[responders.id].all_doors
    assert policies[staff.id].doors == frozenset({"Front door"})


def test_door_starts_normal(store: Store) -> None:
    assert store.door.mode() == (Mode.NORMAL, None)
    assert store.door.name() == "Front door"


def test_pragmas_on_every_connection(store: Store, db_path: Path) -> None:
    with store._db.engine.connect() as conn:  # the pool's connections, as the store uses them
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
    with sqlite3.connect(db_path) as raw:  # WAL is a property of the file, seen by anyone
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_db_file_is_private(store: Store, db_path: Path) -> None:
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_existing_loose_file_is_tightened(db_path: Path) -> None:
    db_path.touch()
    os.chmod(db_path, 0o644)
    Store(db_path).close()
    assert stat.S_IMODE(os.stat(db_path).st_mode) == 0o600


def test_for_data_dir_creates_private_dir(tmp_path: Path) -> None:
    data = tmp_path / "var" / "doorward"
    with Store.for_data_dir(data) as s:
        s.init("Gym")
        assert s.path == data / "doorward.db"
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700


def test_missing_directory_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "nowhere" / "doorward.db")


def test_garbage_file_is_a_store_error(db_path: Path) -> None:
    db_path.write_bytes(b"this is not a database, just text that fills a page. " * 200)
    with pytest.raises(StoreError, match="unreadable or corrupt"):
        Store(db_path)


def test_directory_instead_of_file_is_a_store_error(db_path: Path) -> None:
    db_path.mkdir()
    with pytest.raises(StoreError, match="cannot open database"):
        Store(db_path)


def test_busy_database_is_a_store_error(store: Store, db_path: Path) -> None:
    hasty = Store(db_path, busy_timeout_ms=20)
    blocker = sqlite3.connect(db_path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past our timeout
        rev = hasty.current_rev()  # WAL: readers are never blocked by a writer
        with pytest.raises(StoreError, match="database is busy") as err:
            hasty.holders.add("Ann", actor="test")
        assert "OperationalError" not in str(err.value)
        blocker.execute("ROLLBACK")
        hasty.holders.add("Ann", actor="test")  # and it works once the lock is gone
        assert hasty.current_rev() == rev + 1
    finally:
        blocker.close()
        hasty.close()


def test_negative_busy_timeout_refused(db_path: Path) -> None:
    with pytest.raises(StoreError, match="busy_timeout_ms"):
        Store(db_path, busy_timeout_ms=-1)


def test_closed_store_refuses(db_path: Path) -> None:
    s = Store(db_path)
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.data_version()


def test_newer_schema_is_refused_not_downgraded(store: Store, db_path: Path) -> None:
    with sqlite3.connect(db_path) as raw:
        raw.execute("UPDATE alembic_version SET version_num = '9999'")
    assert not store.schema_is_current()
    with pytest.raises(StoreError, match="cannot upgrade the database schema"):
        store.init("Front door")
    with sqlite3.connect(db_path) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == ("9999",)


def test_foreign_keys_back_on_after_init(store: Store) -> None:
    # init runs with foreign keys off (batch migrations need it); the pool must not keep that.
    conns = [store._db.engine.connect() for _ in range(3)]
    try:
        assert [c.exec_driver_sql("PRAGMA foreign_keys").scalar() for c in conns] == [1, 1, 1]
    finally:
        for c in conns:
            c.close()


def test_writes_take_the_lock_up_front(store: Store) -> None:
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    event.listen(store._db.engine, "before_cursor_execute", record)
    try:
        store.holders.add("Ann", actor="a")
        writes = [s for s in seen if s.startswith("BEGIN")]
        seen.clear()
        store.holders.list()
        reads = [s for s in seen if s.startswith("BEGIN")]
    finally:
        event.remove(store._db.engine, "before_cursor_execute", record)
    # IMMEDIATE: a read-then-write can't fail half-way because another process wrote between.
    assert writes == ["BEGIN IMMEDIATE"]
    assert reads == ["BEGIN"]
