"""Holders and credentials: issue, list, change status, PINs; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from appliance.core.model import Status, card_key
from appliance.core.pins import verify_pin
from appliance.store import UNSET, DistrictOwned, Store, StoreError
from appliance.testing.district import add_district_card

from .conftest import T0, StepClock
from .refused import refused_changing_nothing
from .test_schema import _tables


def test_add_list_and_revoke(store: Store, clock: StepClock) -> None:
    cid = store.cards.add("h10301", 12, 3456, "Ann Lee", serial="F-001", actor="office")
    [row] = store.cards.list()
    assert (row.id, row.credential, row.holder, row.serial, row.group) == (
        cid,
        "H10301:12:3456",
        "Ann Lee",
        "F-001",
        "staff",
    )
    assert row.status is Status.ISSUED and row.issued_by == "office"
    assert row.issued_at == datetime.fromtimestamp(T0, UTC) and row.issued_at.tzinfo is UTC
    clock.advance(10)
    revoked = store.cards.set_status(
        serial="F-001", status=Status.REVOKED, reason="left", actor="ops"
    )
    assert revoked.status is Status.REVOKED and revoked.status_reason == "left"
    assert revoked.status_changed_by == "ops"
    assert revoked.status_changed_at == datetime.fromtimestamp(T0 + 10, UTC)
    assert revoked.issued_at == row.issued_at
    assert store.cards.list(status="revoked") == [revoked]
    assert store.cards.list(status=Status.ISSUED) == []
    event = store.events.query(limit=1)[0]
    assert (event.kind, event.actor, event.reason, event.serial, event.holder) == (
        "admin",
        "ops",
        "left",
        "F-001",
        "Ann Lee",
    )
    assert event.detail == {"action": "set_status", "status": "revoked", "was": "issued"}


def test_status_by_credential_and_return_then_reissue(store: Store, clock: StepClock) -> None:
    store.cards.add("H10302", None, 123456, "Bo", actor="a")
    returned = store.cards.set_status(
        credential=("h10302", None, 123456), status="returned", reason=None, actor="b"
    )
    assert returned.returned_at == datetime.fromtimestamp(T0, UTC) and returned.returned_by == "b"
    clock.advance(100)
    again = store.cards.set_status(
        credential=("H10302", None, 123456), status="issued", reason="back", actor="c"
    )
    assert again.status is Status.ISSUED and again.issued_by == "c"
    assert again.issued_at == datetime.fromtimestamp(T0 + 100, UTC)
    assert again.returned_at == returned.returned_at  # the last return stays on record


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "by serial or by"),
        ({"serial": "X", "credential": ("H10302", None, 1)}, "not both"),
        ({"serial": "nope"}, "no credential with serial 'nope'"),
        ({"credential": ("H10301", 1, 2)}, "no credential H10301:1:2 on record"),
        ({"credential": ("H10301", 1)}, "format, facility, number"),
        ({"credential": ("H10301", 999, 2)}, "out of range"),
        ({"serial": "  "}, "must not be empty"),
    ],
)
def test_set_status_selectors(store: Store, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        store.cards.set_status(**kwargs, status="lost", reason=None, actor="a")  # type: ignore[arg-type]


def test_unknown_status_refused(store: Store) -> None:
    store.cards.add("H10302", None, 5, "Bo", serial="S", actor="a")
    with pytest.raises(StoreError, match="unknown status 'gone'"):
        store.cards.set_status(serial="S", status="gone", reason=None, actor="a")


def test_holder_created_once_and_reused(store: Store) -> None:
    store.cards.add("H10302", None, 1, "Ann", actor="a")
    store.cards.add("H10302", None, 2, " Ann ", actor="a")
    [holder] = store.holders.list()
    assert (holder.name, holder.credentials) == ("Ann", 2)


def test_duplicate_credential_and_serial_change_nothing(store: Store, db_path: Path) -> None:
    store.cards.add("H10301", 1, 100, "Ann", serial="S-1", actor="a")
    store.cards.add("H10302", None, 100, "Ann", actor="a")
    before = _tables(db_path)
    with pytest.raises(StoreError, match=r"H10301:1:100 is already on record \(holder 'Ann'"):
        store.cards.add("H10301", 1, 100, "Newcomer", serial="S-2", actor="a")
    with pytest.raises(StoreError, match="serial 'S-1' is already used by H10301:1:100"):
        store.cards.add("H10301", 1, 101, "Newcomer", serial="S-1", actor="a")
    # A NULL facility is a value like any other for uniqueness.
    with pytest.raises(StoreError, match="H10302:100 is already on record"):
        store.cards.add("H10302", None, 100, "Newcomer", actor="a")
    assert _tables(db_path) == before


@pytest.mark.parametrize(
    ("fmt", "facility", "number", "message"),
    [
        ("H9999", 1, 1, "unknown Wiegand format"),
        ("H10301", 256, 1, "facility 256 is out of range"),
        ("H10301", None, 1, "needs a facility"),
        ("H10302", 3, 1, "has no facility"),
        ("H10301", 1, -1, "out of range"),
        ("RAW128", None, 2**63, "too large to store"),
    ],
)
def test_bad_fields_refused(
    store: Store, db_path: Path, fmt: str, facility: int | None, number: int, message: str
) -> None:
    with refused_changing_nothing(db_path, message):
        store.cards.add(fmt, facility, number, "Ann", actor="a")


def test_largest_storable_number(store: Store) -> None:
    store.cards.add("RAW64", None, 2**63 - 1, "Ann", actor="a")
    [(key, entry)] = store.load_cards()[0]
    assert key == card_key("RAW64", None, 2**63 - 1) and entry.status is Status.ISSUED
    assert store.cards.get(credential=("raw64", None, 2**63 - 1)) is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holder": "  "}, "holder name must not be empty"),
        ({"holder": "A\nB"}, "control character"),
        ({"holder": "x" * 201}, "limit is 200"),
        ({"group": "janitors"}, r"unknown group 'janitors' \(known: responders, staff\)"),
        ({"actor": ""}, "actor must not be empty"),
        ({"pin": "12"}, "4 to 12 digits"),
        ({"pin": 1234}, "PIN must be text"),
        ({"valid_from": datetime(2024, 1, 1)}, "no time zone"),
        ({"valid_from": T0, "valid_until": T0}, "later than valid_from"),
        ({"valid_until": float("nan")}, "finite"),
        ({"source": "cloud"}, "unknown source"),
        ({"serial": "s" * 65}, "serial is 65 characters"),
    ],
)
def test_bad_input_refused(
    store: Store, db_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"holder": "Ann", "actor": "a", **kwargs}
    with refused_changing_nothing(db_path, message):
        store.cards.add("H10301", 1, 1, **args)  # type: ignore[arg-type]


def test_validity_and_pin_reach_the_card_entry(store: Store) -> None:
    start = datetime(2024, 9, 1, 7, 30, tzinfo=timezone(timedelta(hours=-4)))
    cid = store.cards.add(
        "H10301",
        7,
        77,
        "Sub Teacher",
        group="responders",
        valid_from=start,
        valid_until=start.timestamp() + 3600.5,
        pin="2468",
        actor="a",
    )
    [(key, entry)] = store.load_cards()[0]
    groups = {g.name: g.id for g in store.groups.list()}
    assert key == card_key("H10301", 7, 77)
    assert (entry.id, entry.status, entry.group_id) == (cid, Status.ISSUED, groups["responders"])
    assert entry.valid_from == start.timestamp()
    assert entry.valid_until == start.timestamp() + 3600.5
    assert entry.pin_hash is not None and verify_pin("2468", entry.pin_hash)
    row = store.cards.get(credential=("H10301", 7, 77))
    assert row is not None and row.has_pin and row.valid_from == start
    assert row.valid_from is not None and row.valid_from.tzinfo is UTC


def test_set_and_clear_pin(store: Store) -> None:
    store.cards.add("H10301", 1, 2, "Ann", serial="P", actor="a")
    assert store.cards.set_pin(serial="P", pin="123456", actor="a").has_pin
    [(_, entry)] = store.load_cards()[0]
    assert entry.pin_hash is not None and verify_pin("123456", entry.pin_hash)
    assert "123456" not in entry.pin_hash
    assert not store.cards.set_pin(serial="P", pin=None, actor="a").has_pin
    with pytest.raises(StoreError, match="4 to 12 digits"):
        store.cards.set_pin(serial="P", pin="12ab", actor="a")
    actions = [e.detail["action"] for e in store.events.query(limit=2) if e.detail]
    assert actions == ["clear_pin", "set_pin"]


def test_list_search_count_and_paging(store: Store) -> None:
    store.holders.add("Officer Diaz", agency="County Sheriff", actor="a")
    store.cards.add("H10301", 10, 500, "Officer Diaz", serial="PD-9", group="responders", actor="a")
    store.cards.add("H10301", 10, 501, "Ann Lee", serial="T-1", actor="a")
    store.cards.add("H10302", None, 777, "Bo 100%", actor="a")

    def found(**kw: object) -> list[str]:
        return [r.credential for r in store.cards.list(**kw)]  # type: ignore[arg-type]

    assert found(search="sheriff") == ["H10301:10:500"]
    assert found(search="diaz") == ["H10301:10:500"]
    assert found(search="pd-9") == ["H10301:10:500"]
    assert found(search="777") == ["H10302:777"]
    assert found(search="h10301:10:501") == ["H10301:10:501"]
    assert found(search="100%") == ["H10302:777"]
    assert found(search="%") == ["H10302:777"]  # LIKE wildcards are literal
    assert found(holder="Ann Lee") == ["H10301:10:501"]
    assert found(limit=2) == ["H10302:777", "H10301:10:501"]
    assert found(limit=2, offset=2) == ["H10301:10:500"]
    assert store.cards.count() == 3
    assert store.cards.count(search="10") == 1  # "Bo 100%": digits match whole numbers only
    assert store.cards.list()[2].agency == "County Sheriff"
    with pytest.raises(StoreError, match="limit"):
        store.cards.list(limit=0)
    with pytest.raises(StoreError, match="offset"):
        store.cards.list(offset=-1)


def test_card_details(store: Store) -> None:
    cid = store.cards.add("H10301", 1, 1, "Ann", serial="S9", actor="a")
    assert store.cards.details(cid) == ("Ann", "S9")
    assert store.cards.details(cid + 1000) == (None, None)


def test_get_credential_missing_is_none(store: Store) -> None:
    assert store.cards.get(serial="nothing") is None
    with pytest.raises(StoreError, match="not both"):
        store.cards.get()


def test_add_and_update_holder(store: Store) -> None:
    store.holders.add("Ann", agency="District", badge="B1", actor="a")
    with pytest.raises(StoreError, match="holder 'Ann' already exists"):
        store.holders.add("Ann", actor="a")
    rev = store.current_rev()
    store.holders.update("Ann", new_name="Ann Lee", badge=None, contact="x101", actor="b")
    [h] = store.holders.list()
    assert (h.name, h.agency, h.badge, h.contact) == ("Ann Lee", "District", None, "x101")
    assert store.current_rev() == rev + 1
    event = store.events.query(limit=1)[0]
    assert event.detail is not None and event.detail["name"] == {"from": "Ann", "to": "Ann Lee"}
    store.holders.update("Ann Lee", agency=UNSET, actor="b")  # nothing changes: no record
    assert store.current_rev() == rev + 1
    with pytest.raises(StoreError, match="no holder named 'Nobody'"):
        store.holders.update("Nobody", notes="x", actor="b")
    store.holders.add("Bo", actor="a")
    with pytest.raises(StoreError, match="holder 'Bo' already exists"):
        store.holders.update("Ann Lee", new_name="Bo", actor="b")


def test_issue_to_a_new_holder_with_an_agency(store: Store) -> None:
    store.cards.add("H10301", 1, 2, "Dep. Kim", holder_agency="Natrona County Sheriff", actor="a")
    [holder] = store.holders.list()
    assert (holder.name, holder.agency) == ("Dep. Kim", "Natrona County Sheriff")
    actions = [e.detail["action"] for e in store.events.query(limit=2) if e.detail]
    assert actions == ["add_credential", "add_holder"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holder": "Ann", "holder_agency": "CPD"}, "'Ann' is already on record: choose them"),
        ({"holder": "New", "holder_agency": "  "}, "agency must not be empty"),
        ({"holder": "Nobody", "holder_on_record": True}, "no holder named 'Nobody'"),
    ],
)
def test_issue_holder_rules_change_nothing(
    store: Store, kwargs: dict[str, Any], message: str
) -> None:
    store.holders.add("Ann", agency="KWHS", actor="a")
    rev, holders = store.current_rev(), store.holders.list()
    with pytest.raises(StoreError, match=message):
        store.cards.add("H10301", 1, 2, actor="a", **kwargs)
    assert (store.current_rev(), store.holders.list(), store.cards.count()) == (
        rev,
        holders,
        0,
    )


def test_update_credential_each_field_and_one_event(store: Store, clock: StepClock) -> None:
    store.holders.add("Ann", agency="KWHS", actor="a")
    store.holders.add("Bo", agency="CPD", actor="a")
    store.cards.add("H10301", 1, 2, "Ann", serial="E-1", actor="a")
    clock.advance(5)
    start = datetime(2027, 1, 1, tzinfo=UTC)
    row = store.cards.update(
        serial="E-1",
        holder="Bo",
        group="responders",
        valid_from=start,
        valid_until=start + timedelta(days=30),
        pin="4321",
        actor="web:admin",
    )
    assert (row.holder, row.agency, row.group, row.has_pin) == ("Bo", "CPD", "responders", True)
    assert row.valid_from == start and row.valid_until == start + timedelta(days=30)
    [(_, entry)] = store.load_cards()[0]
    assert entry.pin_hash is not None and verify_pin("4321", entry.pin_hash)
    event = store.events.query(limit=1)[0]
    assert (event.actor, event.credential, event.holder, event.serial) == (
        "web:admin",
        "H10301:1:2",
        "Bo",
        "E-1",
    )
    start_us = int(start.timestamp() * 1_000_000)
    assert event.detail == {
        "action": "update_credential",
        "holder": {"from": "Ann", "to": "Bo"},
        "group": {"from": "staff", "to": "responders"},
        "valid_from_us": {"from": None, "to": start_us},
        "valid_until_us": {"from": None, "to": start_us + 30 * 86_400_000_000},
        "pin": "set",
    }
    cleared = store.cards.update(credential=("H10301", 1, 2), valid_from=None, pin=None, actor="b")
    assert cleared.valid_from is None and not cleared.has_pin and cleared.valid_until is not None
    detail = store.events.query(limit=1)[0].detail
    assert detail is not None and detail["pin"] == "cleared" and "valid_until_us" not in detail


def test_update_to_a_new_holder_and_a_no_op_records_nothing(store: Store) -> None:
    store.cards.add("H10301", 1, 2, "Ann", serial="E-1", actor="a")
    row = store.cards.update(serial="E-1", holder="Cy", holder_agency="Fire Dept", actor="a")
    assert (row.holder, row.agency) == ("Cy", "Fire Dept")
    rev, count = store.current_rev(), len(store.events.query(limit=100))
    store.cards.update(serial="E-1", holder="Cy", group="staff", pin=None, actor="a")
    assert (store.current_rev(), len(store.events.query(limit=100))) == (rev, count)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"holder": "Nobody"}, "no holder named 'Nobody'"),
        ({"holder": "Ann", "holder_agency": "X"}, "already on record"),
        ({"holder_agency": "X"}, "an agency is given only with a new holder"),
        ({"group": "admins"}, "unknown group 'admins'"),
        ({"pin": "12"}, "4 to 12 digits"),
        ({"valid_until": datetime(2020, 1, 1, tzinfo=UTC)}, "later than valid_from"),
        ({"valid_from": datetime(2030, 1, 1)}, "has no time zone"),
        ({"holder": ""}, "holder name must not be empty"),
    ],
)
def test_bad_update_changes_nothing(store: Store, kwargs: dict[str, Any], message: str) -> None:
    store.cards.add(
        "H10301", 1, 2, "Ann", serial="E-1", valid_from=datetime(2025, 1, 1, tzinfo=UTC), actor="a"
    )
    before = (store.current_rev(), store.cards.list(), store.holders.list())
    with pytest.raises(StoreError, match=message):
        store.cards.update(serial="E-1", actor="a", **kwargs)
    assert (store.current_rev(), store.cards.list(), store.holders.list()) == before


def test_history_of_a_credential_newest_first_paged(store: Store) -> None:
    store.cards.add("H10301", 1, 2, "Ann", serial="E-1", actor="a")
    store.cards.add("H10301", 1, 3, "Bo", actor="a")
    store.cards.set_status(serial="E-1", status="lost", reason="gone", actor="a")
    store.cards.update(serial="E-1", group="responders", actor="a")
    history = store.cards.history(("h10301", 1, 2))
    assert [e.detail["action"] for e in history if e.detail] == [
        "update_credential",
        "set_status",
        "add_credential",
    ]
    older = store.cards.history(("H10301", 1, 2), limit=1, before_id=history[0].id)
    assert [e.id for e in older] == [history[1].id]
    assert store.cards.history(("H10301", 1, 9)) == []
    with pytest.raises(StoreError, match="limit must be 1 to 1000"):
        store.cards.history(("H10301", 1, 2), limit=0)


def test_a_district_credential_is_not_edited_here(store: Store) -> None:
    add_district_card(store, 7001, "Ofc. Diaz", serial="PD-1")
    store.holders.add("Ann", agency="KWHS", actor="a")
    rev = store.current_rev()
    with pytest.raises(DistrictOwned, match="change it at the district console"):
        store.cards.update(serial="PD-1", holder="Ann", actor="a")
    assert store.current_rev() == rev
