"""The box store under the district list: snapshots, changes, lockdowns, and what stays local."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.core.model import Mode, Status
from appliance.store import Store, StoreError
from appliance.store.fleet.apply import REMOVED, FleetApply

GROUP = {
    "name": "custodians",
    "all_doors": True,
    "doors": [],
    "always": False,
    "schedule": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "18:00"}],
    "holidays": [],
    "lockdown_immune": False,
    "pin_required": False,
}


def card(number: int, **over: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "format": "H10301",
        "facility": 100,
        "number": number,
        "serial": f"CPD-{number}",
        "holder": f"Officer {number}",
        "agency": "Casper PD",
        "badge": None,
        "group": "responders",
        "status": "issued",
        "reason": None,
        "valid_from_us": None,
        "valid_until_us": None,
        "pin_hash": None,
    }
    item.update(over)
    return item


def change(version: int, creds: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {"version": version, "groups": None, "credentials": creds, "lockdown": None, **over}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "doorward.db") as s:
        s.init("Front entrance")
        s.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", actor="admin")
        yield s


@pytest.fixture
def fleet(store: Store) -> FleetApply:
    return FleetApply(store, school="Kelly Walsh", actor="fleet:natrona")


def status_of(store: Store, serial: str) -> tuple[Status, str, str | None]:
    row = store.cards.get(serial=serial)
    assert row is not None
    return row.status, row.source, row.status_reason


def test_snapshot_adds_district_cards_and_leaves_local_ones(
    store: Store, fleet: FleetApply
) -> None:
    rev = store.current_rev()
    done = fleet.apply_snapshot(1, [GROUP], [card(1), card(2, group="custodians")], False, [])
    assert (done.added, done.updated, done.removed, done.conflicts) == (2, 0, 0, [])
    assert fleet.applied_version() == 1 and store.current_rev() > rev
    assert status_of(store, "CPD-1") == (Status.ISSUED, "district", None)
    assert store.cards.get(serial="CPD-2").group == "custodians"  # type: ignore[union-attr]
    assert status_of(store, "KW-1") == (Status.ISSUED, "local", None)
    # The same snapshot again changes nothing; an older one is refused.
    with pytest.raises(StoreError, match="not newer"):
        fleet.apply_snapshot(1, [GROUP], [card(1)], False, [])


def test_a_snapshot_revokes_what_it_no_longer_lists_and_deletes_nothing(
    store: Store, fleet: FleetApply
) -> None:
    fleet.apply_snapshot(1, [], [card(1), card(2)], False, [])
    done = fleet.apply_snapshot(5, [], [card(2)], False, [])
    assert done.removed == 1
    assert status_of(store, "CPD-1") == (Status.REVOKED, "district", REMOVED)
    assert store.cards.count() == 3
    assert status_of(store, "KW-1")[0] is Status.ISSUED  # local: untouched


def test_changes_apply_in_order_in_one_transaction(store: Store, fleet: FleetApply) -> None:
    fleet.apply_snapshot(1, [], [card(1)], False, [])
    done = fleet.apply_changes(
        [change(2, [card(1, status="lost", reason="reported lost")]), change(3, [card(9)])]
    )
    assert (done.version, done.added, done.updated) == (3, 1, 1)
    assert status_of(store, "CPD-1") == (Status.LOST, "district", "reported lost")
    with pytest.raises(StoreError, match="does not follow"):
        fleet.apply_changes([change(5, [card(10)])])


def test_a_bad_change_in_a_run_changes_nothing(store: Store, fleet: FleetApply) -> None:
    fleet.apply_snapshot(1, [], [card(1)], False, [])
    rev, events = store.current_rev(), len(store.events.query(limit=10_000))
    with pytest.raises(StoreError, match="unknown group"):
        fleet.apply_changes(
            [change(2, [card(1, status="revoked")]), change(3, [card(2, group="x")])]
        )
    assert fleet.applied_version() == 1 and store.current_rev() == rev
    assert status_of(store, "CPD-1")[0] is Status.ISSUED
    assert len(store.events.query(limit=10_000)) == events


def test_a_district_card_that_is_local_here_is_left_and_reported(
    store: Store, fleet: FleetApply
) -> None:
    done = fleet.apply_snapshot(1, [], [card(3456, facility=12, serial="X-1")], False, [])
    assert done.added == 0 and "local card" in done.conflicts[0]
    assert status_of(store, "KW-1") == (Status.ISSUED, "local", None)
    done = fleet.apply_changes([change(2, [card(5, serial="KW-1")])])
    assert done.added == 1 and "serial 'KW-1'" in done.conflicts[0]
    assert store.cards.get(credential=("H10301", 100, 5)).serial is None  # type: ignore[union-attr]


def test_lockdown_for_this_school_or_all(store: Store, fleet: FleetApply) -> None:
    fleet.apply_snapshot(1, [], [], False, ["Natrona County High"])
    assert store.door.mode()[0] is Mode.NORMAL
    lock = {"on": True, "school": "kelly walsh", "reason": "police request"}
    assert fleet.apply_changes([change(2, [], lockdown=lock)]).mode == "lockdown"
    assert store.door.mode() == (Mode.LOCKDOWN, "police request")
    other = {"on": False, "school": "Natrona County High", "reason": None}
    fleet.apply_changes([change(3, [], lockdown=other)])
    assert store.door.mode()[0] is Mode.LOCKDOWN  # another school's word
    fleet.apply_changes([change(4, [], lockdown={"on": False, "school": None, "reason": None})])
    assert store.door.mode()[0] is Mode.NORMAL
    # A snapshot repeating "no lockdown" does not undo a lockdown the box's own button made.
    store.door.set_mode(Mode.LOCKDOWN, reason="button", actor="button")
    fleet.apply_snapshot(5, [], [], False, [])
    assert store.door.mode()[0] is Mode.LOCKDOWN
    fleet.apply_snapshot(6, [], [], True, [])
    fleet.apply_snapshot(7, [], [], False, [])
    assert store.door.mode()[0] is Mode.NORMAL


def test_outbox_cursor(store: Store, fleet: FleetApply) -> None:
    assert fleet.shipped_event_id() == 0
    fleet.set_shipped_event_id(5)
    fleet.set_shipped_event_id(3)  # never backwards by accident
    assert fleet.shipped_event_id() == 5
    assert fleet.rewind_shipped_event_id(2) and fleet.shipped_event_id() == 2
    rev = store.current_rev()
    fleet.set_shipped_event_id(9)
    assert store.current_rev() == rev  # nothing a decision uses
