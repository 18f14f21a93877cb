"""The firmware's gpio= lines hold every output inactive (the strike locked) from boot."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.config import Config, parse_config
from appliance.firmware import (
    BEGIN,
    END,
    FirmwareConfigError,
    current_gpio_block,
    gpio_lines,
    pin_settings,
    power_on_problems,
    replace_gpio_block,
    strike_locked_high,
)


def make(
    lock_type: str = "fail_secure", active_low: bool = True, strike: int = 13, **extra: Any
) -> Config:
    data: dict[str, Any] = {
        "door": {"name": "Front", "lock_type": lock_type},
        "reader": {"d0": 8, "d1": 7},
        "strike": {"pin": strike, "active_low": active_low},
    }
    data.update(extra)
    return parse_config(data)


def line_for(config: Config, key: str) -> str:
    return next(s.line for s in pin_settings(config) if s.key == key)


# The relay is energised while locked for a maglock, only to unlock for a strike; an active-low
# relay input is energised by a low pin. Each case worked out by hand:
@pytest.mark.parametrize(
    ("lock_type", "active_low", "line"),
    [
        ("fail_secure", True, "gpio=13=op,dh"),  # off = high: locked
        ("fail_secure", False, "gpio=13=op,dl"),  # off = low: locked
        ("fail_safe", True, "gpio=13=op,dl"),  # energised = low: maglock holds
        ("fail_safe", False, "gpio=13=op,dh"),  # energised = high: maglock holds
    ],
)
def test_strike_is_held_at_its_locked_level(lock_type: str, active_low: bool, line: str) -> None:
    config = make(lock_type, active_low)
    assert line_for(config, "strike.pin") == line
    assert strike_locked_high(config) == line.endswith("dh")


def test_the_controller_builds_the_strike_at_the_same_level() -> None:
    """The firmware's level and the controller's first level are the same thing."""
    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory

    from appliance.hw import io

    for lock_type in ("fail_secure", "fail_safe"):
        for active_low in (True, False):
            config = make(lock_type, active_low)
            factory = MockFactory()
            try:
                out = io.output_pin(
                    factory,
                    13,
                    active_high=not active_low,
                    initial_active=lock_type == "fail_safe",
                )
                assert factory.pin(13).state == strike_locked_high(config), (lock_type, active_low)
                out.close()
            finally:
                factory.close()
                Device.pin_factory = None


def test_outputs_off_and_inputs_pulled() -> None:
    config = make(
        reader={"d0": 8, "d1": 7, "led_pin": 12, "led_active_low": False, "beeper_pin": 6},
        dps={"pin": 26, "pull_up": False},
        rex={"pin": 20},
        lockdown_button={"pin": 21, "pull_up": True},
    )
    lines = [s.line for s in pin_settings(config)]
    assert lines == [
        "gpio=8=ip,pu",
        "gpio=7=ip,pu",
        "gpio=13=op,dh",
        "gpio=12=op,dl",  # LED active high: off is low
        "gpio=6=op,dh",  # beeper active low (the default): off is high
        "gpio=26=ip,pd",
        "gpio=20=ip,pu",
        "gpio=21=ip,pu",
    ]
    block = gpio_lines(config)
    assert [row for row in block if row.startswith("gpio=")] == lines
    assert all(row.startswith("# ") for row in block[::2])  # a comment says why, line by line


def test_block_is_replaced_between_the_markers_only() -> None:
    text = f"[pi4]\narm_boost=1\n[all]\n{BEGIN}\ngpio=4=op,dl\n{END}\nenable_uart=1\n"
    new = replace_gpio_block(text, ["gpio=13=op,dh"])
    assert new == f"[pi4]\narm_boost=1\n[all]\n{BEGIN}\ngpio=13=op,dh\n{END}\nenable_uart=1\n"
    assert current_gpio_block(new) == ["gpio=13=op,dh"]
    assert replace_gpio_block(new, ["gpio=13=op,dh"]) == new


def test_block_without_markers_goes_under_all() -> None:
    new = replace_gpio_block("[pi4]\narm_boost=1\n", ["gpio=13=op,dh"])
    assert new == f"[pi4]\narm_boost=1\n\n[all]\n{BEGIN}\ngpio=13=op,dh\n{END}\n"
    assert current_gpio_block("[all]\n") is None


@pytest.mark.parametrize(
    "text", [f"{BEGIN}\n", f"{END}\n{BEGIN}\n", f"{BEGIN}\n{END}\n{BEGIN}\n{END}\n"]
)
def test_broken_markers_are_refused(text: str) -> None:
    with pytest.raises(FirmwareConfigError, match="fix it by hand"):
        replace_gpio_block(text, ["gpio=13=op,dh"])


def test_power_on_rule() -> None:
    # A fail-secure strike on an active-high relay, pulled down at reset: safe.
    assert power_on_problems(make("fail_secure", active_low=False, strike=13)) == []
    # Active low on a pin pulled down at reset: the relay is energised until the firmware acts.
    (problem,) = power_on_problems(make("fail_secure", active_low=True, strike=26))
    assert "strike.pin: GPIO 26 is pulled down" in problem and "unlocks the strike" in problem
    # ...but on a pin pulled up at reset it is safe.
    assert power_on_problems(make("fail_secure", active_low=True, strike=5)) == []
    # A maglock is released while unpowered anyway: no pull can hold it.
    assert power_on_problems(make("fail_safe", active_low=True, strike=26)) == []
    # An LED that lights on its reset pull, the boot's own pins, a pull-down fighting 2's pull-up.
    problems = power_on_problems(
        make(
            "fail_secure",
            active_low=False,
            reader={"d0": 14, "d1": 1, "led_pin": 5, "led_active_low": False},
            dps={"pin": 2, "pull_up": False},
        )
    )
    assert [p.split(":")[0] for p in problems] == [
        "reader.d0",
        "reader.d1",
        "reader.led_pin",
        "dps.pin",
    ]
    assert "serial console" in problems[0] and "ID EEPROM" in problems[1]
