"""Door outputs and inputs over gpiozero, and the pin classes that keep relays from glitching."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins import Pin

from appliance.hw import HardwareError, lgpio_backend, rpigpio_backend
from appliance.hw.io import input_pin, output_pin
from appliance.hw.mock_backend import LatchingMockPin, make_pin_factory
from appliance.testing.gpiod_lines import FakeLgpio

RELAY = 22


class StockLatchingPin(LatchingMockPin):
    """The same latch, set up the way gpiozero's stock Pin does it: output first, then the state."""

    output_with_state = Pin.output_with_state


@pytest.fixture
def factory():
    factory = make_pin_factory()
    yield factory
    factory.close()


def stale_relay_pin(factory: Any, pin_class: type[LatchingMockPin] = LatchingMockPin) -> Any:
    """An active-low relay input: the board's pull-up holds it high, the latch holds LOW (= ON)."""
    pin = factory.pin(RELAY, pin_class=pin_class, latch=False)
    pin.drive_high()
    pin.clear_states()
    return pin


def test_active_low_relay_never_sees_its_active_level_at_setup(factory):
    pin = stale_relay_pin(factory)
    relay = output_pin(factory, RELAY, active_high=False)
    assert [s.state for s in pin.states] == [True]
    assert not relay.is_active and relay.pin_number == RELAY
    relay.on()
    assert relay.is_active and pin.state is False
    relay.off()
    pin.assert_states([True, False, True])
    relay.close()


def test_stock_gpiozero_output_on_a_stale_latch_drives_it_for_a_moment(factory):
    pin = stale_relay_pin(factory, StockLatchingPin)
    relay = DigitalOutputDevice(RELAY, active_high=False, initial_value=False, pin_factory=factory)
    assert not relay.is_active
    # The hazard: the relay was switched ON (LOW) for a moment before being turned off.
    assert [s.state for s in pin.states] == [True, False, True]
    relay.close()


def test_initially_active_output_goes_straight_to_active(factory):
    pin = factory.pin(23)
    pin.clear_states()
    led = output_pin(factory, 23, active_high=True, initial_active=True)
    assert led.is_active
    assert [s.state for s in pin.states] == [False, True]
    led.close()


def test_close_releases_the_output(factory):
    relay = output_pin(factory, RELAY, active_high=False)
    with pytest.raises(HardwareError, match="GPIO22"):
        output_pin(factory, RELAY, active_high=True)  # in use
    relay.close()
    assert factory.pin(RELAY).function == "input"
    with pytest.raises(HardwareError, match="cannot switch on"):
        relay.on()
    again = output_pin(factory, RELAY, active_high=True)
    again.close()


def test_input_reports_changes_and_stops_after_close(factory):
    changes: list[bool] = []
    door = input_pin(factory, 5, pull_up=True, on_change=changes.append)
    pin = factory.pin(5)
    assert pin.pull == "up" and not door.is_active
    pin.drive_low()
    assert door.is_active
    pin.drive_high()
    pin.drive_high()  # no change, no callback
    assert changes == [True, False]
    door.close()
    assert pin.when_changed is None
    with pytest.raises(HardwareError):
        _ = door.is_active
    again = input_pin(factory, 5, pull_up=False, on_change=changes.append)
    again.close()


def test_floating_input_with_an_external_resistor(factory):
    changes: list[bool] = []
    rex = input_pin(factory, 6, pull_up=None, active_state=True, on_change=changes.append)
    factory.pin(6).drive_high()
    assert rex.is_active and changes == [True]
    rex.close()


def test_a_failing_handler_is_logged_and_the_next_change_still_reported(factory, caplog):
    seen: list[bool] = []

    def handler(active: bool) -> None:
        seen.append(active)
        if active:
            raise RuntimeError("door logic bug")

    dps = input_pin(factory, 7, pull_up=True, on_change=handler)
    with caplog.at_level(logging.ERROR, logger="appliance.hw.io"):
        factory.pin(7).drive_low()
    assert "GPIO7: on_change handler failed" in caplog.text
    factory.pin(7).drive_high()
    assert seen == [True, False]
    dps.close()


@pytest.mark.parametrize("pin", [True, -1, "17", 1.0])
def test_bad_pin_numbers_are_rejected(factory, pin):
    with pytest.raises(ValueError, match="BCM"):
        output_pin(factory, pin, active_high=True)
    with pytest.raises(ValueError, match="BCM"):
        input_pin(factory, pin, pull_up=True, on_change=print)


def test_pins_the_board_does_not_have_are_hardware_errors(factory):
    with pytest.raises(HardwareError, match="GPIO99"):
        output_pin(factory, 99, active_high=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pull_up": True, "active_state": True}, "implied by the pull"),
        ({"pull_up": None}, "needs active_state"),
        ({"pull_up": "yes"}, "pull_up must be"),
        ({"pull_up": True, "on_change": None}, "on_change must be callable"),
    ],
)
def test_bad_input_settings_are_rejected(factory, kwargs, match):
    kwargs.setdefault("on_change", print)
    with pytest.raises(ValueError, match=match):
        input_pin(factory, 8, **kwargs)
    assert 8 not in [int(info.name[4:]) for info in factory.pins]


def test_output_flags_must_be_booleans(factory):
    with pytest.raises(ValueError, match="active_high"):
        output_pin(factory, RELAY, active_high=1)  # type: ignore[arg-type]


# --- lgpio: the Pi 5 output path, against a fake lgpio module -----------------------------------


@pytest.fixture
def fake_lgpio(monkeypatch):
    fake = FakeLgpio()
    monkeypatch.setitem(sys.modules, "lgpio", fake)
    monkeypatch.setattr("gpiozero.pins.local.get_pi_revision", lambda: 0xA02082)
    # gpiozero.pins.lgpio binds `lgpio` at import: import it afresh over the fake, forget it after.
    saved = sys.modules.pop("gpiozero.pins.lgpio", None)
    yield fake
    sys.modules.pop("gpiozero.pins.lgpio", None)
    if saved is not None:
        sys.modules["gpiozero.pins.lgpio"] = saved


def test_lgpio_relay_is_claimed_at_its_inactive_level_in_one_call(fake_lgpio):
    factory = lgpio_backend.make_pin_factory(chip="/dev/gpiochip0")
    try:
        relay = output_pin(factory, RELAY, active_high=False)
        assert fake_lgpio.driven[RELAY] == [1]
        assert ("claim_input", RELAY) not in fake_lgpio.calls  # never left undriven on the way
        relay.on()
        relay.off()
        assert fake_lgpio.driven[RELAY] == [1, 0, 1]
        relay.close()
        assert fake_lgpio.calls[-1] == ("claim_input", RELAY)
    finally:
        factory.close()


def test_stock_lgpio_pin_claims_low_first_then_writes(fake_lgpio):
    stock = importlib.import_module("gpiozero.pins.lgpio")
    factory = stock.LGPIOFactory(chip=0)
    try:
        DigitalOutputDevice(23, active_high=False, initial_value=False, pin_factory=factory)
        assert fake_lgpio.driven[23] == [0, 1]  # the relay clicks on for a moment
    finally:
        factory.close()


def test_lgpio_chip_option(fake_lgpio):
    with pytest.raises(ValueError, match="gpiochip"):
        lgpio_backend.make_pin_factory(chip="gpiochip0")
    with pytest.raises(ValueError, match="gpiochip"):
        lgpio_backend.make_pin_factory(chip=-1)
    factory = lgpio_backend.make_pin_factory(chip=4)
    assert factory.chip == 4
    factory.close()
    fake_lgpio.fail_open = True
    with pytest.raises(HardwareError, match="/dev/gpiochip0"):
        lgpio_backend.make_pin_factory(chip=0)


def test_lgpio_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lgpio", None)
    monkeypatch.setitem(sys.modules, "gpiozero.pins.lgpio", None)
    with pytest.raises(HardwareError, match="lgpio is not installed"):
        lgpio_backend.make_pin_factory()


# --- RPi.GPIO: outputs only ---------------------------------------------------------------------


def test_rpigpio_never_serves_the_reader():
    with pytest.raises(HardwareError, match="no edge timestamps"):
        rpigpio_backend.make_edge_source(17, 27)


def test_rpigpio_missing_is_a_hardware_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "RPi", None)
    monkeypatch.setitem(sys.modules, "gpiozero.pins.rpigpio", None)
    with pytest.raises(HardwareError, match=r"RPi\.GPIO is not installed"):
        rpigpio_backend.make_pin_factory()


def test_a_held_output_keeps_its_level_when_released() -> None:
    from appliance.hw.mock_backend import make_pin_factory

    factory = make_pin_factory()
    strike = output_pin(factory, 26, active_high=False, initial_active=False)
    strike.hold()
    pin = factory.pin(26)
    strike.close()
    factory.close()
    assert pin.function == "output" and pin.state is True  # still driven off (high)
    other = output_pin(make_pin_factory(), 5, active_high=False, initial_active=False)
    other_pin = other._device.pin
    other.close()
    assert other_pin.function == "input"  # without hold, gpiozero releases it
