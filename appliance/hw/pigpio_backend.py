"""The pigpio back-end: reader edges from pigpiod's callbacks (µs ticks), outputs through gpiozero.

pigpiod samples the GPIO every few µs and stamps each level change with its 32-bit µs tick, so frame
assembly gets hardware timestamps however late the report arrives. The daemon is reached over its
socket (``pigpio.pi``); its address comes from the arguments, else PIGPIO_ADDR / PIGPIO_PORT.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import Any

import pigpio
from gpiozero.pins.pi import PiPin
from gpiozero.pins.pigpio import PiGPIOFactory, PiGPIOPin

from appliance.hw import D0, D1, Edge, EdgeSink, EdgeSource, HardwareError
from appliance.wiegand.waveform import SIA_MIN_PULSE_US

LOG = logging.getLogger(__name__)

TICK_WRAP = 1 << 32
_HALF_WRAP = TICK_WRAP // 2
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 8888
MAX_SYNC_FAILURES = 3  # a second apart: the daemon is gone, not busy
RESYNC_S = 1.0  # extrapolating perf_counter drifts from the daemon's tick by ppm: 1 s is plenty
# pigpiod reports edges in batches, and a busy client reads them late. now_us() answers "up to
# when has every edge surely been delivered": the daemon's tick now, less the longest delivery
# lag seen lately (decaying by LAG_DECAY_US_PER_S) and a margin, so a frame's gap is never
# judged over before its next edge has had time to arrive.
DELIVERY_MARGIN_US = 300
LAG_DECAY_US_PER_S = 5000.0
CONNECT_TIMEOUT_S = 3.0
MAX_WATCHDOG_MS = 60_000
_CMD_TICK = 16
_ERRORS = (pigpio.error, OSError, struct.error)  # a refused command, a dead socket, a short reply
_HINT = "is pigpiod running there? try `sudo systemctl start pigpiod`"
OPTIONS = ("host", "port", "glitch_us", "watchdog_ms")


def daemon_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """pigpiod's address: the arguments, else PIGPIO_ADDR / PIGPIO_PORT now, else localhost:8888."""
    if host is None:
        host = os.environ.get("PIGPIO_ADDR") or DEFAULT_HOST
    if port is None:
        raw = os.environ.get("PIGPIO_PORT") or str(DEFAULT_PORT)
        try:
            port = int(raw)
        except ValueError:
            raise HardwareError(f"PIGPIO_PORT={raw!r} is not a port number") from None
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise HardwareError(f"pigpiod port {port!r} is not a TCP port (1-65535)")
    return host, port


def _probe(host: str, port: int) -> None:
    """Fail fast with a clear error if pigpiod does not answer a TICK.

    ``pigpio.pi`` connects without a timeout, prints its errors instead of raising and blocks
    forever on a peer that accepts but does not answer; a bounded handshake first avoids all three.
    """
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S) as sock:
            sock.sendall(struct.pack("<IIII", _CMD_TICK, 0, 0, 0))
            reply = b""
            while len(reply) < 16:
                chunk = sock.recv(16 - len(reply))
                if not chunk:
                    raise ConnectionError("connection closed before a reply")
                reply += chunk
    except OSError as exc:
        raise HardwareError(f"cannot reach pigpiod at {host}:{port} ({exc}); {_HINT}") from exc
    if struct.unpack("<I", reply[:4])[0] != _CMD_TICK:
        raise HardwareError(f"{host}:{port} answered, but not like pigpiod; {_HINT}")


def _connect(host: str, port: int) -> Any:
    _probe(host, port)
    pi = pigpio.pi(host, port, show_errors=False)
    if not pi.connected:
        pi.stop()
        raise HardwareError(f"cannot connect to pigpiod at {host}:{port}; {_HINT}")
    return pi


def _check_int(name: str, value: object, low: int, high: int, why: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer {low}-{high}{why}, got {value!r}")
    return value


class PigpioEdgeSource(EdgeSource):
    """Edges of a reader's D0/D1 from pigpiod, stamped with the daemon's µs tick.

    ``glitch_us`` sets pigpiod's glitch filter: a level must hold that long to be reported, and
    every edge is then stamped that late. It must stay well below the 20 µs minimum Wiegand pulse
    or real pulses are dropped; a few µs removes ringing on long cables. ``watchdog_ms`` makes the
    daemon send a TIMEOUT edge after that long without a change on a line, so a frame can end at
    its gap even when nobody asks ``now_us``; it is set on both lines, so it fires that long after
    the frame's last edge.
    """

    tick_wrap = TICK_WRAP

    def __init__(
        self,
        d0: int,
        d1: int,
        host: str | None = None,
        port: int | None = None,
        glitch_us: int = 0,
        watchdog_ms: int = 0,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        _check_int("d0", d0, 0, 31, " (a BCM GPIO number)")
        _check_int("d1", d1, 0, 31, " (a BCM GPIO number)")
        if d0 == d1:
            raise ValueError(f"d0 and d1 must be different GPIOs, both are {d0}")
        _check_int("glitch_us", glitch_us, 0, SIA_MIN_PULSE_US - 1, " (below the minimum pulse)")
        _check_int("watchdog_ms", watchdog_ms, 0, MAX_WATCHDOG_MS)
        super().__init__(d0, d1)
        self.host, self.port = daemon_address(host, port)
        self.glitch_us, self.watchdog_ms = glitch_us, watchdog_ms
        self._clock = clock
        self._lock = threading.Lock()
        self._sink: EdgeSink | None = None
        self._callbacks: list[Any] = []
        self._closed = False
        self._edge_ref: tuple[int, float] | None = None  # (tick, clock) of the last callback
        self._last_now: int | None = None
        self._retry_at = 0.0
        self._sync_failures = 0
        self._lag, self._lag_at = 0.0, 0.0  # the longest recent delivery lag (µs) and when
        self._pi = _connect(self.host, self.port)
        try:
            for gpio in (d0, d1):
                self._pi.set_mode(gpio, pigpio.INPUT)
                self._pi.set_pull_up_down(gpio, pigpio.PUD_UP)
                # always written: 0 clears a filter or watchdog a crashed run left in the daemon
                self._pi.set_glitch_filter(gpio, glitch_us)
                self._pi.set_watchdog(gpio, watchdog_ms)
            self._sync_tick, self._sync_at = self._read_tick()
        except _ERRORS as exc:
            self._pi.stop()
            where = f"pigpiod at {self.host}:{self.port}"
            raise HardwareError(
                f"{where} could not set up the reader on GPIO {d0}/{d1}: {exc}"
            ) from exc
        self._notify_thread = getattr(getattr(self._pi, "_notify", None), "ident", None)

    def start(self, sink: EdgeSink) -> None:
        """Deliver every edge (and watchdog TIMEOUT) on D0/D1 to ``sink`` from pigpio's thread."""
        with self._lock:
            if self._closed:
                raise HardwareError("the pigpio edge source is closed")
            if self._sink is not None:
                raise HardwareError("the pigpio edge source is already started")
            self._sink = sink
        lines = {self.d0: D0, self.d1: D1}
        clock = self._clock

        def on_edge(gpio: int, level: int, tick: int) -> None:
            # the hot path: pigpio's levels 0/1/2 are LOW/HIGH/TIMEOUT already
            at = clock()
            self._edge_ref = (tick, at)
            lag = (self._sync_tick + round((at - self._sync_at) * 1e6) - tick) % TICK_WRAP
            if lag < _HALF_WRAP and lag > self._decayed_lag(at):
                self._lag, self._lag_at = lag, at
            try:
                sink(Edge(lines[gpio], level, tick))
            except Exception:  # an exception here would end pigpio's thread, and every edge after
                LOG.exception("the edge sink failed on GPIO %d level %d tick %d", gpio, level, tick)

        try:
            for gpio in (self.d0, self.d1):
                self._callbacks.append(self._pi.callback(gpio, pigpio.EITHER_EDGE, on_edge))
        except _ERRORS as exc:
            raise HardwareError(
                f"pigpiod at {self.host}:{self.port}: cannot watch the reader: {exc}"
            ) from exc

    def _read_tick(self) -> tuple[int, float]:
        before = self._clock()
        tick = int(self._pi.get_current_tick())
        return tick, (before + self._clock()) / 2

    def now_us(self) -> int:
        """The daemon's tick up to which every edge has surely been delivered (see above).

        Extrapolated from the last sync (once a second, a TICK round trip) or the last edge.
        """
        with self._lock:
            now = self._clock()
            edge = self._edge_ref
            if (
                now - self._sync_at > RESYNC_S
                and now >= self._retry_at
                and not self._closed
                and threading.get_ident()
                != self._notify_thread  # never a round trip on the hot path
            ):
                try:
                    self._sync_tick, self._sync_at = self._read_tick()
                    self._sync_failures = 0
                except _ERRORS as exc:
                    self._retry_at = now + RESYNC_S
                    self._sync_failures += 1
                    LOG.error(
                        "pigpiod at %s:%d: cannot read its tick: %s", self.host, self.port, exc
                    )
                    if self._sync_failures >= MAX_SYNC_FAILURES:
                        # The client's notification thread never recovers from a lost daemon:
                        # no more edges would arrive. Fail loudly so systemd restarts us.
                        raise HardwareError(
                            f"lost pigpiod at {self.host}:{self.port}; {_HINT}"
                        ) from exc
                now = self._clock()
            best = self._sync_tick + round((now - self._sync_at) * 1e6)
            if edge is not None:
                from_edge = edge[0] + round((now - edge[1]) * 1e6)
                if (from_edge - best) % TICK_WRAP < _HALF_WRAP:
                    best = from_edge  # the daemon's clock ran ahead of ours since the sync
            best -= round(self._decayed_lag(now)) + DELIVERY_MARGIN_US
            if (
                edge is not None
                and self._reports_waiting()
                and (best - edge[0]) % TICK_WRAP < _HALF_WRAP
            ):
                best = edge[0]  # reports are waiting to be read: time is known only up to them
            if self._last_now is not None and 0 < (self._last_now - best) % TICK_WRAP < _HALF_WRAP:
                best = self._last_now  # never backwards: an edge reported late may look older
            self._last_now = best % TICK_WRAP
            return self._last_now

    def clock_us(self) -> int:
        """The daemon's tick now, from the last sync or edge (for measuring latency)."""
        now = self._clock()
        best = self._sync_tick + round((now - self._sync_at) * 1e6)
        edge = self._edge_ref
        if edge is not None:
            from_edge = edge[0] + round((now - edge[1]) * 1e6)
            if (from_edge - best) % TICK_WRAP < _HALF_WRAP:
                best = from_edge
        return best % TICK_WRAP

    def _reports_waiting(self) -> bool:
        # Unread reports on pigpio's notification socket: a busy process may not have read them
        # yet. (pigpio 1.78 keeps that socket at pi._notify.sl.s.)
        sock = getattr(getattr(getattr(self._pi, "_notify", None), "sl", None), "s", None)
        if sock is None:
            return False
        try:
            return bool(select.select([sock], [], [], 0)[0])
        except (OSError, ValueError):
            return False

    def _decayed_lag(self, at: float) -> float:
        return max(0.0, self._lag - (at - self._lag_at) * LAG_DECAY_US_PER_S)

    def levels(self) -> tuple[int, int]:
        """Current levels of D0 and D1 as the daemon reads them."""
        try:
            return int(self._pi.read(self.d0)), int(self._pi.read(self.d1))
        except _ERRORS as exc:
            raise HardwareError(
                f"pigpiod at {self.host}:{self.port}: cannot read the reader: {exc}"
            ) from exc

    def close(self) -> None:
        """Cancel the callbacks, clear the watchdog and filter, and drop the connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            for callback in self._callbacks:
                callback.cancel()
            for gpio in (self.d0, self.d1):
                self._pi.set_watchdog(gpio, 0)
                self._pi.set_glitch_filter(gpio, 0)
        except _ERRORS as exc:
            LOG.warning(
                "pigpiod at %s:%d: could not release the reader: %s", self.host, self.port, exc
            )
        finally:
            self._callbacks.clear()
            try:
                self._pi.stop()
            except OSError as exc:
                LOG.warning("pigpiod at %s:%d: closing: %s", self.host, self.port, exc)


def make_edge_source(d0: int, d1: int, **options: Any) -> PigpioEdgeSource:
    """The registry's entry point: a pigpio edge source for BCM pins ``d0``/``d1``."""
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise HardwareError(
            f"unknown pigpio option(s) {', '.join(unknown)}: expected {', '.join(OPTIONS)}"
        )
    return PigpioEdgeSource(d0, d1, **options)


class SafePiGPIOPin(PiGPIOPin):  # type: ignore[misc]
    """A PiGPIOPin that latches the level before the pin becomes an output."""

    def __init__(self, factory: Any, info: Any) -> None:
        # gpiozero's PiGPIOPin turns every pin it touches into an input here: a strike relay that a
        # previous run left driven at its locked level would float (and a pulled-down, active-low
        # relay would energise) until the output is built. Input devices set their own mode and
        # pull anyway, so this pin leaves the daemon's state alone until a device asks.
        PiPin.__init__(self, factory, info)
        self._pull = info.pull or "floating"
        self._pwm = False
        self._bounce = None
        self._callback = None
        self._edges = pigpio.EITHER_EDGE
        self._is_output = False

    def _set_state(self, value: float) -> None:
        # gpiozero asks the daemon for the pin's mode before every write (a round trip on the
        # strike's hot path); this pin knows it made itself an output.
        if self._is_output and not self._pwm:
            self.factory.connection.write(self._number, bool(value))
        else:
            super()._set_state(value)

    def _set_function(self, value: str) -> None:
        self._is_output = False
        super()._set_function(value)

    def output_with_state(self, state: bool) -> None:
        """Drive ``state`` with one WRITE: pigpiod sets the level, then the mode, so no blip."""
        # gpiozero's default sets OUTPUT first, driving the stale latch for a moment: on an
        # active-low relay that is a click of the strike.
        self.factory.connection.write(self._number, bool(state))
        self._pull = "floating"  # as gpiozero's own function setter does for a non-input
        self._pwm = False  # WRITE stops PWM in the daemon
        self._is_output = True


class SafePiGPIOFactory(PiGPIOFactory):  # type: ignore[misc]
    """gpiozero's PiGPIOFactory with ``SafePiGPIOPin`` pins and a clear error when unreachable."""

    def __init__(self, host: str | None = None, port: int | None = None) -> None:
        host, port = daemon_address(host, port)
        _probe(host, port)
        try:
            super().__init__(host=host, port=port)
        except OSError as exc:
            raise HardwareError(f"cannot connect to pigpiod at {host}:{port}; {_HINT}") from exc
        self.pin_class = SafePiGPIOPin


def make_pin_factory(host: str | None = None, port: int | None = None) -> SafePiGPIOFactory:
    """A gpiozero pin factory on pigpiod whose outputs never drive a stale level at start."""
    return SafePiGPIOFactory(host, port)
