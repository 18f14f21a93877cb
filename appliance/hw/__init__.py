"""Hardware behind one small interface: reader edge sources, gpiozero pin factories for outputs.

Back-ends are sibling modules (``pigpio``, ``gpiod``, ``lgpio``, ``rpigpio``, ``mock``), listed once
in ``BACKENDS`` (as python-can lists its interfaces) and chosen by name from the config, like
gpiozero's pin factories: ``edge_source(name, d0, d1)`` builds the reader's edge source and
``pin_factory(name)`` the gpiozero pin factory for the outputs. A back-end's module is imported only
when it is used. This package is the only code that imports pigpio, gpiod, lgpio or gpiozero.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from appliance.core.backends import BACKENDS, OUTPUT_BACKENDS, READER_BACKENDS, Backend, outputs_of
from appliance.wiegand.edges import D0, D1, HIGH, LOW, TIMEOUT, Edge

__all__ = [
    "BACKENDS",
    "D0",
    "D1",
    "HIGH",
    "LOW",
    "OUTPUT_BACKENDS",
    "READER_BACKENDS",
    "TIMEOUT",
    "Backend",
    "Edge",
    "EdgeSink",
    "EdgeSource",
    "HardwareError",
    "backend",
    "edge_source",
    "outputs_for",
    "pin_factory",
]

EdgeSink = Callable[[Edge], None]


class EdgeSource(ABC):
    """Delivers timestamped edges of a reader's D0/D1 lines to a sink.

    ``start`` may call the sink from a thread of its own; ``now_us`` tells the current time on the
    same clock as the edges, so the frame assembler can end a frame at a gap without the wall clock.
    """

    #: Modulus at which ``t_us`` wraps (pigpio's 32-bit tick), or None for a clock that never does.
    tick_wrap: int | None = None

    def __init__(self, d0: int, d1: int) -> None:
        self.d0 = d0
        self.d1 = d1

    @abstractmethod
    def start(self, sink: EdgeSink) -> None:
        """Begin delivering edges to ``sink``."""

    @abstractmethod
    def now_us(self) -> int:
        """Current time on the edges' clock, in microseconds (wrapping like the edges)."""

    def clock_us(self) -> int:
        """The current time on the edges' clock, for measuring latency.

        ``now_us`` may hold back to what has surely been delivered; this does not.
        """
        return self.now_us()

    @abstractmethod
    def levels(self) -> tuple[int, int]:
        """Current levels of D0 and D1 (1 = idle high)."""

    @abstractmethod
    def close(self) -> None:
        """Stop delivering edges and release the lines."""

    def __enter__(self) -> EdgeSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HardwareError(RuntimeError):
    """A back-end could not be reached or configured; the message says which and why."""


def _known(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def backend(name: str) -> Backend:
    """The registered back-end ``name``; HardwareError names the known ones otherwise."""
    try:
        return BACKENDS[name]
    except (KeyError, TypeError):
        raise HardwareError(
            f"unknown gpio backend {name!r}: expected one of {_known(tuple(BACKENDS))}"
        ) from None


def outputs_for(name: str) -> str:
    """The back-end whose pin factory drives outputs next to reader back-end ``name``."""
    backend(name)  # an unknown name: a HardwareError that lists the known ones
    return outputs_of(name)


def _load(name: str, loader: str) -> Callable[..., Any]:
    module_name, _, function = loader.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HardwareError(
            f"the {name} backend cannot load: {exc}; it needs {BACKENDS[name].needs}"
        ) from exc
    made: Callable[..., Any] = getattr(module, function)
    return made


def edge_source(name: str, d0: int, d1: int, **options: Any) -> EdgeSource:
    """Build the named back-end's edge source for a reader on BCM pins ``d0``/``d1``."""
    entry = BACKENDS.get(name) if isinstance(name, str) else None
    if entry is None or entry.edges is None:
        what = (
            f"the {name} backend cannot read the Wiegand reader (it drives outputs only)"
            if entry is not None
            else f"unknown gpio backend {name!r}"
        )
        raise HardwareError(f"{what}: expected one of {_known(READER_BACKENDS)}")
    source: EdgeSource = _load(name, entry.edges)(d0, d1, **options)
    return source


def pin_factory(name: str, **options: Any) -> Any:
    """The gpiozero pin factory that drives outputs for the named back-end.

    A reader back-end without pins of its own (gpiod) gets the one it names (lgpio).
    """
    target = outputs_for(name)
    return _load(target, BACKENDS[target].pins)(**options)
