"""Door outputs (strike relay, reader LED and beeper) and inputs (DPS, REX) over gpiozero.

The door logic uses these and never imports gpiozero. The pin factory they take comes from the one
back-end registry, ``appliance.hw.pin_factory(name)`` (see ``hw.BACKENDS``). An output is
glitch-free because the factories' pin classes set the level before (or as) the line becomes an
output: ``LatchingMockPin``, lgpio's ``SafeLGPIOPin``, pigpio's and RPi.GPIO's own
``output_with_state``. So a relay built with ``initial_active=False`` is never driven to its active
level while it is being set up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from gpiozero import DigitalInputDevice, DigitalOutputDevice
from gpiozero.exc import GPIOZeroError

from appliance.hw import HardwareError

LOG = logging.getLogger(__name__)

__all__ = ["Input", "InputPin", "Output", "OutputPin", "input_pin", "output_pin"]


class Output(Protocol):
    """A digital output the door drives (what door tests fake)."""

    @property
    def is_active(self) -> bool: ...

    def on(self) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None: ...


class Input(Protocol):
    """A digital input the door watches (what door tests fake)."""

    @property
    def is_active(self) -> bool: ...

    def close(self) -> None: ...


@contextmanager
def _hardware(what: str) -> Iterator[None]:
    try:
        yield
    except GPIOZeroError as exc:
        raise HardwareError(f"{what}: {exc}") from exc


def _check_pin(pin: int) -> None:
    if isinstance(pin, bool) or not isinstance(pin, int) or pin < 0:
        raise ValueError(f"GPIO pin must be a BCM number >= 0, got {pin!r}")


class _Pin:
    """One GPIO's gpiozero device: its active level read, and its release."""

    def __init__(self, device: Any, pin: int) -> None:
        self._device = device
        self.pin_number = pin

    @property
    def is_active(self) -> bool:
        """Whether the pin is at its active level now."""
        with _hardware(f"GPIO{self.pin_number}"):
            return bool(self._device.is_active)


class OutputPin(_Pin):
    """A digital output on one GPIO: on() drives the active level, off() the other."""

    def on(self) -> None:
        """Drive the active level."""
        with _hardware(f"GPIO{self.pin_number}: cannot switch on"):
            self._device.on()

    def off(self) -> None:
        """Drive the inactive level."""
        with _hardware(f"GPIO{self.pin_number}: cannot switch off"):
            self._device.off()

    def close(self) -> None:
        """Release the pin: it goes back to being an undriven input, unless ``hold`` was called."""
        self._device.close()

    def hold(self) -> None:
        """From now on, releasing this output leaves the pin driven at its level.

        gpiozero turns a closed pin back into an input (also from ``__del__``). For the strike
        relay that would let the line float, and an active-low relay on a pulled-down pin would
        energise: after a stop the lock must stay as the controller left it.
        """
        pin = self._device.pin
        if pin is not None:
            pin.close = lambda: None  # shadows the pin class's close() on this instance only


class InputPin(_Pin):
    """A digital input on one GPIO, reporting each change to a callback."""

    def close(self) -> None:
        """Stop the callbacks and release the pin."""
        self._device.close()


def output_pin(
    factory: Any, pin: int, *, active_high: bool, initial_active: bool = False
) -> OutputPin:
    """An output on BCM ``pin`` that starts at ``initial_active`` without a glitch on the way."""
    _check_pin(pin)
    if not isinstance(active_high, bool) or not isinstance(initial_active, bool):
        raise ValueError(
            f"GPIO{pin}: active_high and initial_active must be True or False, "
            f"got {active_high!r} and {initial_active!r}"
        )
    with _hardware(f"GPIO{pin}: cannot set up as an output"):
        device = DigitalOutputDevice(
            pin, active_high=active_high, initial_value=initial_active, pin_factory=factory
        )
    return OutputPin(device, pin)


def input_pin(
    factory: Any,
    pin: int,
    *,
    pull_up: bool | None,
    active_state: bool | None = None,
    on_change: Callable[[bool], None],
) -> InputPin:
    """An input on BCM ``pin``; ``on_change(is_active)`` runs on gpiozero's thread at each change.

    ``pull_up`` True/False sets the internal pull (active is then the opposite level); None leaves
    the line floating for an external resistor and needs ``active_state``. There is no debounce
    here: the door logic debounces with its own clock.
    """
    _check_pin(pin)
    if pull_up is not None and not isinstance(pull_up, bool):
        raise ValueError(f"GPIO{pin}: pull_up must be True, False or None, got {pull_up!r}")
    if pull_up is None and not isinstance(active_state, bool):
        raise ValueError(
            f"GPIO{pin}: a floating input (pull_up=None) needs active_state True/False"
        )
    if pull_up is not None and active_state is not None:
        raise ValueError(
            f"GPIO{pin}: active_state is implied by the pull (active = the opposite level); "
            "give it only with pull_up=None"
        )
    if not callable(on_change):
        raise ValueError(f"GPIO{pin}: on_change must be callable, got {on_change!r}")

    def report(active: bool) -> None:
        try:
            on_change(active)
        except Exception:  # gpiozero's callback thread must survive a faulty handler
            LOG.exception("GPIO%d: on_change handler failed", pin)

    with _hardware(f"GPIO{pin}: cannot set up as an input"):
        device = DigitalInputDevice(
            pin, pull_up=pull_up, active_state=active_state, bounce_time=None, pin_factory=factory
        )
    device.when_activated = lambda: report(True)
    device.when_deactivated = lambda: report(False)
    return InputPin(device, pin)
