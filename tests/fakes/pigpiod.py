"""A pigpiod stand-in on loopback for the real ``pigpio`` client and gpiozero's PiGPIOFactory.

It speaks the socket protocol of shared/reference/pigpio-protocol.md: commands on a control socket,
12-byte reports on a socket that sent NOIB. Inputs are played as ``(gpio, level, offset_us)`` edges,
in a burst or in real time; outputs (MODES/WRITE) are recorded with the levels each pin drove.

Stop every client before the emulator: pigpio's notification thread spins on a closed socket.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import NamedTuple

from appliance.wiegand.edges import D0, D1
from appliance.wiegand.waveform import waveform

LOG = logging.getLogger(__name__)

WRAP = 1 << 32
HWVER_PI3BPLUS = 0xA020D3
PIGPIO_VERSION = 79
INPUT, OUTPUT = 0, 1
PUD_OFF, PUD_DOWN, PUD_UP = 0, 1, 2
FLAG_WDOG = 0x20
MAX_EXTENSION = 65536  # far above any command the client sends; more is a broken or hostile client

MODES, MODEG, PUD, READ, WRITE, WDOG, BR1, TICK, HWVER = 0, 1, 2, 3, 4, 9, 10, 16, 17
NB, NP, NC, PIGPV, FG, FN, NOIB = 19, 20, 21, 26, 97, 98, 99

BAD_USER_GPIO, BAD_GPIO, BAD_MODE, BAD_LEVEL, BAD_PUD = -2, -3, -4, -5, -6
BAD_WDOG_TIMEOUT, NO_HANDLE, BAD_HANDLE, BAD_PARAM = -15, -24, -25, -81
UNKNOWN_COMMAND, BAD_FILTER = -88, -125

PlayEdge = tuple[int, int, int]  # (gpio, level, offset_us from the start of the waveform)
_RAW, _RAW_AND_REPORT, _REPORT = 0, 1, 2  # what a planned action does: see _plan


class OutputRecord(NamedTuple):
    """One MODES or WRITE command as the daemon executed it."""

    tick: int
    perf: float
    gpio: int
    what: str  # "mode" or "write"
    value: int


class PlayResult(NamedTuple):
    """When the last report of a play went out (or the play ended, if it reported nothing)."""

    tick: int
    perf: float
    reports: int


def card_edges(
    bits: str, d0_gpio: int, d1_gpio: int, interval_us: int = 2000, pulse_us: int = 50
) -> list[PlayEdge]:
    """The edges a reader puts on BCM pins ``d0_gpio``/``d1_gpio`` for ``bits``, from offset 0."""
    gpio = {D0: d0_gpio, D1: d1_gpio}
    return [(gpio[e.line], e.level, e.t_us) for e in waveform(bits, 0, interval_us, pulse_us)]


def _bits(mask: int) -> list[int]:
    return [g for g in range(32) if mask >> g & 1]


def _recv_exact(conn: socket.socket, n: int) -> bytes | None:
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class _Notifier:
    """An in-band notification handle: its socket, the GPIO it watches, its sequence number."""

    def __init__(self, handle: int, conn: socket.socket) -> None:
        self.handle, self.conn = handle, conn
        self.bits, self.paused, self.seq = 0, False, 0

    def pack(self, flags: int, tick: int, levels: int) -> bytes:
        data = struct.pack("<HHII", self.seq, flags, tick % WRAP, levels)
        self.seq = (self.seq + 1) & 0xFFFF
        return data


class PigpiodEmulator:
    """A threaded pigpiod emulator with its own µs tick clock (see the module docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        start_tick: int = 0,
        hwver: int = HWVER_PI3BPLUS,
    ) -> None:
        if not 0 <= start_tick < WRAP:
            raise ValueError(f"start_tick {start_tick} is not a 32-bit tick")
        self.host, self.port, self._bind_port, self._hwver = host, 0, port, hwver
        self._lock = threading.RLock()
        self._writes = threading.Condition(self._lock)
        self._wd_wake = threading.Condition(self._lock)
        self._play_lock = threading.Lock()
        self._stopping = threading.Event()
        self._t0, self._tick0 = time.perf_counter(), start_tick  # the clock is unwrapped inside
        self._mode, self._latch, self._pull = [INPUT] * 54, [0] * 54, [PUD_UP] * 54
        self._external: list[int | None] = [None] * 32  # what the outside world drives on an input
        self._glitch, self._noise = [0] * 32, [(0, 0)] * 32
        self._wdog_ms: list[int] = [0] * 32
        self._wdog_due: list[int | None] = [None] * 32  # unwrapped tick of the next timeout report
        self._actual = self._compute_levels()
        # the level word as last reported: lags the actual one under a glitch filter
        self._reported = self._actual
        self._notifiers: dict[int, _Notifier] = {}
        self._records: list[OutputRecord] = []
        self._driven: dict[int, list[int]] = {}
        self.command_counts: Counter[int] = Counter()
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None
        self._handlers: dict[int, Callable[[int, int, bytes], int]] = {
            MODES: self._cmd_modes, MODEG: self._cmd_modeg, PUD: self._cmd_pud,
            READ: self._cmd_read, WRITE: self._cmd_write, WDOG: self._cmd_wdog,
            BR1: lambda p1, p2, ext: self._actual, TICK: lambda p1, p2, ext: self.tick(),
            HWVER: lambda p1, p2, ext: self._hwver, PIGPV: lambda p1, p2, ext: PIGPIO_VERSION,
            NB: self._cmd_nb, NP: self._cmd_np, NC: self._cmd_nc,
            FG: self._cmd_fg, FN: self._cmd_fn,
        }  # fmt: skip

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> PigpiodEmulator:
        """Listen on ``host``:``port`` (0 picks a free port, then in ``.port``) and serve."""
        self._listener = socket.create_server((self.host, self._bind_port))
        self.port = self._listener.getsockname()[1]
        self._spawn(self._accept_loop, "pigpiod-accept")
        self._spawn(self._watchdog_loop, "pigpiod-watchdog")
        return self

    def stop(self) -> None:
        """Close every socket and join every thread (clients should stop first: see the report)."""
        self._stopping.set()
        with self._lock:
            self._wd_wake.notify_all()
            conns, listener = list(self._conns), self._listener
        for sock in [listener, *conns]:
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in accept/recv
        if listener is not None:
            listener.close()
        for thread in list(self._threads):
            thread.join(timeout=5)

    def __enter__(self) -> PigpiodEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[..., None], name: str, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, name=name, daemon=True)
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    # -- clock and levels --------------------------------------------------------------------
    def _now(self) -> int:
        return self._tick0 + int((time.perf_counter() - self._t0) * 1_000_000)

    def tick(self) -> int:
        """The current tick in µs, wrapping at 2**32."""
        return self._now() % WRAP

    def _level_of(self, gpio: int) -> int:
        if self._mode[gpio] == OUTPUT:
            return self._latch[gpio]
        return self._input_level(gpio)

    def _input_level(self, gpio: int) -> int:
        """What an input reads: what the outside drives, else its pull (floating reads 1)."""
        external = self._external[gpio] if gpio < 32 else None
        if external is not None:
            return external
        return 0 if self._pull[gpio] == PUD_DOWN else 1

    def _compute_levels(self) -> int:
        return sum(self._level_of(g) << g for g in range(32))

    def level(self, gpio: int) -> int:
        """The level on ``gpio`` now (what READ answers)."""
        with self._lock:
            return self._level_of(gpio)

    def mode(self, gpio: int) -> int:
        """The mode of ``gpio`` (0 input, 1 output, ...)."""
        with self._lock:
            return self._mode[gpio]

    def glitch(self, gpio: int) -> int:
        """The glitch filter's steady time on ``gpio`` in µs (0 = off)."""
        with self._lock:
            return self._glitch[gpio]

    def watchdog(self, gpio: int) -> int:
        """The watchdog timeout on ``gpio`` in ms (0 = off)."""
        with self._lock:
            return self._wdog_ms[gpio]

    # -- reports (all under self._lock, so level words go out in order) -----------------------
    def _queue_change(
        self, changed: int, levels: int, tick: int, out: dict[_Notifier, bytearray]
    ) -> None:
        self._reported = (self._reported & ~changed) | (levels & changed)
        for g in _bits(changed):
            if self._wdog_ms[g]:
                self._wdog_due[g] = tick + self._wdog_ms[g] * 1000
        for n in self._notifiers.values():
            if not n.paused and n.bits & changed:
                out.setdefault(n, bytearray()).extend(n.pack(0, tick, self._reported))

    def _flush(self, out: dict[_Notifier, bytearray]) -> None:
        for n, data in out.items():
            try:
                n.conn.sendall(data)
            except OSError:
                LOG.info("notify handle %d went away; dropping it", n.handle)
                self._close_notifier(n)

    def _close_notifier(self, n: _Notifier) -> None:
        if self._notifiers.get(n.handle) is n:
            del self._notifiers[n.handle]
        with contextlib.suppress(OSError):
            n.conn.shutdown(socket.SHUT_RDWR)

    def _sync_levels(self) -> None:
        """Report at the current tick whatever a command changed (outputs, pulls)."""
        new = self._compute_levels()
        changed, self._actual = new ^ self._actual, new
        if changed:
            out: dict[_Notifier, bytearray] = {}
            self._queue_change(changed, new, self._now(), out)
            self._flush(out)

    # -- inputs ------------------------------------------------------------------------------
    def set_level(self, gpio: int, level: int) -> PlayResult:
        """Drive input ``gpio`` to ``level`` from now on (e.g. a stuck line), reported at once."""
        return self.play([(gpio, level, 0)])

    def play(
        self, edges: Iterable[PlayEdge], realtime: bool = False, at_tick: int | None = None
    ) -> PlayResult:
        """Play edges and return when all reports are out; see ``play_async``."""
        return self.play_async(edges, realtime, at_tick).result()

    def play_async(
        self, edges: Iterable[PlayEdge], realtime: bool = False, at_tick: int | None = None
    ) -> Future[PlayResult]:
        """Play ``(gpio, level, offset_us)`` edges: a burst stamped from now (or from ``at_tick``,
        which must not be in the past), or in real time from an emulator thread."""
        items = sorted(self._validate(edges), key=lambda e: e[2])
        if realtime and at_tick is not None:
            raise ValueError("at_tick only applies to a burst: real time cannot jump")
        future: Future[PlayResult] = Future()
        if realtime:
            self._spawn(self._play_realtime, "pigpiod-play", items, future)
        else:
            with self._play_lock:
                future.set_result(self._play_burst(items, at_tick))
        return future

    @staticmethod
    def _validate(edges: Iterable[PlayEdge]) -> list[PlayEdge]:
        checked = []
        for edge in edges:
            try:
                gpio, level, offset = edge
            except (TypeError, ValueError):
                raise ValueError(f"edge {edge!r} is not (gpio, level, offset_us)") from None
            if not (isinstance(gpio, int) and 0 <= gpio < 32):
                raise ValueError(f"edge {edge!r}: gpio must be 0-31")
            if level not in (0, 1):
                raise ValueError(f"edge {edge!r}: level must be 0 or 1")
            if not (isinstance(offset, int) and offset >= 0):
                raise ValueError(f"edge {edge!r}: offset must be a non-negative int of µs")
            checked.append((gpio, int(level), offset))
        return checked

    def _plan(self, items: list[PlayEdge]) -> list[tuple[int, int, int, int, int]]:
        """Actions (offset, order, kind, gpio, level): raw level changes and their reports.

        Under a glitch filter a change is reported only if it stays ``steady`` µs, and then
        ``steady`` µs late, as pigpiod does; without one a raw change is reported as it happens.
        """
        per_gpio: dict[int, list[tuple[int, int, int]]] = {}
        for order, (gpio, level, offset) in enumerate(items):
            per_gpio.setdefault(gpio, []).append((offset, order, level))
        actions = []
        for gpio, events in per_gpio.items():
            raw, changes = self._input_level(gpio), []
            for offset, order, level in events:
                if level != raw:
                    changes.append((offset, order, level))
                    raw = level
            steady, filtered = self._glitch[gpio], self._reported >> gpio & 1
            for i, (offset, order, level) in enumerate(changes):
                if not steady:
                    actions.append((offset, order, _RAW_AND_REPORT, gpio, level))
                    continue
                actions.append((offset, order, _RAW, gpio, level))
                stays = i + 1 == len(changes) or changes[i + 1][0] - offset >= steady
                if stays and level != filtered:
                    actions.append((offset + steady, order, _REPORT, gpio, level))
                    filtered = level
        return sorted(actions)

    def _apply(
        self, kind: int, gpio: int, level: int, tick: int, out: dict[_Notifier, bytearray]
    ) -> bool:
        """Apply one planned action at ``tick``; True if it was a reported level change."""
        if kind == _REPORT:
            self._queue_change(1 << gpio, level << gpio, tick, out)
            return True
        self._external[gpio] = level
        new = self._compute_levels()
        changed, self._actual = new ^ self._actual, new
        if changed and kind == _RAW_AND_REPORT:
            self._queue_change(changed, new, tick, out)
            return True
        return False

    def _play_burst(self, items: list[PlayEdge], at_tick: int | None) -> PlayResult:
        with self._lock:
            now = self._now()
            base = now
            if at_tick is not None:
                ahead = (at_tick - now) % WRAP
                if ahead >= WRAP // 2:
                    raise ValueError(f"at_tick {at_tick} is behind the current tick {now % WRAP}")
                base = now + ahead
            out: dict[_Notifier, bytearray] = {}
            last, reports, end = base, 0, base
            for offset, _, kind, gpio, level in self._plan(items):
                end = base + offset
                if self._apply(kind, gpio, level, end, out):
                    last, reports = end, reports + 1
            if end > self._now():  # the clock only ever moves forward
                self._tick0 += end - self._now()
            self._flush(out)
            perf = time.perf_counter()
            self._wd_wake.notify_all()
            return PlayResult(last % WRAP, perf, reports)

    def _play_realtime(self, items: list[PlayEdge], future: Future[PlayResult]) -> None:
        try:
            with self._play_lock:
                with self._lock:
                    actions = self._plan(items)
                with self._lock:
                    start, start_tick = time.perf_counter(), self._now()
                result = PlayResult(start_tick % WRAP, start, 0)
                for offset, _, kind, gpio, level in actions:
                    delay = start + offset / 1e6 - time.perf_counter()
                    if delay > 0 and self._stopping.wait(delay):
                        raise RuntimeError("emulator stopped during a real-time play")
                    with self._lock:
                        out: dict[_Notifier, bytearray] = {}
                        # Stamped when it was due, as pigpiod's sampling would (a report sent
                        # late must not shrink the pulse): only its delivery is late.
                        tick = start_tick + offset
                        if self._apply(kind, gpio, level, tick, out):
                            self._flush(out)
                            result = PlayResult(
                                tick % WRAP, time.perf_counter(), result.reports + 1
                            )
                            self._wd_wake.notify_all()
                future.set_result(result)
        except BaseException as exc:  # the caller waits on the future: hand it every failure
            future.set_exception(exc)

    # -- outputs -----------------------------------------------------------------------------
    @property
    def records(self) -> list[OutputRecord]:
        """Every MODES and WRITE so far, in order."""
        with self._lock:
            return list(self._records)

    def driven_levels(self, gpio: int) -> list[int]:
        """The levels ``gpio`` drove while an output, in order (a stale latch included)."""
        with self._lock:
            return list(self._driven.get(gpio, []))

    def wait_for_write(
        self, gpio: int, level: int, timeout: float, since: int = 0
    ) -> OutputRecord | None:
        """The first WRITE of ``level`` to ``gpio`` at record index >= ``since``, or None."""

        def find() -> OutputRecord | None:
            for rec in self._records[since:]:
                if rec.what == "write" and rec.gpio == gpio and rec.value == level:
                    return rec
            return None

        with self._writes:
            return self._writes.wait_for(find, timeout)

    def _record(self, gpio: int, what: str, value: int) -> None:
        self._records.append(OutputRecord(self.tick(), time.perf_counter(), gpio, what, value))

    def _drive(self, gpio: int, level: int, became_output: bool) -> None:
        driven = self._driven.setdefault(gpio, [])
        if became_output or driven[-1:] != [level]:
            driven.append(level)

    # -- commands (called under self._lock) --------------------------------------------------
    def _cmd_modes(self, gpio: int, mode: int, ext: bytes) -> int:
        if gpio > 53:
            return BAD_GPIO
        if mode > 7:
            return BAD_MODE
        self._record(gpio, "mode", mode)
        was, self._mode[gpio] = self._mode[gpio], mode
        if mode == OUTPUT and was != OUTPUT:
            self._drive(gpio, self._latch[gpio], True)  # the hazard: whatever the latch holds
        self._sync_levels()
        return 0

    def _cmd_write(self, gpio: int, level: int, ext: bytes) -> int:
        if gpio > 53:
            return BAD_GPIO
        if level > 1:
            return BAD_LEVEL
        self._record(gpio, "write", level)
        self._latch[gpio] = level  # pigpiod sets the level before the mode: no glitch
        became_output = self._mode[gpio] != OUTPUT
        self._mode[gpio] = OUTPUT
        self._drive(gpio, level, became_output)
        self._sync_levels()
        self._writes.notify_all()
        return 0

    def _cmd_modeg(self, gpio: int, p2: int, ext: bytes) -> int:
        return BAD_GPIO if gpio > 53 else self._mode[gpio]

    def _cmd_read(self, gpio: int, p2: int, ext: bytes) -> int:
        return BAD_GPIO if gpio > 53 else self._level_of(gpio)

    def _cmd_pud(self, gpio: int, pud: int, ext: bytes) -> int:
        if gpio > 53:
            return BAD_GPIO
        if pud > PUD_UP:
            return BAD_PUD
        self._pull[gpio] = pud
        self._sync_levels()
        return 0

    def _cmd_wdog(self, gpio: int, ms: int, ext: bytes) -> int:
        if gpio > 31:
            return BAD_USER_GPIO
        if ms > 60000:
            return BAD_WDOG_TIMEOUT
        self._wdog_ms[gpio] = ms
        self._wdog_due[gpio] = self._now() + ms * 1000 if ms else None
        self._wd_wake.notify_all()
        return 0

    def _cmd_fg(self, gpio: int, steady: int, ext: bytes) -> int:
        if gpio > 31:
            return BAD_USER_GPIO
        if steady > 300_000:
            return BAD_FILTER
        self._glitch[gpio] = steady
        return 0

    def _cmd_fn(self, gpio: int, steady: int, ext: bytes) -> int:
        """Accepted and remembered; the noise filter itself is not modelled."""
        if gpio > 31:
            return BAD_USER_GPIO
        if len(ext) != 4:
            return BAD_PARAM
        (active,) = struct.unpack("<I", ext)
        if steady > 300_000 or active > 1_000_000:
            return BAD_FILTER
        self._noise[gpio] = (steady, active)
        return 0

    def _cmd_nb(self, handle: int, bits: int, ext: bytes) -> int:
        n = self._notifiers.get(handle)
        if n is None:
            return BAD_HANDLE
        n.bits, n.paused = bits, False
        return 0

    def _cmd_np(self, handle: int, p2: int, ext: bytes) -> int:
        n = self._notifiers.get(handle)
        if n is None:
            return BAD_HANDLE
        n.paused = True
        return 0

    def _cmd_nc(self, handle: int, p2: int, ext: bytes) -> int:
        n = self._notifiers.get(handle)
        if n is None:
            return BAD_HANDLE
        self._close_notifier(n)
        return 0

    # -- threads -----------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                if self._stopping.is_set():
                    conn.close()
                    return
                self._conns.add(conn)
                self._spawn(self._serve, "pigpiod-conn", conn)

    def _serve(self, conn: socket.socket) -> None:
        notifier: _Notifier | None = None
        try:
            while True:
                header = _recv_exact(conn, 16)
                if header is None:
                    return
                cmd, p1, p2, p3 = struct.unpack("<IIII", header)
                if p3 > MAX_EXTENSION:
                    LOG.warning("dropping a client that announced a %d-byte extension", p3)
                    return
                ext = _recv_exact(conn, p3) if p3 else b""
                if ext is None:
                    return
                with self._lock:
                    self.command_counts[cmd] += 1
                    if cmd == NC and notifier is not None and p1 == notifier.handle:
                        self._close_notifier(notifier)  # the client no longer reads: no reply
                        return
                    if cmd == NOIB:
                        free = [h for h in range(32) if h not in self._notifiers]
                        result = free[0] if free else NO_HANDLE
                        if free:
                            notifier = self._notifiers[result] = _Notifier(result, conn)
                    else:
                        handler = self._handlers.get(cmd)
                        result = UNKNOWN_COMMAND if handler is None else handler(p1, p2, ext)
                    # replies on a notification socket must not land inside a burst of reports
                    conn.sendall(struct.pack("<IIII", cmd, p1, p2, result & 0xFFFFFFFF))
        except OSError as exc:
            LOG.debug("client connection ended: %s", exc)
        except Exception:
            LOG.exception("pigpiod emulator: a client's command failed")
        finally:
            with self._lock:
                if notifier is not None and self._notifiers.get(notifier.handle) is notifier:
                    del self._notifiers[notifier.handle]
                self._conns.discard(conn)
            conn.close()

    def _watchdog_loop(self) -> None:
        with self._lock:
            while not self._stopping.is_set():
                now = self._now()
                out: dict[_Notifier, bytearray] = {}
                for gpio, due in enumerate(self._wdog_due):
                    if due is not None and due <= now:
                        for n in self._notifiers.values():
                            if not n.paused and n.bits >> gpio & 1:
                                out.setdefault(n, bytearray()).extend(
                                    n.pack(FLAG_WDOG | gpio, now, self._reported)
                                )
                        self._wdog_due[gpio] = now + self._wdog_ms[gpio] * 1000
                self._flush(out)
                pending = [due for due in self._wdog_due if due is not None]
                timeout = max(0.0, (min(pending) - self._now()) / 1e6) if pending else None
                self._wd_wake.wait(timeout)
