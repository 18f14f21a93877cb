"""A pigpiod stand-in on loopback for the real ``pigpio`` client and gpiozero's PiGPIOFactory.

It speaks the socket protocol of shared/reference/pigpio-protocol.md: commands on a control socket,
12-byte reports on a socket that sent NOIB. Inputs are played as ``(gpio, level, offset_us)`` edges,
in a burst or in real time; outputs (MODES/WRITE) are recorded with the levels each pin drove.
``python -m appliance.testing.pigpiod --port N`` runs it as a process of its own (see ``main``).

Stop every client before the emulator: pigpio's notification thread spins on a closed socket.

Limits: the commands a door uses (MODES, MODEG, PUD, READ, WRITE, WDOG, BR1, TICK, HWVER, PIGPV,
the notification ones, FG; FN is accepted but its noise filter is not modelled); anything else
(PWM, servo, waves, I2C, SPI, serial, scripts) answers "unknown command". GPIOs 0-31 take input
edges, 0-53 modes and levels. The tick runs on ``time.perf_counter``, so a real-time play is as
punctual as this process's threads; a burst is stamped exactly.

This module is the entry point: the protocol's numbers (``pigpiod_protocol``), edge planning
(``pigpiod_plan``) and the GPIO bank with its commands (``pigpiod_pins``) are re-exported here.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import NamedTuple

from appliance.testing import pigpiod_protocol
from appliance.testing.pigpiod_pins import OutputRecord, PinBank
from appliance.testing.pigpiod_plan import (
    RAW_AND_REPORT,
    REPORT,
    Action,
    PlayEdge,
    card_edges,
    plan_actions,
    validate_edges,
)
from appliance.testing.pigpiod_protocol import *  # noqa: F403  (the numbers: re-exported)
from appliance.testing.pigpiod_protocol import (
    FLAG_WDOG,
    HWVER_PI3BPLUS,
    MAX_EXTENSION,
    NC,
    NO_HANDLE,
    NOIB,
    UNKNOWN_COMMAND,
    WRAP,
    Notifier,
    recv_exact,
)

__all__ = [
    "OutputRecord",
    "PigpiodEmulator",
    "PlayEdge",
    "PlayResult",
    "card_edges",
]
__all__ += pigpiod_protocol.__all__

LOG = logging.getLogger(__name__)


class PlayResult(NamedTuple):
    """When the last report of a play went out (or the play ended, if it reported nothing)."""

    tick: int
    perf: float
    reports: int


class PigpiodEmulator(PinBank):
    """A threaded pigpiod emulator with its own µs tick clock (see the module docstring)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        start_tick: int = 0,
        hwver: int = HWVER_PI3BPLUS,
    ) -> None:
        super().__init__(start_tick, hwver)
        self.host, self.port, self._bind_port = host, 0, port
        self._play_lock = threading.Lock()
        self._stopping = threading.Event()
        self.command_counts: Counter[int] = Counter()
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._listener: socket.socket | None = None

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
        items = sorted(validate_edges(edges), key=lambda e: e[2])
        if realtime and at_tick is not None:
            raise ValueError("at_tick only applies to a burst: real time cannot jump")
        future: Future[PlayResult] = Future()
        if realtime:
            self._spawn(self._play_realtime, "pigpiod-play", items, future)
        else:
            with self._play_lock:
                future.set_result(self._play_burst(items, at_tick))
        return future

    def _plan(self, items: list[PlayEdge]) -> list[Action]:
        """This play's actions from the pins' state now (under ``self._lock``)."""
        return plan_actions(items, self._input_level, self._glitch, self._reported)

    def _apply(
        self, kind: int, gpio: int, level: int, tick: int, out: dict[Notifier, bytearray]
    ) -> bool:
        """Apply one planned action at ``tick``; True if it was a reported level change."""
        if kind == REPORT:
            self._queue_change(1 << gpio, level << gpio, tick, out)
            return True
        self._external[gpio] = level
        new = self._compute_levels()
        changed, self._actual = new ^ self._actual, new
        if changed and kind == RAW_AND_REPORT:
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
            out: dict[Notifier, bytearray] = {}
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
                        out: dict[Notifier, bytearray] = {}
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
        notifier: Notifier | None = None
        try:
            while True:
                header = recv_exact(conn, 16)
                if header is None:
                    return
                cmd, p1, p2, p3 = struct.unpack("<IIII", header)
                if p3 > MAX_EXTENSION:
                    LOG.warning("dropping a client that announced a %d-byte extension", p3)
                    return
                ext = recv_exact(conn, p3) if p3 else b""
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
                            notifier = self._notifiers[result] = Notifier(result, conn)
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
                out: dict[Notifier, bytearray] = {}
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


# -- standalone: python -m appliance.testing.pigpiod ---------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m appliance.testing.pigpiod",
        description="A pigpiod emulator on loopback: point a pigpio client (PIGPIO_ADDR, "
        "PIGPIO_PORT) or 'doorward run' with backend = \"pigpio\" at it. Output commands are "
        "printed; with --stdin each line read (a card's bits, e.g. 26 zeros and ones) is played "
        "on D0/D1 as a reader would. Stop it with Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    parser.add_argument(
        "--port", type=int, default=8888, help="port to listen on (8888, pigpiod's; 0: a free one)"
    )
    parser.add_argument("--d0", type=int, default=14, help="the reader's D0 GPIO (14)")
    parser.add_argument("--d1", type=int, default=15, help="the reader's D1 GPIO (15)")
    parser.add_argument(
        "--interval-us", type=int, default=2000, help="µs between a card's bits (2000)"
    )
    parser.add_argument(
        "--stdin",
        action=argparse.BooleanOptionalAction,  # not a literal: tests/core scans action="..."
        default=False,
        help="play each line of stdin as a card's bits",
    )
    return parser


def _play_lines(emu: PigpiodEmulator, args: argparse.Namespace, say: Callable[[str], None]) -> None:
    for line in sys.stdin:
        bits = line.strip()
        if not bits:
            continue
        if set(bits) - {"0", "1"}:
            say(f"not a card's bits (zeros and ones): {bits!r}")
            continue
        edges = card_edges(bits, args.d0, args.d1, interval_us=args.interval_us)
        result = emu.play(edges, realtime=True)
        say(f"played {len(bits)} bits on GPIO{args.d0}/GPIO{args.d1}: {result.reports} reports")
    say("stdin closed: no more cards, still serving")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGINT or SIGTERM; 0 when stopped, 2 on bad arguments."""
    args = _parser().parse_args(argv)
    lock = threading.Lock()

    def say(text: str) -> None:
        with lock:
            print(text, flush=True)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    emu = PigpiodEmulator(args.host, args.port)
    emu.on_output = lambda r: say(f"GPIO{r.gpio} {r.what} {r.value} at tick {r.tick}")
    try:
        emu.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    say(
        f"pigpiod emulator on {emu.host}:{emu.port} (PIGPIO_ADDR={emu.host} PIGPIO_PORT={emu.port})"
    )
    if args.stdin:
        threading.Thread(target=_play_lines, args=(emu, args, say), daemon=True).start()
    try:
        while not stop.wait(3600):  # woken by the signal handlers
            pass
    finally:
        emu.stop()
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
