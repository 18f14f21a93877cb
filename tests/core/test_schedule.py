"""Weekly schedules and holidays, checked in core: what is taken, and every refusal's message."""

from __future__ import annotations

import ast
import re
import sys
from contextlib import AbstractContextManager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.core import schedule as sched
from appliance.core.model import Window
from appliance.core.schedule import (
    DAY_NAMES,
    MAX_HOLIDAYS,
    MAX_WINDOWS,
    ScheduleError,
    ScheduleWindow,
    clock_time,
    days,
    holiday,
    holidays,
    minutes,
    schedule,
    to_window,
    window,
)

W = "schedule window 1"
ROOT = Path(__file__).resolve().parents[2]


def refused(message: str) -> AbstractContextManager[Any]:
    """pytest.raises for a ScheduleError whose whole message is ``message``."""
    return pytest.raises(ScheduleError, match=f"^{re.escape(message)}$")


def test_a_schedule_error_is_a_value_error() -> None:
    # pydantic (the config file) reports a ValueError's message under its key
    assert issubclass(ScheduleError, ValueError)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("mon-fri", (0, 1, 2, 3, 4)),
        ("sat,sun", (5, 6)),
        ("fri-mon", (0, 4, 5, 6)),  # a range may wrap the week
        ("sun-sun", (6,)),
        ("Monday, wednesday ,FRI", (0, 2, 4)),
        ("tuesday-thursday", (1, 2, 3)),
        ("daily", tuple(range(7))),
        (" Every Day ", tuple(range(7))),
        ("all", tuple(range(7))),
        ([6, 0, 0, 3], (0, 3, 6)),
        ((5,), (5,)),
    ],
)
def test_days(value: object, expected: tuple[int, ...]) -> None:
    assert days(value, W) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mon-fry", f"{W}: unknown day 'fry': expected mon, tue, ..., sun"),
        ("", f"{W}: unknown day '': expected mon, tue, ..., sun"),
        ("mon,,tue", f"{W}: unknown day '': expected mon, tue, ..., sun"),
        ([7], f"{W}: day 7 is not 0 (Monday) to 6 (Sunday)"),
        ([-1], f"{W}: day -1 is not 0 (Monday) to 6 (Sunday)"),
        ([True], f"{W}: day True is not 0 (Monday) to 6 (Sunday)"),
        (["mon"], f"{W}: day 'mon' is not 0 (Monday) to 6 (Sunday)"),
        ([], f"{W}: no days given"),
        (5, f"{W}: days must be like 'mon-fri' or a list of 0..6"),
        (None, f"{W}: days must be like 'mon-fri' or a list of 0..6"),
    ],
)
def test_bad_days_are_named(value: object, message: str) -> None:
    with refused(message):
        days(value, W)


@given(st.sampled_from(range(7)), st.sampled_from(range(7)))
def test_a_day_range_runs_forward_from_its_first_day_to_its_last(a: int, b: int) -> None:
    found = days(f"{DAY_NAMES[a]}-{DAY_NAMES[b]}", W)
    assert a in found and b in found
    assert len(found) == (b - a) % 7 + 1


@pytest.mark.parametrize(
    ("value", "end", "expected"),
    [
        ("7:30", False, "07:30"),
        (" 23:59 ", False, "23:59"),
        ("00:00", False, "00:00"),
        ("24:00", True, "24:00"),
        ("08:05", True, "08:05"),
    ],
)
def test_clock_time(value: str, end: bool, expected: str) -> None:
    assert clock_time(value, W, end=end) == expected


@pytest.mark.parametrize(
    ("value", "end", "message"),
    [
        ("24:00", False, f"{W}: time '24:00' is not a time of day (00:00 to 23:59)"),
        ("24:01", True, f"{W}: time '24:01' is not a time of day (00:00 to 23:59)"),
        ("12:60", False, f"{W}: time '12:60' is not a time of day (00:00 to 23:59)"),
        ("7.30", False, f"{W}: time '7.30' is not HH:MM"),
        ("7:3", False, f"{W}: time '7:3' is not HH:MM"),
        ("123:00", False, f"{W}: time '123:00' is not HH:MM"),
        (730, False, f"{W}: time 730 is not HH:MM"),
        (None, True, f"{W}: time None is not HH:MM"),
    ],
)
def test_bad_times_are_named(value: object, end: bool, message: str) -> None:
    with refused(message):
        clock_time(value, W, end=end)


def test_minutes() -> None:
    assert [minutes(t) for t in ("00:00", "07:30", "23:59", "24:00")] == [0, 450, 1439, 1440]


def test_a_window_from_a_mapping_or_a_window() -> None:
    checked = window({"days": "mon-fri", "start": "7:30", "end": "24:00"}, 0)
    assert checked == ScheduleWindow((0, 1, 2, 3, 4), "07:30", "24:00")
    assert window(checked, 3) == checked
    assert checked.as_json() == {"days": [0, 1, 2, 3, 4], "start": "07:30", "end": "24:00"}
    # overnight: the end comes before the start
    assert window({"days": [4], "start": "22:00", "end": "02:00"}, 0).end == "02:00"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mon-fri 8-5", "schedule window 2 must be a mapping with days, start and end"),
        ({"days": "mon", "start": "08:00", "end": "09:00", "x": 1, "a": 2}, "unknown key(s) a, x"),
        ({"days": "mon", "start": "08:00"}, "schedule window 2: end is missing"),
        ({"start": "08:00", "end": "09:00"}, "schedule window 2: days is missing"),
        (
            {"days": "mon", "start": "08:00", "end": "8:00"},
            "schedule window 2: starts and ends at 08:00; for all day use always=True",
        ),
        (
            {"days": "mon", "start": "08:00", "end": "25:00"},
            "schedule window 2: time '25:00' is not a time of day (00:00 to 23:59)",
        ),
        (
            {"days": "someday", "start": "08:00", "end": "09:00"},
            "schedule window 2: unknown day 'someday': expected mon, tue, ..., sun",
        ),
    ],
)
def test_a_bad_window_is_named_by_its_number(value: object, message: str) -> None:
    with pytest.raises(ScheduleError) as err:
        window(value, 1)
    assert str(err.value).endswith(message)
    assert str(err.value).startswith("schedule window 2")


def test_a_schedule() -> None:
    assert schedule(None) == () == schedule([])
    stored = ScheduleWindow((0,), "01:00", "02:00")
    rows = [{"days": "sat", "start": "08:00", "end": "12:00"}, stored]
    assert schedule(rows) == (ScheduleWindow((5,), "08:00", "12:00"), stored)
    many = [{"days": "mon", "start": "08:00", "end": "09:00"}] * MAX_WINDOWS
    assert len(schedule(many)) == MAX_WINDOWS
    with refused(f"schedule has {MAX_WINDOWS + 1} windows; the limit is {MAX_WINDOWS}"):
        schedule([*many, many[0]])


ONE_WINDOW = {"days": "mon", "start": "1:00", "end": "2:00"}


@pytest.mark.parametrize("value", ["mon-fri", b"x", ONE_WINDOW])
def test_one_string_or_one_mapping_is_not_a_schedule(value: object) -> None:
    with refused("schedule must be a list of windows"):
        schedule(value)  # type: ignore[arg-type]


def test_the_second_bad_window_is_named_second() -> None:
    good = {"days": "mon", "start": "08:00", "end": "09:00"}
    with refused("schedule window 2: start is missing"):
        schedule([good, {"days": "mon", "end": "09:00"}])


def test_to_window_is_the_cores_window_in_minutes() -> None:
    w = to_window(ScheduleWindow((0, 6), "22:00", "24:00"))
    assert w == Window(days=frozenset({0, 6}), start=1320, end=1440)


def test_holidays() -> None:
    assert holiday("2026-12-25") == date(2026, 12, 25) == holiday(" 2026-12-25 ")
    assert holiday(date(2026, 1, 1)) == date(2026, 1, 1)
    assert holidays(["2026-12-25", date(2026, 1, 1), "2026-12-25"]) == (
        date(2026, 1, 1),
        date(2026, 12, 25),
    )
    assert holidays([]) == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("2026-02-30", "holiday '2026-02-30' is not a date YYYY-MM-DD"),
        ("12/25/2026", "holiday '12/25/2026' is not a date YYYY-MM-DD"),
        ("2026-1-1", "holiday '2026-1-1' is not a date YYYY-MM-DD"),
        (20261225, "holiday 20261225 is not a date YYYY-MM-DD"),
        (
            datetime(2026, 12, 25, 8, 0),
            "holiday 2026-12-25T08:00:00 must be a date, not a date and time",
        ),
    ],
)
def test_a_bad_holiday_is_named(value: object, message: str) -> None:
    with refused(message):
        holiday(value)


def test_holiday_lists_are_lists_and_bounded() -> None:
    with refused("holidays must be a list of dates, not one string"):
        holidays("2026-12-25")
    first = date(2000, 1, 1).toordinal()
    many = [date.fromordinal(first + i) for i in range(MAX_HOLIDAYS + 1)]
    assert len(holidays(many[:MAX_HOLIDAYS])) == MAX_HOLIDAYS
    with refused(f"{MAX_HOLIDAYS + 1} holidays given; the limit is {MAX_HOLIDAYS}"):
        holidays(many)


def test_hostile_input_is_cut_short_in_a_message() -> None:
    with refused("holiday '" + "x" * 56 + "... is not a date YYYY-MM-DD"):
        holiday("x" * 500)
    assert sched.show("x" * 500) == "'" + "x" * 56 + "..."
    assert sched.show("x" * 57) == "'" + "x" * 57 + "'"  # 59 characters: shown whole


@pytest.mark.parametrize("name", ["schedule", "settings"])
def test_the_core_modules_are_pure(name: str) -> None:
    """They import only the standard library and the core itself: no I/O, no store, no door."""
    path = ROOT / "appliance" / "core" / f"{name}.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            modules = [node.module]
        else:
            continue
        for module in modules:
            top = module.partition(".")[0]
            ok = module.startswith("appliance.core") or (
                top in sys.stdlib_module_names and top not in ("os", "socket", "sqlite3")
            )
            assert ok, f"{path.relative_to(ROOT)}:{node.lineno} imports {module}"
