"""Hardware behind one small interface: reader edge sources, gpiozero pin factories for outputs.

Back-ends are sibling modules (``pigpio``, ``gpiod``, ``mock``), chosen by name from the config,
like gpiozero's pin factories. This package is the only code that imports pigpio, gpiod or gpiozero.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from appliance.wiegand.edges import D0, D1, HIGH, LOW, TIMEOUT, Edge

__all__ = ["D0", "D1", "HIGH", "LOW", "TIMEOUT", "Edge", "EdgeSink", "EdgeSource", "HardwareError"]

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


BACKENDS = ("pigpio", "gpiod", "mock")


def edge_source(backend: str, d0: int, d1: int, **options: Any) -> EdgeSource:
    """Build the named back-end's edge source for a reader on BCM pins ``d0``/``d1``."""
    if backend not in BACKENDS:
        raise HardwareError(
            f"unknown gpio backend {backend!r}: expected one of {', '.join(BACKENDS)}"
        )
    module = importlib.import_module(f"appliance.hw.{backend}_backend")
    source: EdgeSource = module.make_edge_source(d0, d1, **options)
    return source


def pin_factory(backend: str, **options: Any) -> Any:
    """The gpiozero pin factory that drives outputs for the named back-end."""
    if backend not in (*BACKENDS, "lgpio", "rpigpio"):
        raise HardwareError(f"unknown gpio backend {backend!r}")
    module = importlib.import_module(f"appliance.hw.{backend}_backend")
    return module.make_pin_factory(**options)
