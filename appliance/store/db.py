"""The connection to the SQLite file: pragmas, file permissions, read and write transactions."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from appliance.store.errors import StoreError, translate_errors

LOG = logging.getLogger(__name__)

DB_NAME = "doorward.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000
_WRITE = "doorward_write"  # execution option: start the transaction with BEGIN IMMEDIATE


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data directory 0700 if it is missing (it holds PIN and password hashes)."""
    if data_dir.is_dir():
        return
    try:
        data_dir.mkdir(mode=0o700, parents=True)
        os.chmod(data_dir, 0o700)  # mkdir's mode is filtered by the umask
    except OSError as err:
        raise StoreError(f"cannot create data directory {data_dir}: {err.strerror}") from err


def _prepare_file(path: Path) -> None:
    """Create the database file 0600 before SQLite does, and tighten an existing one."""
    if not path.parent.is_dir():
        raise StoreError(f"cannot open database {path}: directory {path.parent} does not exist")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
    except OSError as err:
        raise StoreError(f"cannot open database {path}: {err.strerror}") from err
    try:
        if stat.S_IMODE(os.stat(path).st_mode) & 0o077:
            os.chmod(path, 0o600)
    except OSError as err:
        # Someone else's file: still usable, but say so.
        LOG.warning("database %s is readable by others and cannot be tightened: %s", path, err)


class Database:
    """One SQLite file: an engine with the right pragmas, and a connection for data_version."""

    def __init__(
        self,
        path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if busy_timeout_ms < 0:
            raise StoreError(f"busy_timeout_ms must be >= 0, got {busy_timeout_ms}")
        self.path = path
        self.clock = clock
        self.busy_timeout_ms = busy_timeout_ms
        _prepare_file(path)
        self.engine: Engine = create_engine(URL.create("sqlite", database=str(path)))
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "begin", _on_begin)
        self._version_lock = threading.Lock()
        self._version_conn: sqlite3.Connection | None = None
        try:
            with translate_errors(f"opening {path}"):
                # Opening here surfaces a corrupt or foreign file now, not at the first card.
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
                self._version_conn = self._open_version_conn()
        except BaseException:
            self.engine.dispose()
            raise

    def _pragmas(self, conn: sqlite3.Connection) -> None:
        cur = conn.cursor()
        try:
            # busy_timeout first: switching to WAL itself may have to wait for a lock.
            cur.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"database {self.path} refused WAL mode (journal_mode={mode})")
            # FULL: an event that was logged must survive a power cut.
            cur.execute("PRAGMA synchronous = FULL")
            cur.execute("PRAGMA foreign_keys = ON")
        finally:
            cur.close()

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        # We emit BEGIN ourselves (see _on_begin); sqlite3's implicit BEGIN would be DEFERRED.
        dbapi_conn.isolation_level = None
        self._pragmas(dbapi_conn)

    def _open_version_conn(self) -> sqlite3.Connection:
        conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
        try:
            self._pragmas(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    def now_us(self) -> int:
        """The clock's time as UTC microseconds."""
        return round(self.clock() * 1_000_000)

    def data_version(self) -> int:
        """PRAGMA data_version on its own connection: changes when another connection commits."""
        with self._version_lock, translate_errors("reading data_version"):
            if self._version_conn is None:
                raise StoreError("store is closed")
            row = self._version_conn.execute("PRAGMA data_version").fetchone()
            return int(row[0])

    @contextmanager
    def write(self, what: str) -> Iterator[Session]:
        """A session in one write transaction (BEGIN IMMEDIATE); commits on success."""
        with (
            translate_errors(what),
            Session(self.engine, execution_options={_WRITE: True}, expire_on_commit=False) as s,
            s.begin(),
        ):
            yield s

    @contextmanager
    def read(self, what: str) -> Iterator[Session]:
        """A session in one read transaction: every query inside sees the same snapshot."""
        with translate_errors(what), Session(self.engine) as s, s.begin():
            yield s

    @contextmanager
    def migrating(self, what: str) -> Iterator[Session]:
        """A write transaction with foreign keys off, as Alembic's batch (copy-and-move) needs.

        Foreign keys are checked by hand before the commit, and switched back on afterwards.
        """
        with translate_errors(what), self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            if raw is None:
                raise StoreError(f"{what}: the database connection was closed")
            # Must happen outside a transaction, so on the driver's connection before BEGIN.
            raw.execute("PRAGMA foreign_keys = OFF")
            try:
                conn.execution_options(**{_WRITE: True})
                with Session(bind=conn, expire_on_commit=False) as s, s.begin():
                    yield s
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise StoreError(f"{what}: migration broke a reference in {broken[0]}")
            finally:
                raw.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        """Close every connection; the Database is unusable afterwards."""
        with self._version_lock:
            if self._version_conn is not None:
                self._version_conn.close()
                self._version_conn = None
        self.engine.dispose()


def _on_begin(conn: Connection) -> None:
    # A write takes the lock up front, so a read-then-write can't fail half-way with BUSY_SNAPSHOT.
    if conn.get_execution_options().get(_WRITE):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")
