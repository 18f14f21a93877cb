"""Drive a Wiegand target on a fake clock, and the waveforms, noise and garbage to drive it with.

The driver feeds edges and polls at every deadline the target asks for (as the controller's loop
does), for a ``FrameAssembler`` or a ``WiegandReader``: no threads and no wall clock.

Limits: needs ``hypothesis`` (the ``dev`` extra) for its strategies. The driver asserts as it goes
(``AssertionError`` on a busy poll, or on more than ``MAX_POLLS`` polls in a row: a stall).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from hypothesis import strategies as st

from appliance.wiegand.edges import D0, D1, HIGH, LOW, TIMEOUT, Edge
from appliance.wiegand.waveform import (
    SIA_MAX_INTERVAL_US,
    SIA_MAX_PULSE_US,
    SIA_MIN_INTERVAL_US,
    SIA_MIN_PULSE_US,
)

TICK_WRAP = 2**32  # pigpio's tick
MAX_POLLS = 10  # between two edges, or after the last one: more polls than this is a stall
INTER_CARD_US = 100_000  # the shortest realistic gap between two presentations

SIA_INTERVALS = st.integers(SIA_MIN_INTERVAL_US, SIA_MAX_INTERVAL_US)
ANY_START = st.integers(10_000, 10**12)

T = TypeVar("T")


class Pollable(Protocol[T]):
    """FrameAssembler and WiegandReader: edges in, results out, time a parameter."""

    def feed(self, edge: Edge) -> list[T]: ...

    def poll(self, now_us: int) -> list[T]: ...

    def deadline_in(self, now_us: int) -> int | None: ...


class Driver(Generic[T]):
    """Feeds edges in order and polls at each deadline the target gives, on a fake clock.

    Times here are true µs; with ``wrap`` the target sees them as a wrapping tick. Every poll must
    drain what is due (no deadline of 0 right after it: a busy loop), and there are never more than
    MAX_POLLS polls in a row (a stall).
    """

    def __init__(self, target: Pollable[T], now_us: int, wrap: int | None = None) -> None:
        self.target = target
        self.now = now_us
        self.wrap = wrap
        self.out: list[tuple[int, T]] = []  # (true µs when it came out, result)

    def tick(self, t_us: int) -> int:
        """What the target sees for true µs ``t_us``: wrapped if the driver wraps."""
        return t_us % self.wrap if self.wrap else t_us

    def feed(self, edges: Iterable[Edge]) -> Driver[T]:
        """Feed ``edges`` in order, polling at every deadline that falls before each one."""
        for edge in edges:
            self.run_until(edge.t_us)
            self.now = max(self.now, edge.t_us)
            results = self.target.feed(edge._replace(t_us=self.tick(edge.t_us)))
            self.out.extend((self.now, r) for r in results)
        return self

    def run_until(self, limit_us: int | None) -> None:
        """Poll at each deadline before ``limit_us`` (None: until nothing is due)."""
        for _ in range(MAX_POLLS):
            wait = self.target.deadline_in(self.tick(self.now))
            if wait is None or (limit_us is not None and self.now + wait >= limit_us):
                return
            assert wait >= 0
            self.now += wait
            self.out.extend((self.now, r) for r in self.target.poll(self.tick(self.now)))
            after = self.target.deadline_in(self.tick(self.now))
            assert after is None or after > 0, f"due again at once after a poll at {self.now}"
        raise AssertionError(f"still something due after {MAX_POLLS} polls: a stall")

    def settle(self) -> Driver[T]:
        """Poll at each deadline until nothing is pending (input has stopped)."""
        self.run_until(None)
        assert self.target.deadline_in(self.tick(self.now)) is None
        return self

    def wait(self, us: int) -> Driver[T]:
        """Let ``us`` pass, polling at deadlines on the way."""
        self.run_until(self.now + us)
        self.now += us
        self.out.extend((self.now, r) for r in self.target.poll(self.tick(self.now)))
        return self

    def results(self) -> list[T]:
        """Everything the target gave, in order, without the times."""
        return [r for _, r in self.out]


Pulse = tuple[int, int, int]  # (line, falling edge µs, rising edge µs)


def edges_of(pulses: Iterable[Pulse]) -> list[Edge]:
    """The edges of some pulses in time order (at one instant, a pulse ends before one starts)."""
    edges = [
        Edge(line, level, t)
        for line, fall, rise in pulses
        for level, t in ((LOW, fall), (HIGH, rise))
    ]
    return sorted(edges, key=lambda e: (e.t_us, e.level == LOW))


@dataclass(frozen=True)
class Wave:
    """One frame as a reader sends it: its bits and their pulses."""

    bits: str
    pulses: tuple[Pulse, ...]

    @property
    def first_fall(self) -> int:
        return self.pulses[0][1]

    @property
    def last_fall(self) -> int:
        return self.pulses[-1][1]

    @property
    def last_edge(self) -> int:
        return self.pulses[-1][2]

    @property
    def max_interval(self) -> int | None:
        falls = [p[1] for p in self.pulses]
        return max((b - a for a, b in itertools.pairwise(falls)), default=None)

    def edges(self) -> list[Edge]:
        """The frame's edges in time order."""
        return edges_of(self.pulses)

    def shifted(self, start_us: int) -> Wave:
        """The same frame with its first falling edge at ``start_us``."""
        d = start_us - self.first_fall
        return Wave(self.bits, tuple((ln, f + d, r + d) for ln, f, r in self.pulses))


def make_wave(
    bits: str, start_us: int, interval_us: int, width_us: int, jitter: Sequence[int]
) -> Wave:
    """A frame with each interval ``interval_us`` off by ``jitter[i]`` per mille."""
    pulses, t = [], start_us
    for i, bit in enumerate(bits):
        pulses.append((D1 if bit == "1" else D0, t, t + width_us))
        if i < len(bits) - 1:
            t += interval_us + interval_us * jitter[i] // 1000
    return Wave(bits, tuple(pulses))


@st.composite
def waves(
    draw: st.DrawFn,
    bits: st.SearchStrategy[str],
    intervals: st.SearchStrategy[int] = SIA_INTERVALS,
    start: st.SearchStrategy[int] = ANY_START,
) -> Wave:
    """A frame from a reader with a random bit interval (±5 % per bit) and pulse width."""
    b = draw(bits)
    interval = draw(intervals)
    width = draw(st.integers(SIA_MIN_PULSE_US, SIA_MAX_PULSE_US))
    jitter = draw(st.lists(st.integers(-50, 50), min_size=len(b) - 1, max_size=len(b) - 1))
    return make_wave(b, draw(start), interval, width, jitter)


# A noise pulse: (line, anywhere / over an edge / over a gap's end, which/where, lead, width).
NoiseSpec = tuple[int, str, int, int, int]
noise_specs = st.lists(
    st.tuples(
        st.sampled_from([D0, D1]),
        st.sampled_from(["anywhere", "edge", "gap"]),
        st.integers(0, 10**9),
        st.integers(1, SIA_MIN_PULSE_US),
        st.integers(2, SIA_MIN_PULSE_US - 1),
    ),
    max_size=8,
)


def with_noise(pulses: Sequence[Pulse], specs: Iterable[NoiseSpec]) -> tuple[list[Pulse], int]:
    """Add noise pulses where a line is idle (over a pulse on the other line too); say how many."""
    lo, hi = pulses[0][1] - 3_000, pulses[-1][2] + 3_000
    # Instants where a glitch is most likely to hurt: every edge, and where a gap might end.
    last_fall = pulses[-1][1]
    intervals = [b[1] - a[1] for a, b in itertools.pairwise(pulses)]
    gaps = [last_fall + max(1_000, 3 * max(intervals, default=0)), last_fall + 25_000]
    anchors = {"edge": [t for _, f, r in pulses for t in (f, r)], "gap": gaps}
    placed = list(pulses)
    added = 0
    for line, near, where, offset, width in specs:
        if near == "anywhere":
            fall = lo + where % (hi - lo)
        else:
            # low before the instant, high after it: the case a driver's poll has to survive
            fall = anchors[near][where % len(anchors[near])] - min(offset, width - 1)
        rise = fall + width
        if any(ln == line and fall <= r and f <= rise for ln, f, r in placed):
            continue  # the line is busy then: a line cannot go low twice
        placed.append((line, fall, rise))
        added += 1
    return placed, added


def bit_strings(min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Strings of '0'/'1' of a length in the range."""
    return st.text("01", min_size=min_size, max_size=max_size)


def gap_bound(w: Wave) -> int:
    """Latest time the frame may complete without frame_bits: 3 of its own intervals (>= 1 ms)."""
    assert w.max_interval is not None
    return w.last_fall + max(1_000, 3 * w.max_interval)


# (line, level, step µs): unknown lines and levels too, and time running backwards
garbage = st.lists(
    st.tuples(
        st.sampled_from([D0, D1, D0, D1, 2, -1]),
        st.sampled_from([LOW, HIGH, LOW, HIGH, TIMEOUT, 7]),
        st.one_of(st.integers(0, 150), st.integers(-60, 0), st.integers(0, 120_000)),
    ),
    max_size=200,
)


def garbage_edges(steps: Iterable[tuple[int, int, int]], start_us: int) -> list[Edge]:
    """Edges from ``garbage`` steps, each ``step`` µs after the last (backwards too)."""
    edges, t = [], start_us
    for line, level, step in steps:
        t += step
        edges.append(Edge(line, level, t))
    return edges
