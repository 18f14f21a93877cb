"""The access policy: every reason, schedules across midnight, lockdown, PINs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core.decide import Decision, DoorState, Reason, View, decide, in_window
from appliance.core.model import CardEntry, GroupPolicy, Mode, Status, Window, card_key
from appliance.core.pins import hash_pin, validate_pin, verify_pin

TZ = ZoneInfo("America/Denver")
MON_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=TZ)  # a Monday
RESPONDERS = GroupPolicy(1, "responders", True, frozenset(), True, lockdown_immune=True)
STAFF = GroupPolicy(2, "staff", False, frozenset({"Front entrance"}), True)
WEEKDAYS = GroupPolicy(
    3,
    "day staff",
    False,
    frozenset({"Front entrance"}),
    False,
    windows=(Window(frozenset(range(5)), 7 * 60, 17 * 60 + 30),),
    holidays=frozenset({date(2026, 11, 26)}),
)
NIGHT = GroupPolicy(
    4, "night", True, frozenset(), False, windows=(Window(frozenset({4}), 22 * 60, 6 * 60),)
)
PIN_GROUP = GroupPolicy(5, "pin", True, frozenset(), True, pin_required=True)
OTHER_DOOR = GroupPolicy(6, "gym", False, frozenset({"Gym"}), True)
DOOR = DoorState("Front entrance")
PIN_HASH = hash_pin("2468")


def entry(
    card_id: int,
    group: GroupPolicy,
    status: Status = Status.ISSUED,
    valid_from: float | None = None,
    valid_until: float | None = None,
    pin_hash: str | None = None,
) -> CardEntry:
    return CardEntry(card_id, status, group.id, valid_from, valid_until, pin_hash)


def view(*entries: tuple[int, CardEntry]) -> View:
    groups = {g.id: g for g in (RESPONDERS, STAFF, WEEKDAYS, NIGHT, PIN_GROUP, OTHER_DOOR)}
    return View(dict(entries), groups)


def key(n: int) -> int:
    return card_key("H10301", 12, n)


def test_unknown_card() -> None:
    assert decide(key(1), DOOR, view(), MON_NOON) == Decision(False, Reason.UNKNOWN)


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (Status.REVOKED, Reason.REVOKED),
        (Status.LOST, Reason.LOST),
        (Status.STOLEN, Reason.STOLEN),
        (Status.RETURNED, Reason.RETURNED),
    ],
)
def test_status_denies(status: Status, reason: Reason) -> None:
    v = view((key(1), entry(7, RESPONDERS, status)))
    d = decide(key(1), DOOR, v, MON_NOON)
    assert (d.granted, d.reason, d.card_id, d.responder) == (False, reason, 7, True)


def test_responder_opens_every_door_in_lockdown() -> None:
    v = view((key(1), entry(7, RESPONDERS)))
    for door in (DOOR, DoorState("Gym", Mode.LOCKDOWN), DoorState("Front entrance", Mode.LOCKDOWN)):
        d = decide(key(1), door, v, MON_NOON)
        assert d.granted and d.reason == Reason.GRANTED and d.responder and d.group == "responders"


def test_staff_denied_in_lockdown_and_at_other_doors() -> None:
    v = view((key(2), entry(8, STAFF)), (key(3), entry(9, OTHER_DOOR)))
    assert decide(key(2), DOOR, v, MON_NOON).granted
    assert (
        decide(key(2), DoorState("Front entrance", Mode.LOCKDOWN), v, MON_NOON).reason
        == Reason.LOCKDOWN
    )
    assert decide(key(2), DoorState("Gym"), v, MON_NOON).reason == Reason.NO_ACCESS
    assert decide(key(3), DOOR, v, MON_NOON).reason == Reason.NO_ACCESS


def test_validity_bounds() -> None:
    ts = MON_NOON.timestamp()
    v = view(
        (key(1), entry(1, STAFF, valid_from=ts + 1)),
        (key(2), entry(2, STAFF, valid_until=ts)),
        (key(3), entry(3, STAFF, valid_from=ts, valid_until=ts + 1)),
    )
    assert decide(key(1), DOOR, v, MON_NOON).reason == Reason.NOT_YET_VALID
    assert decide(key(2), DOOR, v, MON_NOON).reason == Reason.EXPIRED
    assert decide(key(3), DOOR, v, MON_NOON).granted


def test_schedule_and_holiday() -> None:
    v = view((key(1), entry(1, WEEKDAYS)))
    assert decide(key(1), DOOR, v, MON_NOON).granted
    assert (
        decide(key(1), DOOR, v, MON_NOON.replace(hour=6, minute=59)).reason
        == Reason.OUTSIDE_SCHEDULE
    )
    assert (
        decide(key(1), DOOR, v, MON_NOON.replace(hour=17, minute=30)).reason
        == Reason.OUTSIDE_SCHEDULE
    )
    saturday = datetime(2026, 11, 28, 12, 0, tzinfo=TZ)
    assert decide(key(1), DOOR, v, saturday).reason == Reason.OUTSIDE_SCHEDULE
    thanksgiving = datetime(2026, 11, 26, 12, 0, tzinfo=TZ)
    assert decide(key(1), DOOR, v, thanksgiving).reason == Reason.HOLIDAY


def test_window_past_midnight() -> None:
    friday_night = datetime(2026, 11, 27, 23, 0, tzinfo=TZ)
    saturday_early = datetime(2026, 11, 28, 5, 59, tzinfo=TZ)
    saturday_late = datetime(2026, 11, 28, 6, 0, tzinfo=TZ)
    thursday_night = datetime(2026, 11, 26, 23, 0, tzinfo=TZ)
    w = NIGHT.windows[0]
    assert in_window(w, friday_night) and in_window(w, saturday_early)
    assert not in_window(w, saturday_late) and not in_window(w, thursday_night)


def test_unsynchronised_clock_policy() -> None:
    v = view((key(1), entry(1, WEEKDAYS)), (key(2), entry(2, RESPONDERS)))
    unsynced = DoorState("Front entrance", clock_synced=False)
    assert decide(key(1), unsynced, v, MON_NOON).reason == Reason.CLOCK_NOT_SET
    assert decide(key(2), unsynced, v, MON_NOON).granted  # responders always work
    allow = DoorState("Front entrance", clock_synced=False, allow_scheduled_when_unsynced=True)
    assert decide(key(1), allow, v, MON_NOON).granted


def test_card_and_pin() -> None:
    v = view((key(1), entry(1, PIN_GROUP, pin_hash=PIN_HASH)), (key(2), entry(2, PIN_GROUP)))
    assert decide(key(1), DOOR, v, MON_NOON).reason == Reason.PIN_REQUIRED
    assert decide(key(1), DOOR, v, MON_NOON, pin="1111").reason == Reason.WRONG_PIN
    assert decide(key(1), DOOR, v, MON_NOON, pin="2468").granted
    assert decide(key(2), DOOR, v, MON_NOON, pin="2468").reason == Reason.PIN_REQUIRED  # none set


def test_pin_hashing() -> None:
    assert verify_pin("2468", PIN_HASH) and not verify_pin("2469", PIN_HASH)
    assert not verify_pin("2468", "garbage") and not verify_pin("2468", "scrypt$x$y$z$00$00")
    assert hash_pin("2468") != PIN_HASH  # salted
    for bad in ("123", "12a4", "1" * 13, "١٢٣٤"):
        with pytest.raises(ValueError):
            validate_pin(bad)


@given(
    st.sampled_from(["H10301", "H10306", "C1K35S", "H10304", "H10302", "C1K48S", "RAW40"]),
    st.integers(0, 2**22 - 1),
    st.integers(0, 2**35 - 1),
    st.sampled_from(["H10301", "H10306", "C1K35S", "H10304", "H10302", "C1K48S", "RAW40"]),
    st.integers(0, 2**22 - 1),
    st.integers(0, 2**35 - 1),
)
def test_card_keys_are_unique(f1: str, fac1: int, n1: int, f2: str, fac2: int, n2: int) -> None:
    a = (f1, None if f1 in ("H10302", "RAW40") else fac1, n1)
    b = (f2, None if f2 in ("H10302", "RAW40") else fac2, n2)
    assert (card_key(*a) == card_key(*b)) == (a == b)
