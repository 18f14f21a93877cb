"""The store checks schedules with core's code: a StoreError, with core's message word for word."""

from __future__ import annotations

import re
from datetime import date

import pytest

from appliance.config import ConfigError, parse_config
from appliance.core import schedule as core
from appliance.store import ScheduleWindow, StoreError
from appliance.store import validate as v

BAD_SCHEDULES: list[object] = [
    "mon-fri",
    [{"days": "mon", "start": "08:00", "end": "08:00"}],
    [{"days": "mon", "start": "08:00", "end": "09:00"}, {"days": "xyz", "start": "1:00"}],
    [{"days": [9], "start": "08:00", "end": "09:00"}],
    [{"days": "mon", "start": "08:00", "end": "09:00"}] * (core.MAX_WINDOWS + 1),
]


def core_message(value: object) -> str:
    with pytest.raises(core.ScheduleError) as err:
        core.schedule(value)  # type: ignore[arg-type]
    return str(err.value)


@pytest.mark.parametrize("value", BAD_SCHEDULES)
def test_a_bad_schedule_is_a_store_error_with_cores_message(value: object) -> None:
    with pytest.raises(StoreError) as err:
        v.schedule(value)  # type: ignore[arg-type]
    assert not isinstance(err.value, core.ScheduleError)
    assert str(err.value) == core_message(value)


@pytest.mark.parametrize("value", ["2024-12-25", ["2024-02-30"], [3]])
def test_bad_holidays_are_a_store_error_with_cores_message(value: object) -> None:
    with pytest.raises(core.ScheduleError) as expected:
        core.holidays(value)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match=f"^{re.escape(str(expected.value))}$"):
        v.holidays(value)  # type: ignore[arg-type]


def test_good_values_pass_through_unchanged() -> None:
    rows = [{"days": "fri-mon", "start": "22:00", "end": "24:00"}]
    assert v.schedule(rows) == (ScheduleWindow((0, 4, 5, 6), "22:00", "24:00"),)
    assert v.holidays(["2024-12-25", "2024-01-01"]) == (date(2024, 1, 1), date(2024, 12, 25))
    assert ScheduleWindow is core.ScheduleWindow and v.to_window is core.to_window


def test_the_store_and_the_config_file_refuse_a_window_alike() -> None:
    bad = [{"days": "mon", "start": "07:00", "end": "25:00"}]
    message = "schedule window 1: time '25:00' is not a time of day (00:00 to 23:59)"
    with pytest.raises(StoreError) as err:
        v.schedule(bad)
    assert str(err.value) == message
    data = {
        "door": {"name": "Front", "unlocked_schedule": bad},
        "reader": {"d0": 14, "d1": 15},
        "strike": {"pin": 26},
    }
    with pytest.raises(ConfigError) as cerr:
        parse_config(data, "box.toml")
    assert str(cerr.value) == f"box.toml: door.unlocked_schedule: {message}"
