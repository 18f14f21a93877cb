"""Outputs and slow inputs through RPi.GPIO; never the card reader.

RPi.GPIO gives no edge timestamps: its callbacks are stamped whenever Python gets round to them, so
under load the Wiegand bit timing (50 µs pulses, 1-2 ms apart) is lost and frames come out wrong.
It serves relays, LEDs, the door switch and REX only; the reader uses pigpio or gpiod. Its outputs
are safe as they are: gpiozero's ``RPiGPIOPin.output_with_state`` passes ``initial=`` to
``GPIO.setup``, so the line is driven at the wanted level from the first instant.
"""

from __future__ import annotations

import importlib
from typing import Any

from appliance.hw import EdgeSource, HardwareError

__all__ = ["make_edge_source", "make_pin_factory"]


def make_pin_factory() -> Any:
    """gpiozero's ``RPiGPIOFactory`` (outputs and slow inputs only)."""
    try:
        module = importlib.import_module("gpiozero.pins.rpigpio")
        return module.RPiGPIOFactory()
    except ImportError as exc:
        raise HardwareError(
            "RPi.GPIO is not installed (apt install python3-rpi.gpio, or pip install RPi.GPIO): "
            f"{exc}"
        ) from exc
    except RuntimeError as exc:  # RPi.GPIO refuses to load off a Raspberry Pi
        raise HardwareError(f"RPi.GPIO cannot run here: {exc}") from exc


def make_edge_source(d0: int, d1: int, **options: Any) -> EdgeSource:
    """Always fails: RPi.GPIO cannot time a Wiegand reader's edges."""
    raise HardwareError(
        f"rpigpio cannot read the Wiegand reader on D0={d0}/D1={d1}: RPi.GPIO gives no edge "
        "timestamps (callbacks are stamped whenever Python gets to them, so bit timing is lost "
        "under load); use the pigpio or gpiod backend for the reader. rpigpio drives outputs and "
        "slow inputs only."
    )
