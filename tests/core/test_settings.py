"""The door settings an admin may change: each one's limits, and every bad value named."""

from __future__ import annotations

import math

import pytest

from appliance.core import settings as core
from appliance.core.settings import (
    EDITABLE_SETTINGS,
    REX_MODES,
    SECONDS_LIMITS,
    SettingError,
    check_setting,
)


def test_the_editable_settings_and_their_limits() -> None:
    assert EDITABLE_SETTINGS == ("unlock_seconds", "held_open_seconds", "rex_mode")
    assert SECONDS_LIMITS == {"unlock_seconds": (0.1, 3600.0), "held_open_seconds": (1.0, 86400.0)}
    assert REX_MODES == ("unlock", "shunt")
    assert issubclass(SettingError, ValueError)


@pytest.mark.parametrize("key", sorted(SECONDS_LIMITS))
def test_every_seconds_setting_takes_its_bounds_and_refuses_just_outside(key: str) -> None:
    low, high = SECONDS_LIMITS[key]
    assert check_setting(key, low) == low
    assert check_setting(key, high) == high
    assert check_setting(key, (low + high) / 2) == (low + high) / 2
    for outside in (low - 0.01, high + 0.01, math.nextafter(high, math.inf)):
        with pytest.raises(SettingError) as err:
            check_setting(key, outside)
        assert str(err.value) == (
            f"{key} must be from {low:g} to {high:g} seconds, not {outside!r}"
        )


@pytest.mark.parametrize("key", sorted(SECONDS_LIMITS))
def test_a_whole_number_of_seconds_comes_back_as_a_float(key: str) -> None:
    value = check_setting(key, 30)
    assert value == 30.0 and isinstance(value, float)


@pytest.mark.parametrize("key", sorted(SECONDS_LIMITS))
@pytest.mark.parametrize("value", [True, False, "30", None, [5], b"5"])
def test_what_is_not_a_number_of_seconds_is_named(key: str, value: object) -> None:
    with pytest.raises(SettingError) as err:
        check_setting(key, value)
    assert str(err.value) == f"{key} must be a number of seconds, not {value!r}"


@pytest.mark.parametrize("key", sorted(SECONDS_LIMITS))
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_nan_and_infinity_are_out_of_range(key: str, value: float) -> None:
    with pytest.raises(SettingError, match=f"^{key} must be from .* seconds, not {value!r}$"):
        check_setting(key, value)


@pytest.mark.parametrize("mode", REX_MODES)
def test_each_rex_mode_is_taken(mode: str) -> None:
    assert check_setting("rex_mode", mode) == mode


@pytest.mark.parametrize("value", ["open", "Unlock", " shunt", "", 1, None, True])
def test_a_bad_rex_mode_is_named(value: object) -> None:
    with pytest.raises(SettingError) as err:
        check_setting("rex_mode", value)
    assert str(err.value) == f"rex_mode must be one of unlock, shunt, not {value!r}"


@pytest.mark.parametrize("key", ["lock_type", "unlock", "", "UNLOCK_SECONDS"])
def test_a_setting_that_cannot_be_changed_here_is_named_with_those_that_can(key: str) -> None:
    with pytest.raises(SettingError) as err:
        check_setting(key, 5)
    assert str(err.value) == (
        f"{key!r} is not a door setting that can be changed here "
        "(those are unlock_seconds, held_open_seconds, rex_mode)"
    )


def test_the_door_and_the_admin_page_check_with_the_same_code() -> None:
    from appliance import door
    from webui import settings as page

    assert door.check_setting is core.check_setting
    assert door.SettingError is core.SettingError
    assert vars(page)["check_setting"] is core.check_setting
    assert vars(page)["EDITABLE_SETTINGS"] is core.EDITABLE_SETTINGS
