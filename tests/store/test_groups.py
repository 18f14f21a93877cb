"""Groups: schedules, holidays, doors; validation; the fixed responders group."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from appliance.core.model import Window
from appliance.store import ModeChanged, ScheduleWindow, Store, StoreError

from .refused import refused_changing_nothing


def test_add_scheduled_group_and_load_policy(store: Store) -> None:
    gid = store.groups.add(
        "custodians",
        doors=["Front door", "Gym"],
        always=False,
        schedule=[
            {"days": "mon-fri", "start": "7:00", "end": "17:30"},
            {"days": "fri-sun", "start": "22:00", "end": "02:00"},
            {"days": [5], "start": "08:00", "end": "24:00"},
        ],
        holidays=["2024-12-25", date(2024, 1, 1), "2024-12-25"],
        pin_required=True,
        actor="a",
    )
    policy = store.load_groups()[gid]
    assert policy.name == "custodians" and not policy.all_doors and not policy.always
    assert policy.doors == frozenset({"Front door", "Gym"})
    assert policy.windows == (
        Window(frozenset({0, 1, 2, 3, 4}), 7 * 60, 17 * 60 + 30),
        Window(frozenset({4, 5, 6}), 22 * 60, 2 * 60),
        Window(frozenset({5}), 8 * 60, 24 * 60),
    )
    assert policy.holidays == frozenset({date(2024, 12, 25), date(2024, 1, 1)})
    assert policy.pin_required and not policy.lockdown_immune
    row = {g.name: g for g in store.groups.list()}["custodians"]
    assert row.schedule[0] == ScheduleWindow((0, 1, 2, 3, 4), "07:00", "17:30")
    assert row.holidays == (date(2024, 1, 1), date(2024, 12, 25))
    assert not row.builtin


def test_all_doors_group(store: Store) -> None:
    gid = store.groups.add("district", doors=None, lockdown_immune=True, actor="a")
    policy = store.load_groups()[gid]
    assert policy.all_doors and policy.always and policy.lockdown_immune and policy.windows == ()


BAD_GROUPS: list[tuple[dict[str, Any], str]] = [
    ({"name": "staff"}, "group 'staff' already exists"),
    ({"name": " "}, "group name must not be empty"),
    ({"doors": []}, "at least one door"),
    ({"doors": "Gym"}, "not one string"),
    ({"always": False}, "needs a schedule"),
    ({"schedule": [{"days": "mon", "start": "1:00", "end": "2:00"}]}, "takes no schedule"),
    ({"always": 1}, "always must be True or False"),
    ({"lockdown_immune": "yes"}, "lockdown_immune must be True or False"),
    (
        {"always": False, "schedule": [{"days": "funday", "start": "1:00", "end": "2:00"}]},
        "unknown day 'funday'",
    ),
    (
        {"always": False, "schedule": [{"days": [7], "start": "1:00", "end": "2:00"}]},
        "day 7 is not",
    ),
    ({"always": False, "schedule": [{"days": [True], "start": "1:00", "end": "2:00"}]}, "day True"),
    (
        {"always": False, "schedule": [{"days": "mon", "start": "25:00", "end": "2:00"}]},
        "not a time of day",
    ),
    (
        {"always": False, "schedule": [{"days": "mon", "start": "24:00", "end": "2:00"}]},
        "not a time of day",
    ),
    (
        {"always": False, "schedule": [{"days": "mon", "start": "7am", "end": "2:00"}]},
        "is not HH:MM",
    ),
    (
        {"always": False, "schedule": [{"days": "mon", "start": "1:60", "end": "2:00"}]},
        "not a time of day",
    ),
    (
        {"always": False, "schedule": [{"days": "mon", "start": "2:00", "end": "02:00"}]},
        "starts and ends at 02:00",
    ),
    ({"always": False, "schedule": [{"days": "mon", "start": "1:00"}]}, "end is missing"),
    (
        {"always": False, "schedule": [{"days": "mon", "start": "1:00", "end": "2:00", "x": 1}]},
        "unknown key",
    ),
    ({"always": False, "schedule": ["mon 1-2"]}, "must be a mapping"),
    ({"always": False, "schedule": {"days": "mon"}}, "must be a list of windows"),
    ({"holidays": ["2024-02-30"]}, "is not a date"),
    ({"holidays": ["24-12-25"]}, "is not a date"),
    ({"holidays": "2024-12-25"}, "not one string"),
    ({"actor": None}, "actor is required"),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD_GROUPS)
def test_bad_groups_refused(
    store: Store, db_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    args: dict[str, Any] = {"name": "new", "actor": "a", **kwargs}
    with refused_changing_nothing(db_path, message):
        store.groups.add(**args)


def test_update_group(store: Store) -> None:
    store.groups.update(
        "staff",
        always=False,
        schedule=[{"days": "mon-fri", "start": "06:30", "end": "18:00"}],
        holidays=["2024-07-04"],
        actor="a",
    )
    staff = {g.name: g for g in store.groups.list()}["staff"]
    assert not staff.always and staff.schedule == (
        ScheduleWindow((0, 1, 2, 3, 4), "06:30", "18:00"),
    )
    event = store.events.query(limit=1)[0]
    assert event.detail is not None and event.detail["always"] == {"from": True, "to": False}
    # Back to always: the old schedule goes with it rather than being refused.
    store.groups.update("staff", always=True, actor="a")
    staff = {g.name: g for g in store.groups.list()}["staff"]
    assert staff.always and staff.schedule == () and staff.holidays == (date(2024, 7, 4),)
    store.groups.update("staff", doors=None, actor="a")
    assert {g.name: g for g in store.groups.list()}["staff"].all_doors
    with pytest.raises(StoreError, match="needs a schedule"):
        store.groups.update("staff", always=False, actor="a")
    with pytest.raises(StoreError, match="unknown group 'nope'"):
        store.groups.update("nope", always=True, actor="a")


def test_update_that_changes_nothing_records_nothing(store: Store) -> None:
    rev = store.current_rev()
    store.groups.update("staff", always=True, actor="a")
    assert store.current_rev() == rev


@pytest.mark.parametrize(
    "change",
    [
        {"lockdown_immune": False},
        {"always": False, "schedule": [{"days": "mon", "start": "1:00", "end": "2:00"}]},
        {"doors": ["Front door"]},
        {"pin_required": True},
    ],
)
def test_responders_cannot_be_weakened(store: Store, db_path: Path, change: dict[str, Any]) -> None:
    with refused_changing_nothing(db_path, "responders group cannot be changed"):
        store.groups.update("responders", actor="a", **change)


def test_a_mode_change_only_from_given_modes_is_refused_whole_otherwise(store: Store) -> None:
    store.door.set_mode("lockdown", reason="drill", actor="test")
    rev = store.current_rev()
    with pytest.raises(ModeChanged, match="now lockdown: nothing was changed"):
        store.door.set_mode("normal", reason="stale", actor="web:x", only_from=("held_unlocked",))
    assert store.current_rev() == rev and store.door.mode()[0].value == "lockdown"
    store.door.set_mode("normal", reason="drill over", actor="web:x", only_from=("lockdown",))
    assert store.door.mode()[0].value == "normal"
