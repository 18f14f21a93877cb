"""Outputs through lgpio (the Pi 5 way): gpiozero's LGPIOFactory with pins that never glitch.

gpiozero's stock ``LGPIOPin`` claims an output at level 0 and only then writes the wanted level, so
an active-low relay clicks on for a moment whenever it is set up. ``SafeLGPIOPin`` claims the line
as an output with its level in one call. It also skips the stock constructor's claim-as-input, which
would stop driving a level the firmware set (``gpio=`` in config.txt) until the device is built.
lgpio is optional (``pip install 'doorward[lgpio]'``) and needs the liblgpio C library.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

from gpiozero.exc import GPIOZeroError

from appliance.hw import HardwareError

__all__ = ["make_pin_factory", "pin_classes"]

_CHIP_PATH = re.compile(r"/dev/gpiochip(\d+)")


def pin_classes() -> tuple[type[Any], type[Any]]:
    """The safe (factory, pin) classes, built over whichever ``lgpio`` module is importable now."""
    try:
        lgpio = importlib.import_module("lgpio")
        stock = importlib.import_module("gpiozero.pins.lgpio")
    except ImportError as exc:
        raise HardwareError(
            "lgpio is not installed: pip install 'doorward[lgpio]' (it needs the liblgpio library, "
            f"Debian package liblgpio-dev or python3-lgpio): {exc}"
        ) from exc

    class SafeLGPIOPin(stock.LGPIOPin):  # type: ignore[misc,name-defined]
        """An lgpio pin whose output starts at the wanted level: no blip on an active-low relay."""

        def __init__(self, factory: Any, info: Any) -> None:
            # LGPIOPin.__init__ minus its claim-as-input; devices claim the line as what they need.
            super(stock.LGPIOPin, self).__init__(factory, info)
            self._pwm = None
            self._bounce = None
            self._callback = None
            self._edges = lgpio.BOTH_EDGES

        def output_with_state(self, state: bool) -> None:
            """Claim the line as an output driving ``state`` from the first instant."""
            if self._callback is not None:
                self._callback.cancel()
                self._callback = None
            lgpio.gpio_claim_output(self.factory._handle, self._number, int(bool(state)))

    class SafeLGPIOFactory(stock.LGPIOFactory):  # type: ignore[misc,name-defined]
        """gpiozero's LGPIOFactory making ``SafeLGPIOPin`` pins."""

        def __init__(self, chip: int | None = None) -> None:
            super().__init__(chip=chip)
            self.pin_class = SafeLGPIOPin

    return SafeLGPIOFactory, SafeLGPIOPin


def make_pin_factory(chip: int | str | None = None) -> Any:
    """An lgpio pin factory with safe outputs; ``chip`` is N or "/dev/gpiochipN" (None: auto)."""
    number = _chip_number(chip)
    factory_class, _ = pin_classes()
    lgpio = importlib.import_module("lgpio")
    try:
        return factory_class(chip=number)
    except (lgpio.error, GPIOZeroError, OSError) as exc:
        where = "the GPIO chip" if number is None else f"/dev/gpiochip{number}"
        raise HardwareError(
            f"lgpio: cannot open {where}: {exc}; check that the device exists and that the "
            "service user may use it (the 'gpio' group)"
        ) from exc


def _chip_number(chip: int | str | None) -> int | None:
    if chip is None:
        return None
    if isinstance(chip, int) and not isinstance(chip, bool) and chip >= 0:
        return chip
    if isinstance(chip, str):
        match = _CHIP_PATH.fullmatch(chip)
        if match:
            return int(match.group(1))
    raise ValueError(f"lgpio: chip must be a number or a path like /dev/gpiochip0, got {chip!r}")
