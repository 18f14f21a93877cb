"""The GPIO back-ends by name, as data: which can read a reader and which drive outputs.

Pure (strings only), so the config can check names against it and ``appliance.hw`` can build from it
without either importing the other's dependencies. ``appliance.hw`` is where they are loaded.
"""

from __future__ import annotations

from typing import NamedTuple


class Backend(NamedTuple):
    """One back-end in ``BACKENDS``: how to build its edge source and its pin factory, lazily.

    ``edges`` and ``pins`` are ``"module:function"`` loaders, imported only when used (pigpio,
    gpiod and lgpio may be absent). ``edges`` is None for a back-end that cannot time a reader's
    edges; ``pins`` may instead name another back-end whose pin factory drives this one's outputs.
    """

    edges: str | None
    pins: str
    description: str
    needs: str  # what to install when its module will not import


#: Every back-end by the name a config gives it (``gpio.backend``, ``gpio.outputs``), like
#: python-can's ``BACKENDS``: name -> (edge source factory, pin factory loader or name, ...).
BACKENDS: dict[str, Backend] = {
    "pigpio": Backend(
        "appliance.hw.pigpio_backend:make_edge_source",
        "appliance.hw.pigpio_backend:make_pin_factory",
        "pigpiod's µs-stamped callbacks for the reader; outputs through pigpiod (Pi 3, 4, CM4)",
        "the pigpio client (apt install python3-pigpio, or pip install pigpio) and pigpiod",
    ),
    "gpiod": Backend(
        "appliance.hw.gpiod_backend:make_edge_source",
        "lgpio",
        "libgpiod v2 edge events stamped by the kernel (ns); outputs through lgpio (Pi 5)",
        "libgpiod's Python binding (pip install 'gpiod>=2.2')",
    ),
    "lgpio": Backend(
        None,
        "appliance.hw.lgpio_backend:make_pin_factory",
        "outputs and slow inputs through lgpio, with pins that never glitch (Pi 5)",
        "lgpio (pip install 'doorward[lgpio]')",
    ),
    "rpigpio": Backend(
        None,
        "appliance.hw.rpigpio_backend:make_pin_factory",
        "outputs and slow inputs through RPi.GPIO (no edge timestamps: never the reader)",
        "RPi.GPIO (apt install python3-rpi.gpio, or pip install RPi.GPIO)",
    ),
    "mock": Backend(
        "appliance.hw.mock_backend:make_edge_source",
        "appliance.hw.mock_backend:make_pin_factory",
        "in-process: a reader a test or the demo plays cards on, pins that model the latch",
        "gpiozero",
    ),
}

#: The back-ends that can read a Wiegand reader (``gpio.backend``).
READER_BACKENDS = tuple(name for name, b in BACKENDS.items() if b.edges is not None)
#: The back-ends with a pin factory of their own (``gpio.outputs``).
OUTPUT_BACKENDS = tuple(name for name, b in BACKENDS.items() if ":" in b.pins)


def outputs_of(name: str) -> str:
    """The back-end whose pin factory drives outputs beside reader back-end ``name`` (KeyError if
    unknown)."""
    pins = BACKENDS[name].pins
    return name if ":" in pins else pins
