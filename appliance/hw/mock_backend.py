"""The in-process back-end: a mock reader for tests and the demo, and pins that model the latch.

``MockEdgeSource`` plays a card's real waveform (or any edges a test makes up) into the sink.
``LatchingMockPin`` models the Raspberry Pi hazard behind relays that click at start-up: a GPIO
keeps its last output value in a latch, and switching the pin to output drives that latch at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from appliance.hw import D0, D1, HIGH, LOW, TIMEOUT, Edge, EdgeSink, EdgeSource
from appliance.wiegand.waveform import waveform

LOG = logging.getLogger(__name__)

__all__ = [
    "LatchingMockPin",
    "MockEdgeSource",
    "PlayHandle",
    "make_edge_source",
    "make_pin_factory",
]


def _default_clock() -> int:
    return time.monotonic_ns() // 1000


class PlayHandle:
    """A frame being played: wait for it, then read when its last edge went to the sink."""

    def __init__(self, edges: int) -> None:
        self.edges = edges
        #: ``time.perf_counter()`` just before the last edge went to the sink (None until then).
        self.last_edge_perf: float | None = None
        #: True when the source was closed before the frame was played out.
        self.cancelled = False
        #: What the sink raised while this frame was played, if anything.
        self.error: BaseException | None = None
        self._done = threading.Event()

    @property
    def done(self) -> bool:
        """Whether the frame has been played out (or cancelled)."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the frame is played out; False if ``timeout`` seconds passed first."""
        return self._done.wait(timeout)

    def _finish(self) -> None:
        self._done.set()


class MockEdgeSource(EdgeSource):
    """A reader in the same process: edges are injected, played from a waveform or held stuck."""

    tick_wrap = None

    def __init__(self, d0: int, d1: int, clock: Callable[[], int] | None = None) -> None:
        for name, pin in (("d0", d0), ("d1", d1)):
            if isinstance(pin, bool) or not isinstance(pin, int) or pin < 0:
                raise ValueError(f"mock reader: {name} must be a GPIO number >= 0, got {pin!r}")
        if d0 == d1:
            raise ValueError(f"mock reader: d0 and d1 must be different pins, both are {d0}")
        if clock is not None and not callable(clock):
            raise ValueError(f"mock reader: clock must be callable, got {clock!r}")
        super().__init__(d0, d1)
        self._clock = clock or _default_clock
        self._sink: EdgeSink | None = None
        self._levels = [HIGH, HIGH]
        self._levels_lock = threading.Lock()
        # One frame at a time: held while a frame, an injection or a hold is delivered. Re-entrant
        # so a sink may inject from inside its own callback without deadlocking.
        self._frame_lock = threading.RLock()
        self._closed = threading.Event()
        self._next_due: int | None = None  # while a frame plays: when its next edge is due
        self._queue: queue.Queue[tuple[PlayHandle, list[Edge]] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._worker_lock = threading.Lock()

    def start(self, sink: EdgeSink) -> None:
        """Deliver edges to ``sink`` from now on."""
        if not callable(sink):
            raise ValueError(f"mock reader: sink must be callable, got {sink!r}")
        if self._closed.is_set():
            raise RuntimeError("mock reader: closed; make a new one")
        self._sink = sink

    def now_us(self) -> int:
        """Now on the mock's clock, as far as every edge has been delivered.

        While a frame plays, time is known only up to its next edge still to come: a controller
        thread running late must not judge the frame's gap over before that edge arrives.
        """
        now = self._clock()
        pending = self._next_due
        return now if pending is None else min(now, pending - 1)

    def levels(self) -> tuple[int, int]:
        """Current levels of D0 and D1 as the delivered edges left them."""
        # Not under the frame lock: a frame in play holds that for tens of milliseconds.
        with self._levels_lock:
            return self._levels[D0], self._levels[D1]

    def inject(self, edges: Iterable[Edge]) -> None:
        """Deliver ``edges`` now, timestamps as given (none is delivered if one is bad)."""
        checked = [_check_edge(edge) for edge in edges]
        with self._frame_lock:
            sink = self._require_sink()
            for edge in checked:
                self._deliver(sink, edge)

    def hold(self, line: int, level: int) -> bool:
        """Hold ``line`` at ``level`` (a stuck line); delivers the edge if the level changes."""
        if line not in (D0, D1):
            raise ValueError(f"mock reader: line must be D0 ({D0}) or D1 ({D1}), got {line!r}")
        if level not in (LOW, HIGH):
            raise ValueError(
                f"mock reader: level must be LOW ({LOW}) or HIGH ({HIGH}), got {level!r}"
            )
        with self._frame_lock:
            sink = self._require_sink()
            if self._levels[line] == level:
                return False
            self._deliver(sink, Edge(line, level, self.now_us()))
            return True

    def play(
        self, bits: str, interval_us: int = 2000, pulse_us: int = 50, realtime: bool = True
    ) -> PlayHandle:
        """Play a card's waveform: in real time from a thread of the mock's own, or all at once.

        Either way the edges are stamped with their due time on the mock's clock, counted from the
        frame's start; in real time each is delivered no earlier than that time.

        Frames from concurrent calls are played one after the other, never interleaved.
        """
        if not isinstance(bits, str) or not bits:
            raise ValueError(f"mock reader: bits must be a non-empty string of 0/1, got {bits!r}")
        for name, value in (("interval_us", interval_us), ("pulse_us", pulse_us)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"mock reader: {name} must be a positive integer, got {value!r}")
        edges = waveform(bits, start_us=0, interval_us=interval_us, pulse_us=pulse_us)
        self._require_sink()
        handle = PlayHandle(len(edges))
        if realtime:
            # Under the worker lock, so close() cannot slip in between and strand this frame.
            with self._worker_lock:
                self._require_sink()
                if self._worker is None:
                    self._worker = threading.Thread(
                        target=self._play_loop, name="mock-reader", daemon=True
                    )
                    self._worker.start()
                self._queue.put((handle, edges))
            return handle
        with self._frame_lock:
            sink = self._require_sink()
            start = self.now_us()
            try:
                for i, edge in enumerate(edges):
                    if i == len(edges) - 1:
                        handle.last_edge_perf = time.perf_counter()
                    self._deliver(sink, edge._replace(t_us=start + edge.t_us))
            finally:
                self._next_due = None
                handle._finish()
        return handle

    def close(self) -> None:
        """Stop playing, cancel queued frames and stop delivering edges."""
        with self._worker_lock:
            self._closed.set()
            self._queue.put(None)
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout=5)
            if worker.is_alive():
                LOG.error("mock reader: playback thread did not stop within 5 s")
        self._sink = None

    def _require_sink(self) -> EdgeSink:
        if self._closed.is_set():
            raise RuntimeError("mock reader: closed")
        if self._sink is None:
            raise RuntimeError("mock reader: not started: call start(sink) first")
        return self._sink

    def _deliver(self, sink: EdgeSink, edge: Edge) -> None:
        if edge.level != TIMEOUT:
            with self._levels_lock:
                self._levels[edge.line] = edge.level
        sink(edge)

    def _play_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:  # close() queues this last: frames ahead of it were cancelled
                return
            handle, edges = item
            try:
                if self._closed.is_set():
                    handle.cancelled = True
                else:
                    self._play_realtime(handle, edges)
            except Exception as exc:  # a broken sink must not kill the reader thread
                LOG.exception("mock reader: sink failed while playing a frame")
                handle.error = exc
            finally:
                self._next_due = None
                handle._finish()

    def _play_realtime(self, handle: PlayHandle, edges: list[Edge]) -> None:
        with self._frame_lock:
            # Stamped like hardware: when each edge is due on the mock's clock, whenever the thread
            # gets to it (a stamp taken late would shrink a 50 µs pulse into "noise"). Scheduled
            # on the real monotonic clock, so a frozen test clock cannot hang playback.
            t0_us = self._clock()
            t0_ns = time.monotonic_ns()
            self._next_due = t0_us + edges[0].t_us if edges else None
            for i, edge in enumerate(edges):
                delay_s = (t0_ns + edge.t_us * 1000 - time.monotonic_ns()) / 1e9
                if delay_s > 0 and self._closed.wait(delay_s):
                    handle.cancelled = True
                    return
                sink = self._sink
                if sink is None or self._closed.is_set():
                    handle.cancelled = True
                    return
                if i == len(edges) - 1:
                    handle.last_edge_perf = time.perf_counter()
                self._deliver(sink, edge._replace(t_us=t0_us + edge.t_us))
                self._next_due = t0_us + edges[i + 1].t_us if i + 1 < len(edges) else None


def _check_edge(edge: Any) -> Edge:
    try:
        line, level, t_us = edge
    except (TypeError, ValueError):
        raise ValueError(f"mock reader: an edge is (line, level, t_us), got {edge!r}") from None
    if line not in (D0, D1):
        raise ValueError(f"mock reader: edge line must be D0 or D1, got {line!r} in {edge!r}")
    if level not in (LOW, HIGH, TIMEOUT):
        raise ValueError(f"mock reader: edge level must be LOW, HIGH or TIMEOUT, got {edge!r}")
    if isinstance(t_us, bool) or not isinstance(t_us, int) or t_us < 0:
        raise ValueError(f"mock reader: edge time must be an integer >= 0 µs, got {edge!r}")
    return Edge(line, level, t_us)


class LatchingMockPin(MockPin):  # type: ignore[misc]
    """A mock GPIO with an output latch that keeps its last value, as on a Raspberry Pi.

    While the pin is an input the latch is not driven; switching to output drives it at once, so
    gpiozero's stock ``output_with_state`` (output first, then the state) shows a stale level for a
    moment. This pin's ``output_with_state`` sets the latch first: no wrong level is ever driven.
    """

    def __init__(self, factory: Any, info: Any, latch: bool = False) -> None:
        self._latch = bool(latch)
        super().__init__(factory, info)

    @property
    def latch(self) -> bool:
        """The level the pin drives whenever it is an output."""
        return self._latch

    @latch.setter
    def latch(self, value: bool) -> None:
        self._latch = bool(value)
        if self._function == "output":
            self._change_state(self._latch)

    def _set_function(self, value: str) -> None:
        super()._set_function(value)
        if value == "output":
            self._change_state(self._latch)

    def _set_state(self, value: float) -> None:
        super()._set_state(value)
        self._latch = bool(value)

    def output_with_state(self, state: bool) -> None:
        """Load the latch with ``state``, then switch to output: the line goes straight to it."""
        self._latch = bool(state)
        self.function = "output"


def make_pin_factory(revision: str | None = None) -> Any:
    """A gpiozero ``MockFactory`` making ``LatchingMockPin`` pins (``revision``: a Pi, in hex)."""
    return MockFactory(revision=revision, pin_class=LatchingMockPin)


def make_edge_source(d0: int, d1: int, clock: Callable[[], int] | None = None) -> MockEdgeSource:
    """The mock reader on ``d0``/``d1``."""
    return MockEdgeSource(d0, d1, clock=clock)
