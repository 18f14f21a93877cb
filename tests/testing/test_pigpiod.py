"""The pigpiod emulator, checked through raw sockets and the real pigpio client."""

from __future__ import annotations

import itertools
import socket
import struct
import threading
from collections.abc import Iterator

import pigpio
import pytest

from appliance.testing.pigpiod import (
    BR1,
    FN,
    HWVER_PI3BPLUS,
    MODES,
    NOIB,
    TICK,
    UNKNOWN_COMMAND,
    WRAP,
    PigpiodEmulator,
    card_edges,
)

GPIO = 22
TIMEOUT_S = 5.0


@pytest.fixture
def emu() -> Iterator[PigpiodEmulator]:
    with PigpiodEmulator() as emulator:
        yield emulator


@pytest.fixture
def pi(emu: PigpiodEmulator) -> Iterator[pigpio.pi]:
    conn = pigpio.pi(emu.host, emu.port, show_errors=False)
    assert conn.connected
    yield conn
    conn.stop()


def command(sock: socket.socket, cmd: int, p1: int = 0, p2: int = 0, ext: bytes = b"") -> int:
    """Send one command as the client does and return the signed result."""
    sock.sendall(struct.pack("<IIII", cmd, p1, p2, len(ext)) + ext)
    reply = recv_exact(sock, 16)
    echoed = struct.unpack("<III", reply[:12])
    assert echoed == (cmd, p1, p2)
    result: int = struct.unpack("<i", reply[12:])[0]
    return result


def recv_exact(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


class Recorder:
    """A pigpio callback that collects (gpio, level, tick); ``done`` once it has ``want``."""

    def __init__(self, want: int) -> None:
        self.want = want
        self.got: list[tuple[int, int, int]] = []
        self.done = threading.Event()

    def __call__(self, gpio: int, level: int, tick: int) -> None:
        self.got.append((gpio, level, tick))
        if len(self.got) >= self.want:
            self.done.set()


def test_connect_sequence_on_raw_sockets(emu: PigpiodEmulator) -> None:
    with socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as a:
        assert command(a, BR1) & 0xFFFFFFFF == 0xFFFFFFFF  # idle inputs with pull-ups read 1
        assert command(a, NOIB) == 0
        with socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as b:
            command(b, BR1)
            assert command(b, NOIB) == 1


def test_real_client_connects_and_queries(emu: PigpiodEmulator, pi: pigpio.pi) -> None:
    assert pi.get_hardware_revision() == HWVER_PI3BPLUS
    assert pi.get_pigpio_version() == 79
    assert pi.read_bank_1() == 0xFFFFFFFF
    assert emu.command_counts[BR1] == 2 and emu.command_counts[NOIB] == 1
    before = emu.tick()
    tick = pi.get_current_tick()
    assert 0 <= (tick - before) % WRAP < 1_000_000


def test_tick_starts_where_asked_and_wraps() -> None:
    with PigpiodEmulator(start_tick=WRAP - 1_000_000) as emu:
        before = emu.tick()
        assert before >= WRAP - 1_000_000
        result = emu.play([(GPIO, 0, 2_000_000)])  # the clock jumps past the edge, across the wrap
        assert result.tick < 2_000_000
        assert 0 <= (result.tick - before) % WRAP - 2_000_000 < 1_000_000
        assert 0 <= (emu.tick() - result.tick) % WRAP < 1_000_000
    with pytest.raises(ValueError, match="start_tick"):
        PigpiodEmulator(start_tick=WRAP)


def test_at_tick_places_a_burst_and_refuses_the_past(emu: PigpiodEmulator) -> None:
    target = (emu.tick() + 10_000_000) % WRAP
    assert emu.play([(GPIO, 0, 0), (GPIO, 1, 50)], at_tick=target).tick == (target + 50) % WRAP
    with pytest.raises(ValueError, match="behind"):
        emu.play([(GPIO, 0, 0)], at_tick=(emu.tick() - 1_000_000) % WRAP)


def test_unknown_command_and_extension_bytes(emu: PigpiodEmulator, pi: pigpio.pi) -> None:
    with socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as sock:
        assert command(sock, 200, 1, 2) == UNKNOWN_COMMAND
        assert command(sock, 201, 0, 0, b"x" * 40) == UNKNOWN_COMMAND  # extension read, not parsed
        assert command(sock, FN, GPIO, 100, struct.pack("<I", 5000)) == 0
        assert command(sock, TICK) != UNKNOWN_COMMAND  # still in step after the extensions
    with pytest.raises(pigpio.error, match="unknown command"):
        pi.set_PWM_dutycycle(GPIO, 128)


def test_bad_arguments_answer_pigpio_errors(pi: pigpio.pi) -> None:
    with pytest.raises(pigpio.error, match="GPIO not 0-53"):
        pi.set_mode(60, pigpio.OUTPUT)
    with pytest.raises(pigpio.error, match="level not 0-1"):
        pi.write(GPIO, 2)
    with pytest.raises(pigpio.error, match="timeout not 0-60000"):
        pi.set_watchdog(GPIO, 70_000)
    with pytest.raises(pigpio.error, match="not 0-31"):
        pi.set_glitch_filter(40, 10)


def test_play_reports_levels_consistent_with_br1(emu: PigpiodEmulator, pi: pigpio.pi) -> None:
    rec = Recorder(52)
    callbacks = [pi.callback(g, pigpio.EITHER_EDGE, rec) for g in (5, 6)]
    edges = card_edges("1" * 10 + "0" * 16, 5, 6, interval_us=1000, pulse_us=50)
    result = emu.play(edges)
    assert rec.done.wait(TIMEOUT_S)
    base = (result.tick - edges[-1][2]) % WRAP
    assert [(g, lvl, (t - base) % WRAP) for g, lvl, t in rec.got] == edges
    assert result.reports == 52
    emu.set_level(5, 0)  # a stuck line: BR1 and READ agree with the report
    assert pi.read(5) == 0 and pi.read_bank_1() == 0xFFFFFFFF & ~(1 << 5)
    for cb in callbacks:
        cb.cancel()


def test_report_words_on_a_raw_notification_socket(emu: PigpiodEmulator) -> None:
    with (
        socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as ctl,
        socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as ntf,
    ):
        assert command(ntf, NOIB) == 0
        assert command(ctl, 19, 0, 1 << GPIO) == 0  # NB: watch GPIO
        emu.play([(GPIO, 0, 0), (GPIO, 1, 100)])
        first = struct.unpack("<HHII", recv_exact(ntf, 12))
        second = struct.unpack("<HHII", recv_exact(ntf, 12))
        assert (first[0], first[1], first[3]) == (0, 0, 0xFFFFFFFF & ~(1 << GPIO))
        assert (second[0], second[1], second[3]) == (1, 0, 0xFFFFFFFF)
        assert (second[2] - first[2]) % WRAP == 100


def test_watchdog_reports_timeouts_until_cancelled(emu: PigpiodEmulator, pi: pigpio.pi) -> None:
    rec = Recorder(3)
    cb = pi.callback(GPIO, pigpio.EITHER_EDGE, rec)
    start = emu.tick()
    pi.set_watchdog(GPIO, 10)
    assert rec.done.wait(TIMEOUT_S)
    pi.set_watchdog(GPIO, 0)
    levels = [lvl for _, lvl, _ in rec.got[:3]]
    ticks = [t for _, _, t in rec.got[:3]]
    assert levels == [pigpio.TIMEOUT] * 3
    assert (ticks[0] - start) % WRAP >= 10_000
    assert all((b - a) % WRAP >= 10_000 for a, b in itertools.pairwise(ticks))
    assert emu.watchdog(GPIO) == 0
    cb.cancel()


def test_watchdog_restarts_after_a_level_change(emu: PigpiodEmulator, pi: pigpio.pi) -> None:
    rec = Recorder(2)
    cb = pi.callback(GPIO, pigpio.EITHER_EDGE, rec)
    pi.set_watchdog(GPIO, 50)
    edge = emu.set_level(GPIO, 0)
    assert rec.done.wait(TIMEOUT_S)
    pi.set_watchdog(GPIO, 0)
    (_, lvl0, t0), (_, lvl1, t1) = rec.got[:2]
    assert (lvl0, lvl1) == (0, pigpio.TIMEOUT)
    assert t0 == edge.tick and (t1 - t0) % WRAP >= 50_000
    cb.cancel()


def test_glitch_filter_drops_short_pulses_and_delays_edges(
    emu: PigpiodEmulator, pi: pigpio.pi
) -> None:
    pi.set_glitch_filter(GPIO, 10)
    assert emu.glitch(GPIO) == 10
    rec = Recorder(2)
    cb = pi.callback(GPIO, pigpio.EITHER_EDGE, rec)
    edges = [(GPIO, 0, 0), (GPIO, 1, 4), (GPIO, 0, 100), (GPIO, 1, 200)]  # a 4 µs glitch, a pulse
    result = emu.play(edges)
    assert rec.done.wait(TIMEOUT_S)
    base = (result.tick - 210) % WRAP
    assert [(lvl, (t - base) % WRAP) for _, lvl, t in rec.got] == [(0, 110), (1, 210)]
    assert result.reports == 2
    cb.cancel()


def test_outputs_are_recorded_with_the_levels_driven(emu: PigpiodEmulator, pi: pigpio.pi) -> None:
    pi.set_mode(17, pigpio.OUTPUT)  # the latch starts at 0, as after power-on
    pi.write(17, 1)
    mark = len(emu.records)
    pi.write(17, 0)
    record = emu.wait_for_write(17, 0, TIMEOUT_S, since=mark)
    assert record is not None and (record.gpio, record.what, record.value) == (17, "write", 0)
    assert [(r.what, r.value) for r in emu.records if r.gpio == 17] == [
        ("mode", 1),
        ("write", 1),
        ("write", 0),
    ]
    assert emu.driven_levels(17) == [0, 1, 0]
    pi.write(18, 1)  # WRITE on an input: the latch first, then the mode
    assert emu.driven_levels(18) == [1] and emu.mode(18) == pigpio.OUTPUT and emu.level(18) == 1
    assert emu.wait_for_write(17, 1, 0.01, since=len(emu.records)) is None


def test_a_client_that_disconnects_does_not_hurt_the_server(emu: PigpiodEmulator) -> None:
    with socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as half:
        half.sendall(struct.pack("<II", MODES, 3))  # half a header, then gone
    with socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as ntf:
        command(ntf, NOIB)
        with socket.create_connection((emu.host, emu.port), timeout=TIMEOUT_S) as ctl:
            command(ctl, 19, 0, 1 << GPIO)
    emu.play([(GPIO, 0, 0), (GPIO, 1, 50)])  # reports to a vanished handle are dropped
    conn = pigpio.pi(emu.host, emu.port, show_errors=False)
    try:
        assert conn.connected and conn.read(GPIO) == 1
    finally:
        conn.stop()


def test_stop_ends_every_thread() -> None:
    emu = PigpiodEmulator().start()
    conn = pigpio.pi(emu.host, emu.port, show_errors=False)
    conn.set_watchdog(GPIO, 5)
    conn.stop()
    emu.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("pigpiod-")]


def test_play_rejects_bad_edges(emu: PigpiodEmulator) -> None:
    with pytest.raises(ValueError, match="gpio must be 0-31"):
        emu.play([(40, 0, 0)])
    with pytest.raises(ValueError, match="level must be 0 or 1"):
        emu.play([(GPIO, 2, 0)])
    with pytest.raises(ValueError, match="offset"):
        emu.play([(GPIO, 0, -5)])
    with pytest.raises(ValueError, match="not"):
        emu.play([(GPIO, 0)])  # type: ignore[list-item]
    assert emu.level(GPIO) == 1
