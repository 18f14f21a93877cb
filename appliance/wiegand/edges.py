"""Edges on a reader's data lines: the input of frame assembly (pure data)."""

from __future__ import annotations

from typing import NamedTuple

D0 = 0
D1 = 1
LOW = 0
HIGH = 1
TIMEOUT = 2  # a watchdog report: no level change; only its timestamp matters


class Edge(NamedTuple):
    """One level change on a reader data line, stamped by the hardware's own clock.

    ``line`` is D0 or D1; ``level`` is LOW (a pulse starts), HIGH (it ends) or TIMEOUT;
    ``t_us`` is microseconds on the source's clock (``EdgeSource.tick_wrap`` says if it wraps).
    """

    line: int
    level: int
    t_us: int
