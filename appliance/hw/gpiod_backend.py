"""The libgpiod v2 back-end: the kernel stamps every edge, so a late Python never corrupts a frame.

The kernel queues each edge event with its CLOCK_MONOTONIC timestamp the moment the line changes;
this thread only has to drain the queue before it fills. It sleeps in poll() on the request's fd
(plus a self-pipe so ``close`` is prompt): no busy loop, no fixed 10 ms polling that misses pulses.
Outputs on this back-end go through lgpio (the Pi 5 has no pigpio).
"""

from __future__ import annotations

import errno
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import gpiod
from gpiod.line import Bias, Clock, Direction, Value
from gpiod.line import Edge as LineEdge

from appliance.hw import D0, D1, HIGH, LOW, Edge, EdgeSink, EdgeSource, HardwareError

LOG = logging.getLogger(__name__)

__all__ = ["MAX_DEBOUNCE_US", "GpiodEdgeSource", "make_edge_source", "make_pin_factory"]

#: Debounce must stay below the shortest legal Wiegand pulse (20 µs) or it swallows real bits.
MAX_DEBOUNCE_US = 20
#: Kernel queue depth. The default (16 per line) holds only 16 bits if the thread is starved; this
#: holds several 48-bit frames (96 edges each) and stays under the kernel's cap of 1024.
EVENT_BUFFER_SIZE = 512
#: Seconds ``close`` waits for the reader thread (it only waits this long if a sink hangs).
CLOSE_TIMEOUT_S = 2.0

RequestLines = Callable[..., Any]


class GpiodEdgeSource(EdgeSource):
    """Edges of a reader's D0/D1 from libgpiod v2 edge events, stamped by the kernel."""

    tick_wrap = None

    def __init__(
        self,
        d0: int,
        d1: int,
        chip: str = "/dev/gpiochip0",
        debounce_us: int = 0,
        consumer: str = "doorward",
        request_lines: RequestLines | None = None,
    ) -> None:
        for name, pin in (("d0", d0), ("d1", d1)):
            if isinstance(pin, bool) or not isinstance(pin, int) or pin < 0:
                raise ValueError(f"gpiod reader: {name} must be a line offset >= 0, got {pin!r}")
        if d0 == d1:
            raise ValueError(f"gpiod reader: d0 and d1 must be different lines, both are {d0}")
        if not isinstance(chip, str) or not chip:
            raise ValueError(
                f"gpiod reader: chip must be a device path like /dev/gpiochip0, got {chip!r}"
            )
        if (
            isinstance(debounce_us, bool)
            or not isinstance(debounce_us, int)
            or not 0 <= debounce_us < MAX_DEBOUNCE_US
        ):
            raise ValueError(
                f"gpiod reader: debounce_us must be an integer from 0 to {MAX_DEBOUNCE_US - 1}, "
                f"got {debounce_us!r}: a debounce at or above the 20 µs minimum pulse swallows bits"
            )
        if not isinstance(consumer, str) or not consumer:
            raise ValueError(f"gpiod reader: consumer must be a non-empty string, got {consumer!r}")
        super().__init__(d0, d1)
        self.chip = chip
        self.debounce_us = debounce_us
        self.consumer = consumer
        # Injected by tests; None means the real library, looked up when the lines are requested.
        self._request_lines = request_lines
        self._request: Any = None
        # LineRequest needs external locking when shared across threads (levels() vs the reader).
        self._request_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake: tuple[int, int] | None = None
        self._closed = False
        self._busy = False  # the reader thread is reading or handing over events
        self._last_edge_us: int | None = None

    def start(self, sink: EdgeSink) -> None:
        """Request the lines (inputs, pull-up, both edges, monotonic clock); deliver their edges."""
        if not callable(sink):
            raise ValueError(f"gpiod reader: sink must be callable, got {sink!r}")
        with self._state_lock:
            if self._closed:
                raise RuntimeError("gpiod reader: closed; make a new one")
            if self._request is not None:
                raise RuntimeError("gpiod reader: already started")
            request = self._open()
            try:
                wake = os.pipe()
            except OSError:
                request.release()
                raise
            self._request, self._wake = request, wake
            self._thread = threading.Thread(
                target=self._run,
                args=(request, sink, wake[0]),
                name=f"gpiod-reader-{self.d0}-{self.d1}",
                daemon=True,
            )
            self._thread.start()
        LOG.info("gpiod reader: D0=%d D1=%d on %s", self.d0, self.d1, self.chip)

    def now_us(self) -> int:
        """Now on CLOCK_MONOTONIC (the events' clock), as far as every edge has been delivered.

        While events wait in the kernel or are being handed over, time is known only up to the
        last edge delivered: a busy process must not judge a frame's gap over too early.
        """
        now = time.monotonic_ns() // 1000
        last = self._last_edge_us
        if last is not None and (self._busy or self._events_waiting()):
            return min(now, last)
        return now

    def _events_waiting(self) -> bool:
        request = self._request
        if request is None:
            return False
        try:
            return bool(select.select([request.fd], [], [], 0)[0])
        except (OSError, ValueError, AttributeError):
            return False

    def levels(self) -> tuple[int, int]:
        """Current levels of D0 and D1, read from the lines."""
        with self._request_lock:
            if self._request is None:
                raise RuntimeError("gpiod reader: not started (or closed): no lines to read")
            values = self._request.get_values([self.d0, self.d1])
        d0, d1 = (HIGH if value == Value.ACTIVE else LOW for value in values)
        return d0, d1

    def close(self) -> None:
        """Stop the reader thread promptly and release the lines."""
        with self._state_lock:
            if self._closed:
                return
            self._closed = True
            thread, wake = self._thread, self._wake
        if wake is not None:
            os.write(wake[1], b"x")
        stopped = True
        if thread is not None and thread is not threading.current_thread():
            thread.join(CLOSE_TIMEOUT_S)
            stopped = not thread.is_alive()
            if not stopped:
                LOG.error(
                    "gpiod reader: thread still busy in its sink after %.0f s", CLOSE_TIMEOUT_S
                )
        with self._request_lock:
            request, self._request = self._request, None
            if request is not None:
                request.release()
        # A thread that is still running may yet poll these fds; closing them could hand their
        # numbers to another file under it, so they are left to the process's exit instead.
        if wake is not None and stopped:
            for fd in wake:
                os.close(fd)

    def _open(self) -> Any:
        request_lines = self._request_lines or gpiod.request_lines
        settings = gpiod.LineSettings(
            direction=Direction.INPUT,
            edge_detection=LineEdge.BOTH,
            bias=Bias.PULL_UP,
            event_clock=Clock.MONOTONIC,
            debounce_period=timedelta(microseconds=self.debounce_us),
        )
        try:
            return request_lines(
                self.chip,
                config={(self.d0, self.d1): settings},
                consumer=self.consumer,
                event_buffer_size=EVENT_BUFFER_SIZE,
            )
        except (OSError, ValueError) as exc:
            raise HardwareError(self._explain(exc)) from exc

    def _explain(self, exc: OSError | ValueError) -> str:
        where = f"gpiod: cannot request D0={self.d0} and D1={self.d1} on {self.chip}"
        code = exc.errno if isinstance(exc, OSError) else None
        if isinstance(exc, ValueError):
            why = (
                f"{exc}; check that the pins are BCM numbers of lines on this chip "
                "(`gpioinfo` lists them)"
            )
        elif code == errno.ENOENT:
            why = (
                "no such GPIO chip; check the chip path (`gpiodetect` lists them): the header is "
                "/dev/gpiochip0 on a Pi 1-4 and on current Pi 5 kernels, /dev/gpiochip4 on older "
                "Pi 5 kernels"
            )
        elif code in (errno.EACCES, errno.EPERM):
            why = (
                f"permission denied; the service user needs read/write access to {self.chip} "
                "(add it to the 'gpio' group, or check the udev rule for gpiochip devices)"
            )
        elif code == errno.EBUSY:
            why = (
                "a line is busy; another program or driver holds it (pigpiod, a second doorward, a "
                "dtoverlay, or the serial console on GPIO 14/15); `gpioinfo` names the consumer"
            )
        elif code in (errno.ENODEV, errno.ENOTTY):
            why = f"{self.chip} is not a GPIO chip device"
        elif code == errno.EINVAL:
            why = "the kernel refused the line settings (edge detection, pull-up or debounce)"
        else:
            why = str(exc)
        return f"{where}: {why}"

    def _run(self, request: Any, sink: EdgeSink, wake_fd: int) -> None:
        try:
            fd = request.fd
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            poller.register(wake_fd, select.POLLIN)
        except Exception:
            LOG.critical(
                "gpiod reader: cannot wait for edge events; no cards will be read", exc_info=True
            )
            return
        last_seqno = 0
        while True:
            self._busy = False
            ready = dict(poller.poll())  # blocks until an event is queued or close() wakes us
            self._busy = True
            if wake_fd in ready:
                return
            flags = ready.get(fd, 0)
            if not flags & select.POLLIN:
                LOG.critical(
                    "gpiod reader: the line request failed (poll flags %#x); no cards will be read",
                    flags,
                )
                return
            try:
                with self._request_lock:
                    if self._request is not request:
                        return
                    events = request.read_edge_events()
            except Exception:
                LOG.critical(
                    "gpiod reader: reading edge events failed; no cards will be read", exc_info=True
                )
                return
            for event in events:
                # The kernel drops the oldest events when its queue overflows; the gap shows it.
                if last_seqno and event.global_seqno > last_seqno + 1:
                    LOG.warning(
                        "gpiod reader: %d edge events lost (the reader thread fell behind)",
                        event.global_seqno - last_seqno - 1,
                    )
                last_seqno = event.global_seqno
                edge = self._to_edge(event)
                if edge is None:
                    continue
                try:
                    sink(edge)
                    self._last_edge_us = edge.t_us
                except Exception:  # one bad edge must not stop the reader for good
                    LOG.exception("gpiod reader: the edge sink failed on %s", edge)

    def _to_edge(self, event: gpiod.EdgeEvent) -> Edge | None:
        if event.line_offset == self.d0:
            line = D0
        elif event.line_offset == self.d1:
            line = D1
        else:
            LOG.warning("gpiod reader: event on unexpected line %d ignored", event.line_offset)
            return None
        level = LOW if event.event_type == gpiod.EdgeEvent.Type.FALLING_EDGE else HIGH
        return Edge(line, level, event.timestamp_ns // 1000)


def make_edge_source(
    d0: int, d1: int, chip: str = "/dev/gpiochip0", debounce_us: int = 0, consumer: str = "doorward"
) -> GpiodEdgeSource:
    """The libgpiod reader on lines ``d0``/``d1`` of ``chip``."""
    return GpiodEdgeSource(d0, d1, chip=chip, debounce_us=debounce_us, consumer=consumer)


def make_pin_factory(
    chip: str | int | None = None, debounce_us: int = 0, consumer: str = "doorward"
) -> Any:
    """The lgpio pin factory for outputs; the reader-only options are accepted and ignored."""
    from appliance.hw import lgpio_backend

    return lgpio_backend.make_pin_factory(chip=chip)
