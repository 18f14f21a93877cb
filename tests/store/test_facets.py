"""The Store's facets: methods bound from session-level functions, in one transaction each."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.core.model import Status
from appliance.store import Store, StoreError, facets
from appliance.store.facets import Facet, Method, read, read_at_now, write, write_without_clock
from appliance.store.schema.box import Holder
from appliance.store.tables import directory, holders

from .conftest import T0, StepClock


def _echo(s: Session, a: int, *, b: str = "x") -> tuple[int, str, bool]:
    """Echo the arguments, and whether a transaction is open."""
    return a, b, s.in_transaction()


def _now(s: Session, now_us: int, plus: int = 0) -> int:
    return now_us + plus


def _add(s: Session, now_us: int, name: str, *, fail: bool = False) -> int:
    holder_id = holders.add_holder(s, now_us, name, actor="probe")
    if fail:
        raise StoreError("refused after the insert")
    return holder_id


def _name_of(s: Session, holder_id: int) -> str:
    row = directory.get_holder(s, holder_id)
    assert row is not None  # seen inside the write, before the commit
    return row.name


def _refuse(s: Session, holder_id: int) -> str:
    raise StoreError("the mapping refused")


def _count(s: Session) -> int:
    return len(s.scalars(select(Holder)).all())


def _insert_raw(s: Session, name: str) -> None:
    s.add(Holder(name=name, created_at=1))


class Probe(Facet):
    echo = read("echoing", _echo)
    now = read_at_now("reading the time", _now)
    stamp = write("stamping", _now)
    add = write("adding a probe holder", _add)
    add_named = write("adding a probe holder", _add, then=_name_of)
    add_refused = write("adding a probe holder", _add, then=_refuse)
    count = read("counting holders", _count)
    insert_raw = write_without_clock("inserting", _insert_raw)


@pytest.fixture
def probe(store: Store) -> Probe:
    return Probe(store._db)


def test_a_read_passes_the_callers_arguments_inside_a_transaction(probe: Probe) -> None:
    assert probe.echo(1) == (1, "x", True)
    assert probe.echo(2, b="y") == (2, "y", True)
    assert probe.echo(a=3) == (3, "x", True)


def test_the_clock_is_handed_in_microseconds(probe: Probe, clock: StepClock) -> None:
    assert probe.now() == round(T0 * 1_000_000)
    clock.advance(1.5)
    assert probe.stamp(plus=1) == round(T0 * 1_000_000) + 1_500_001


def test_a_write_commits_for_other_connections(probe: Probe, other: Store) -> None:
    holder_id = probe.add("Probe Person")
    row = other.holders.get(holder_id)
    assert row is not None and row.name == "Probe Person"


def test_a_failed_write_leaves_nothing(probe: Probe, store: Store) -> None:
    before = (probe.count(), store.current_rev())
    with pytest.raises(StoreError, match="refused after the insert"):
        probe.add("Never Stored", fail=True)
    assert (probe.count(), store.current_rev()) == before


def test_then_reads_the_result_in_the_same_transaction(probe: Probe, store: Store) -> None:
    assert probe.add_named("Named Person") == "Named Person"
    before = (probe.count(), store.current_rev())
    with pytest.raises(StoreError, match="the mapping refused"):
        probe.add_refused("Rolled Back")  # then's failure undoes the write too
    assert (probe.count(), store.current_rev()) == before


def test_a_write_without_clock_runs_in_a_write_transaction(probe: Probe, other: Store) -> None:
    probe.insert_raw("Raw Person")
    assert [h.name for h in other.holders.list()] == ["Raw Person"]


def test_the_bound_method_keeps_the_functions_name_and_doc(probe: Probe) -> None:
    bound = probe.echo
    assert bound.__doc__ == _echo.__doc__ and bound.__name__ == "echo"
    assert isinstance(Probe.__dict__["echo"], Method) and Probe.echo.__doc__ == _echo.__doc__
    assert "_name_of() of that" in (probe.add_named.__doc__ or "")


def test_a_patch_on_the_facet_class_reaches_every_facet(
    store: Store, other: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.cards.count()  # used before the patch
    monkeypatch.setattr(facets.Cards, "count", lambda self, **kw: -1)
    assert store.cards.count() == other.cards.count() == -1
    monkeypatch.undo()
    assert store.cards.count() == 0


def test_store_only_callers_cannot_pass_the_session_only_keywords(store: Store) -> None:
    store.cards.add("H10301", 1, 7, "Ann", serial="A7", actor="a")
    rev = store.current_rev()
    district: dict[str, Any] = {"as_district": True}  # as the fleet agent's apply passes it
    with pytest.raises(TypeError, match="as_district"):
        store.cards.set_status(serial="A7", status=Status.LOST, reason=None, actor="a", **district)
    builtin: dict[str, Any] = {"builtin": True}  # as init creates the built-in groups
    with pytest.raises(TypeError, match="builtin"):
        store.groups.add("coaches", actor="a", **builtin)
    assert store.current_rev() == rev
    row = store.cards.get(serial="A7")
    assert row is not None and row.status is Status.ISSUED


def test_every_facet_method_is_documented_by_its_function() -> None:
    every: list[type[Facet]] = [
        facets.Cards,
        facets.Holders,
        facets.Groups,
        facets.Door,
        facets.Events,
        facets.Users,
        facets.Reviews,
        facets.Fleet,
    ]
    assert sum(_check_docs(cls) for cls in every) >= 50


def _check_docs(cls: type) -> int:
    n = 0
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, Method):
            assert value.fn.__doc__, f"{cls.__name__}.{name}: {value.fn.__qualname__} has no doc"
            n += 1
        elif inspect.isfunction(value):
            assert value.__doc__, f"{cls.__name__}.{name} has no docstring"
            n += 1
    return n


def test_the_store_itself_keeps_only_what_is_about_the_whole_database(store: Store) -> None:
    public = {n for n in dir(store) if not n.startswith("_")}
    assert public == {
        # the facets
        "cards",
        "door",
        "events",
        "fleet",
        "groups",
        "holders",
        "reviews",
        "users",
        # the database as a whole, and the controller's hot path
        "close",
        "current_rev",
        "data_version",
        "db",  # the transactions, for the fleet apply's and the district's own tables
        "for_data_dir",
        "init",
        "load_cards",
        "load_groups",
        "load_snapshot",
        "path",
        "schema_is_current",
    }


def test_facets_share_the_stores_database(store: Store, other: Store) -> None:
    store.holders.add("Shared", actor="a")
    assert store.holders.count() == other.holders.count() == 1
    assert store.door.name() == "Front door"
    store.door.set_mode("lockdown", reason="drill", actor="a")
    assert other.door.mode()[0].value == "lockdown"


def test_the_boxs_store_does_not_import_the_district() -> None:
    code = (
        "import sys, appliance.store, appliance.store.facets\n"
        "bad = sorted(m for m in sys.modules if m.startswith('appliance.district'))\n"
        "print(bad)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "[]"
