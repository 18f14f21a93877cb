"""The pigpiod emulator's GPIO bank: pin state, its µs clock, level reports and the command table.

Everything here runs under ``self._lock``; the sockets, threads and plays around it are in
``appliance.testing.pigpiod``, which builds the emulator on this class.

Limits: a part of the pigpiod emulator; see ``appliance.testing.pigpiod``.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from typing import NamedTuple

from appliance.testing.pigpiod_protocol import (
    BAD_FILTER,
    BAD_GPIO,
    BAD_HANDLE,
    BAD_LEVEL,
    BAD_MODE,
    BAD_PARAM,
    BAD_PUD,
    BAD_USER_GPIO,
    BAD_WDOG_TIMEOUT,
    BR1,
    FG,
    FN,
    HWVER,
    INPUT,
    MODEG,
    MODES,
    NB,
    NC,
    NP,
    OUTPUT,
    PIGPIO_VERSION,
    PIGPV,
    PUD,
    PUD_DOWN,
    PUD_UP,
    READ,
    TICK,
    WDOG,
    WRAP,
    WRITE,
    Notifier,
    bits_of,
)

LOG = logging.getLogger(__name__)


def _refused(gpio: int, value: int, top: int, bad_value: int, *, user: bool = False) -> int:
    """pigpiod's error for a GPIO out of range (0-53; a ``user`` one 0-31) or a ``value`` over
    ``top`` (``bad_value``), in that order; 0 when both are good."""
    if gpio > (31 if user else 53):
        return BAD_USER_GPIO if user else BAD_GPIO
    return bad_value if value > top else 0


class OutputRecord(NamedTuple):
    """One MODES or WRITE command as the daemon executed it."""

    tick: int
    perf: float
    gpio: int
    what: str  # "mode" or "write"
    value: int


class PinBank:
    """GPIO state on its own µs tick clock, the notifiers it reports to, and the commands."""

    def __init__(self, start_tick: int, hwver: int) -> None:
        if not 0 <= start_tick < WRAP:
            raise ValueError(f"start_tick {start_tick} is not a 32-bit tick")
        self._hwver = hwver
        self._lock = threading.RLock()
        self._writes = threading.Condition(self._lock)
        self._wd_wake = threading.Condition(self._lock)
        self._t0, self._tick0 = time.perf_counter(), start_tick  # the clock is unwrapped inside
        self._mode, self._latch, self._pull = [INPUT] * 54, [0] * 54, [PUD_UP] * 54
        self._external: list[int | None] = [None] * 32  # what the outside world drives on an input
        self._glitch, self._noise = [0] * 32, [(0, 0)] * 32
        self._wdog_ms: list[int] = [0] * 32
        self._wdog_due: list[int | None] = [None] * 32  # unwrapped tick of the next timeout report
        self._actual = self._compute_levels()
        # the level word as last reported: lags the actual one under a glitch filter
        self._reported = self._actual
        self._notifiers: dict[int, Notifier] = {}
        self._records: list[OutputRecord] = []
        #: Called with each MODES/WRITE record as it happens (under the bank's lock: keep it short).
        self.on_output: Callable[[OutputRecord], None] | None = None
        self._driven: dict[int, list[int]] = {}
        self._handlers: dict[int, Callable[[int, int, bytes], int]] = {
            MODES: self._cmd_modes, MODEG: self._cmd_modeg, PUD: self._cmd_pud,
            READ: self._cmd_read, WRITE: self._cmd_write, WDOG: self._cmd_wdog,
            BR1: lambda p1, p2, ext: self._actual, TICK: lambda p1, p2, ext: self.tick(),
            HWVER: lambda p1, p2, ext: self._hwver, PIGPV: lambda p1, p2, ext: PIGPIO_VERSION,
            NB: self._cmd_nb, NP: self._cmd_np, NC: self._cmd_nc,
            FG: self._cmd_fg, FN: self._cmd_fn,
        }  # fmt: skip

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
        self, changed: int, levels: int, tick: int, out: dict[Notifier, bytearray]
    ) -> None:
        self._reported = (self._reported & ~changed) | (levels & changed)
        for g in bits_of(changed):
            if self._wdog_ms[g]:
                self._wdog_due[g] = tick + self._wdog_ms[g] * 1000
        for n in self._notifiers.values():
            if not n.paused and n.bits & changed:
                out.setdefault(n, bytearray()).extend(n.pack(0, tick, self._reported))

    def _flush(self, out: dict[Notifier, bytearray]) -> None:
        for n, data in out.items():
            try:
                n.conn.sendall(data)
            except OSError:
                LOG.info("notify handle %d went away; dropping it", n.handle)
                self._close_notifier(n)

    def _close_notifier(self, n: Notifier) -> None:
        if self._notifiers.get(n.handle) is n:
            del self._notifiers[n.handle]
        with contextlib.suppress(OSError):
            n.conn.shutdown(socket.SHUT_RDWR)

    def _sync_levels(self) -> None:
        """Report at the current tick whatever a command changed (outputs, pulls)."""
        new = self._compute_levels()
        changed, self._actual = new ^ self._actual, new
        if changed:
            out: dict[Notifier, bytearray] = {}
            self._queue_change(changed, new, self._now(), out)
            self._flush(out)

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
        record = OutputRecord(self.tick(), time.perf_counter(), gpio, what, value)
        self._records.append(record)
        if self.on_output is not None:
            self.on_output(record)

    def _drive(self, gpio: int, level: int, became_output: bool) -> None:
        driven = self._driven.setdefault(gpio, [])
        if became_output or driven[-1:] != [level]:
            driven.append(level)

    # -- commands (called under self._lock) --------------------------------------------------
    def _cmd_modes(self, gpio: int, mode: int, ext: bytes) -> int:
        if refused := _refused(gpio, mode, 7, BAD_MODE):
            return refused
        self._record(gpio, "mode", mode)
        was, self._mode[gpio] = self._mode[gpio], mode
        if mode == OUTPUT and was != OUTPUT:
            self._drive(gpio, self._latch[gpio], True)  # the hazard: whatever the latch holds
        self._sync_levels()
        return 0

    def _cmd_write(self, gpio: int, level: int, ext: bytes) -> int:
        if refused := _refused(gpio, level, 1, BAD_LEVEL):
            return refused
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
        if refused := _refused(gpio, pud, PUD_UP, BAD_PUD):
            return refused
        self._pull[gpio] = pud
        self._sync_levels()
        return 0

    def _cmd_wdog(self, gpio: int, ms: int, ext: bytes) -> int:
        if refused := _refused(gpio, ms, 60000, BAD_WDOG_TIMEOUT, user=True):
            return refused
        self._wdog_ms[gpio] = ms
        self._wdog_due[gpio] = self._now() + ms * 1000 if ms else None
        self._wd_wake.notify_all()
        return 0

    def _cmd_fg(self, gpio: int, steady: int, ext: bytes) -> int:
        if refused := _refused(gpio, steady, 300_000, BAD_FILTER, user=True):
            return refused
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
