"""Change detection for the controller: rev, load_cards(since_rev), data_version, snapshots."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from appliance.core.model import Mode, Status
from appliance.store import Store, StoreError

from .conftest import StepClock

WRITES: dict[str, Callable[[Store], object]] = {
    "set_mode": lambda s: s.door.set_mode("lockdown", reason="drill", actor="a"),
    "add_holder": lambda s: s.holders.add("New Person", actor="a"),
    "update_holder": lambda s: s.holders.update("Ann", agency="PD", actor="a"),
    "add_credential": lambda s: s.cards.add("H10301", 2, 2, "Ann", actor="a"),
    "set_status": lambda s: s.cards.set_status(serial="A1", status="lost", reason=None, actor="a"),
    "set_pin": lambda s: s.cards.set_pin(serial="A1", pin="9999", actor="a"),
    "add_group": lambda s: s.groups.add("coaches", actor="a"),
    "update_group": lambda s: s.groups.update("staff", pin_required=True, actor="a"),
    "set_setting": lambda s: s.door.set_setting("unlock_seconds", 5, actor="a"),
    "import_csv": lambda s: s.cards.import_csv("format,number,holder\nH10302,9,Cy\n", actor="a"),
}


@pytest.mark.parametrize("name", sorted(WRITES))
def test_every_write_bumps_rev_and_is_recorded(store: Store, name: str) -> None:
    store.cards.add("H10301", 1, 1, "Ann", serial="A1", actor="setup")
    rev = store.current_rev()
    last_event = store.events.query(limit=1)[0].id
    WRITES[name](store)
    assert store.current_rev() == rev + 1
    recorded = store.events.query(after_id=last_event)
    assert recorded and all(e.actor == "a" for e in recorded)
    assert all(e.kind in ("admin", "mode") for e in recorded)


def test_failed_write_bumps_nothing(store: Store) -> None:
    rev = store.current_rev()
    events = store.events.query()
    with pytest.raises(StoreError):
        store.cards.add("H10301", 1, 1, "Ann", group="nope", actor="a")
    assert store.current_rev() == rev
    assert store.events.query() == events


def test_load_cards_since_rev_returns_only_changed_rows(store: Store) -> None:
    a = store.cards.add("H10301", 1, 1, "Ann", serial="A", actor="a")
    b = store.cards.add("H10301", 1, 2, "Bo", serial="B", actor="a")
    cards, rev = store.load_cards()
    assert sorted(e.id for _, e in cards) == [a, b]
    assert rev == store.current_rev()
    assert store.load_cards(rev) == ([], rev)

    store.cards.set_status(serial="A", status="stolen", reason=None, actor="a")
    store.groups.add(
        "night", always=False, schedule=[{"days": "mon", "start": "1:00", "end": "2:00"}], actor="a"
    )
    changed, rev2 = store.load_cards(rev)
    assert [(e.id, e.status) for _, e in changed] == [(a, Status.STOLEN)]
    assert rev2 == rev + 2  # covers the group change too, though no card changed with it

    c = store.cards.add("H10301", 1, 3, "Cy", actor="a")
    store.cards.set_pin(serial="B", pin="1111", actor="a")
    changed, rev3 = store.load_cards(rev2)
    assert sorted(e.id for _, e in changed) == [b, c]
    assert store.load_cards(rev3)[0] == []


def test_load_cards_refuses_bad_rev(store: Store) -> None:
    with pytest.raises(StoreError, match="since_rev"):
        store.load_cards(-1)


def test_snapshot_is_whole(store: Store) -> None:
    store.cards.add("H10301", 1, 1, "Ann", actor="a")
    store.door.set_mode(Mode.HELD_UNLOCKED, reason="assembly", actor="a")
    snap = store.load_snapshot()
    assert snap.rev == store.current_rev()
    assert (snap.mode, snap.mode_reason) == (Mode.HELD_UNLOCKED, "assembly")
    assert {g.name for g in snap.groups.values()} == {"responders", "staff"}
    assert [e.id for _, e in snap.cards] == [e.id for _, e in store.load_cards()[0]]
    assert store.load_snapshot(snap.rev).cards == []


def test_data_version_sees_other_connections(store: Store, other: Store) -> None:
    v0 = store.data_version()
    assert store.data_version() == v0  # nothing committed: no change
    store.cards.list()
    store.load_cards()
    assert store.data_version() == v0  # reads are not changes
    other.holders.add("Someone", actor="other process")
    v1 = store.data_version()
    assert v1 != v0
    assert store.data_version() == v1
    # The dedicated connection never writes, so this store's own commits count as "another
    # connection" too; the controller tells card changes from event appends with current_rev().
    rev = store.current_rev()
    store.events.append([])
    assert store.data_version() == v1  # an empty append commits nothing
    other.door.set_mode("lockdown", reason=None, actor="x")
    v2 = store.data_version()
    assert v2 != v1 and store.current_rev() == rev + 1
    store.holders.add("Mine", actor="me")  # committed on a pooled connection, not the dedicated one
    assert store.data_version() != v2


def test_mode_round_trip(store: Store, clock: StepClock) -> None:
    store.door.set_mode("lockdown", reason="  intruder  ", actor="principal")
    assert store.door.mode() == (Mode.LOCKDOWN, "intruder")
    event = store.events.query(limit=1)[0]
    assert (event.kind, event.reason, event.door, event.actor) == (
        "mode",
        "intruder",
        "Front door",
        "principal",
    )
    assert event.detail == {"action": "set_mode", "mode": "lockdown", "was": "normal"}
    with pytest.raises(StoreError, match="unknown door mode 'degraded'"):
        store.door.set_mode("degraded", reason=None, actor="a")
    assert store.door.mode() == (Mode.LOCKDOWN, "intruder")


def test_settings(store: Store) -> None:
    store.door.set_setting("unlock_seconds", 5, actor="a")
    store.door.set_setting("chime", {"on": True}, actor="a")
    store.door.set_setting("unlock_seconds", 7, actor="a")
    assert store.door.settings() == {"unlock_seconds": 7, "chime": {"on": True}}
    with pytest.raises(StoreError, match="not JSON"):
        store.door.set_setting("bad", object(), actor="a")
