"""The pigpio back-end against the pigpiod emulator, through the real pigpio client and gpiozero."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator

import pigpio
import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins.pigpio import PiGPIOFactory

from appliance.hw import D0, D1, HIGH, LOW, TIMEOUT, Edge, HardwareError, edge_source
from appliance.hw.pigpio_backend import PigpioEdgeSource, make_edge_source, make_pin_factory
from appliance.testing.mosquitto import free_port
from appliance.testing.pigpiod import BR1, NOIB, TICK, WRAP, PigpiodEmulator, card_edges

D0_GPIO, D1_GPIO, RELAY_GPIO = 5, 6, 17
BITS = "10110011100011110000111110"  # 26 bits
WAIT_S = 5.0
Factory = Callable[..., PigpioEdgeSource]


class Sink:
    """Collects edges from the back-end's thread; ``done`` is set once ``want`` have arrived."""

    def __init__(self, want: int) -> None:
        self.want = want
        self.edges: list[Edge] = []
        self.arrived: list[float] = []
        self.done = threading.Event()

    def __call__(self, edge: Edge) -> None:
        self.edges.append(edge)
        self.arrived.append(time.perf_counter())
        if len(self.edges) >= self.want:
            self.done.set()


class FakeClock:
    """A host clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def expected(bits: str, interval_us: int, pulse_us: int = 50) -> list[tuple[int, int, int]]:
    """(line, level, offset) for a frame, as the sink should see it."""
    line = {D0_GPIO: D0, D1_GPIO: D1}
    return [
        (line[g], lvl, t) for g, lvl, t in card_edges(bits, D0_GPIO, D1_GPIO, interval_us, pulse_us)
    ]


@pytest.fixture
def emu() -> Iterator[PigpiodEmulator]:
    with PigpiodEmulator() as emulator:
        yield emulator


@pytest.fixture
def source(emu: PigpiodEmulator) -> Iterator[Factory]:
    """Builds edge sources on the emulator and closes them before it stops."""
    made: list[PigpioEdgeSource] = []

    def build(**options: object) -> PigpioEdgeSource:
        options = {"host": emu.host, "port": emu.port, **options}
        made.append(PigpioEdgeSource(D0_GPIO, D1_GPIO, **options))  # type: ignore[arg-type]
        return made[-1]

    yield build
    for src in made:
        src.close()


@pytest.mark.parametrize("interval_us", [1000, 2000])
def test_burst_frame_arrives_in_order_with_its_ticks(
    emu: PigpiodEmulator, source: Factory, interval_us: int
) -> None:
    src = source()
    sink = Sink(52)
    src.start(sink)
    result = emu.play(card_edges(BITS, D0_GPIO, D1_GPIO, interval_us, 50))
    assert sink.done.wait(WAIT_S)
    base = (result.tick - expected(BITS, interval_us)[-1][2]) % WRAP
    got = [(e.line, e.level, (e.t_us - base) % WRAP) for e in sink.edges]
    assert got == expected(BITS, interval_us)
    assert sink.edges[-1].t_us == result.tick


def test_realtime_frame_is_stamped_as_it_happens(emu: PigpiodEmulator, source: Factory) -> None:
    src = source()
    bits, interval = BITS[:12], 1000
    sink = Sink(2 * len(bits))
    src.start(sink)
    tick_before, perf_before = emu.tick(), time.perf_counter()
    result = emu.play(card_edges(bits, D0_GPIO, D1_GPIO, interval, 50), realtime=True)
    assert sink.done.wait(WAIT_S)
    want = expected(bits, interval)
    assert [(e.line, e.level) for e in sink.edges] == [(line, lvl) for line, lvl, _ in want]
    for edge, (_, _, offset), arrived in zip(sink.edges, want, sink.arrived, strict=True):
        late_us = (edge.t_us - tick_before) % WRAP - offset
        assert 0 <= late_us < 1_000_000  # never early: each report waits for its time
        assert arrived - perf_before >= offset / 1e6
    ticks = [e.t_us for e in sink.edges]
    assert all(0 <= (b - a) % WRAP < WRAP // 2 for a, b in itertools.pairwise(ticks))
    assert sink.edges[-1].t_us == result.tick and result.reports == len(want)


def test_frame_across_the_tick_wrap_arrives_wrapped() -> None:
    start = WRAP - 10_000
    with PigpiodEmulator(start_tick=start - 1_000_000) as emu:
        src = PigpioEdgeSource(D0_GPIO, D1_GPIO, host=emu.host, port=emu.port)
        try:
            sink = Sink(52)
            src.start(sink)
            emu.play(card_edges(BITS, D0_GPIO, D1_GPIO, 2000, 50), at_tick=start)
            assert sink.done.wait(WAIT_S)
        finally:
            src.close()
    assert [(e.line, e.level, e.t_us) for e in sink.edges] == [
        (line, lvl, (start + t) % WRAP) for line, lvl, t in expected(BITS, 2000)
    ]
    assert sink.edges[0].t_us >= start and sink.edges[-1].t_us < 50_000


def test_daemon_address_from_the_environment_at_connect_time(
    emu: PigpiodEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIGPIO_ADDR", emu.host)
    monkeypatch.setenv("PIGPIO_PORT", str(emu.port))
    with PigpioEdgeSource(D0_GPIO, D1_GPIO) as src:
        assert isinstance(src, PigpioEdgeSource)
        assert (src.host, src.port) == (emu.host, emu.port)
        assert emu.command_counts[NOIB] == 1
    factory = make_pin_factory()
    try:
        assert factory.port == emu.port and emu.command_counts[NOIB] == 2
    finally:
        factory.close()
    monkeypatch.setenv("PIGPIO_PORT", "eighty")
    with pytest.raises(HardwareError, match="PIGPIO_PORT='eighty'"):
        PigpioEdgeSource(D0_GPIO, D1_GPIO)


def test_unreachable_daemon_fails_fast_and_clearly() -> None:
    port = free_port()
    threads = set(threading.enumerate())
    started = time.perf_counter()
    with pytest.raises(HardwareError, match=rf"127\.0\.0\.1:{port}.*sudo systemctl start pigpiod"):
        PigpioEdgeSource(D0_GPIO, D1_GPIO, host="127.0.0.1", port=port)
    with pytest.raises(HardwareError, match=rf"127\.0\.0\.1:{port}.*sudo systemctl start pigpiod"):
        make_pin_factory("127.0.0.1", port)
    assert time.perf_counter() - started < 1.0
    assert set(threading.enumerate()) <= threads


def test_watchdog_timeouts_arrive_on_both_lines(emu: PigpiodEmulator, source: Factory) -> None:
    src = source(watchdog_ms=10)
    assert (emu.watchdog(D0_GPIO), emu.watchdog(D1_GPIO)) == (10, 10)
    sink = Sink(4)
    src.start(sink)
    assert sink.done.wait(WAIT_S)
    assert {e.level for e in sink.edges} == {TIMEOUT}
    assert {e.line for e in sink.edges} == {D0, D1}


def test_glitch_filter_is_applied_and_delays_edges(emu: PigpiodEmulator, source: Factory) -> None:
    src = source(glitch_us=5)
    assert (emu.glitch(D0_GPIO), emu.glitch(D1_GPIO)) == (5, 5)
    sink = Sink(2)
    src.start(sink)
    start = (emu.tick() + 1_000_000) % WRAP
    emu.play(
        [(D0_GPIO, 0, 0), (D0_GPIO, 1, 3), (D0_GPIO, 0, 100), (D0_GPIO, 1, 150)], at_tick=start
    )
    assert sink.done.wait(WAIT_S)
    assert sink.edges == [Edge(D0, LOW, (start + 105) % WRAP), Edge(D0, HIGH, (start + 155) % WRAP)]


def test_bad_settings_are_refused_before_connecting() -> None:
    port = free_port()  # nothing listens: a ValueError proves no connection was tried
    for kwargs, message in [
        ({"glitch_us": 20}, "glitch_us"),
        ({"glitch_us": -1}, "glitch_us"),
        ({"watchdog_ms": 60_001}, "watchdog_ms"),
        ({"watchdog_ms": True}, "watchdog_ms"),
    ]:
        with pytest.raises(ValueError, match=message):
            PigpioEdgeSource(D0_GPIO, D1_GPIO, host="127.0.0.1", port=port, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="different"):
        PigpioEdgeSource(D0_GPIO, D0_GPIO, host="127.0.0.1", port=port)
    with pytest.raises(ValueError, match="d1"):
        PigpioEdgeSource(D0_GPIO, 32, host="127.0.0.1", port=port)
    with pytest.raises(HardwareError, match="unknown pigpio option"):
        make_edge_source(D0_GPIO, D1_GPIO, debounce=3)


def test_now_us_tracks_the_daemon_without_a_round_trip_each_call(
    emu: PigpiodEmulator, source: Factory
) -> None:
    src = source()
    ticks_asked = emu.command_counts[TICK]
    for _ in range(100):
        before = emu.tick()
        now = src.now_us()
        after = emu.tick()
        assert (now - before) % WRAP < 3000 or (after - now) % WRAP < 3000
    assert emu.command_counts[TICK] == ticks_asked


def test_now_us_wraps_and_resyncs_once_a_second() -> None:
    clock = FakeClock()
    with PigpiodEmulator(start_tick=WRAP - 500_000) as emu:
        before = emu.tick()
        src = PigpioEdgeSource(D0_GPIO, D1_GPIO, host=emu.host, port=emu.port, clock=clock)
        try:
            after = emu.tick()  # the source synced between these two
            ticks_asked = emu.command_counts[TICK]
            clock.now += 0.9
            wrapped = src.now_us()
            assert (before + 900_000) % WRAP <= wrapped <= (after + 900_000) % WRAP < 900_000
            clock.now += 0.05
            assert src.now_us() == wrapped + 50_000 and emu.command_counts[TICK] == ticks_asked
            clock.now += 1.0  # stale: a resync finds the daemon behind this fake clock: hold still
            assert src.now_us() == wrapped + 50_000
            assert emu.command_counts[TICK] == ticks_asked + 1
        finally:
            src.close()


def test_levels_and_close(emu: PigpiodEmulator, source: Factory) -> None:
    src = source(watchdog_ms=1000, glitch_us=2)
    emu.set_level(D0_GPIO, 0)
    assert src.levels() == (0, 1)
    src.start(Sink(1))
    with pytest.raises(HardwareError, match="already started"):
        src.start(Sink(1))
    src.close()
    src.close()
    assert (emu.watchdog(D0_GPIO), emu.glitch(D0_GPIO), emu.watchdog(D1_GPIO)) == (0, 0, 0)
    with pytest.raises(HardwareError, match="closed"):
        src.start(Sink(1))


def test_a_failing_sink_does_not_stop_later_edges(emu: PigpiodEmulator, source: Factory) -> None:
    src = source()
    sink = Sink(4)

    def flaky(edge: Edge) -> None:
        sink(edge)
        if len(sink.edges) == 1:
            raise RuntimeError("sink bug")

    src.start(flaky)
    emu.play(card_edges("01", D0_GPIO, D1_GPIO, 1000, 50))
    assert sink.done.wait(WAIT_S)
    assert [(e.line, e.level) for e in sink.edges] == [(D0, LOW), (D0, HIGH), (D1, LOW), (D1, HIGH)]


def test_registry_builds_the_pigpio_source(emu: PigpiodEmulator) -> None:
    with edge_source("pigpio", D0_GPIO, D1_GPIO, host=emu.host, port=emu.port) as src:
        assert isinstance(src, PigpioEdgeSource) and src.tick_wrap == WRAP
        assert emu.command_counts[BR1] == 1


def stale_relay_latch(emu: PigpiodEmulator) -> None:
    """A previous run released the relay pin to input with 0 (the active level) in its latch."""
    pi = pigpio.pi(emu.host, emu.port, show_errors=False)
    try:
        pi.write(RELAY_GPIO, 0)
        pi.set_mode(RELAY_GPIO, pigpio.INPUT)
    finally:
        pi.stop()


def relay_on_factory(emu: PigpiodEmulator, factory: PiGPIOFactory) -> list[int]:
    """Build an active-low relay that starts off; return the levels its pin drove."""
    skip = len(emu.driven_levels(RELAY_GPIO))
    relay = DigitalOutputDevice(
        RELAY_GPIO, active_high=False, initial_value=False, pin_factory=factory
    )
    try:
        assert emu.level(RELAY_GPIO) == 1 and not relay.value
        mark = len(emu.records)
        relay.on()
        assert emu.wait_for_write(RELAY_GPIO, 0, WAIT_S, since=mark) is not None
        relay.off()
        return emu.driven_levels(RELAY_GPIO)[skip:]
    finally:
        relay.close()
        factory.close()


def test_safe_factory_never_drives_the_active_level_at_start(emu: PigpiodEmulator) -> None:
    stale_relay_latch(emu)
    driven = relay_on_factory(emu, make_pin_factory(emu.host, emu.port))
    assert driven == [1, 0, 1]  # off from the first instant, then on and off as asked


def test_stock_factory_clicks_the_relay_on_a_stale_latch(emu: PigpiodEmulator) -> None:
    stale_relay_latch(emu)
    driven = relay_on_factory(emu, PiGPIOFactory(host=emu.host, port=emu.port))
    assert driven == [
        0,
        1,
        0,
        1,
    ]  # the stale 0 went out before the initial 1: why the safe one exists


def test_safe_factory_keeps_a_driven_relay_driven_across_a_restart(emu: PigpiodEmulator) -> None:
    """A controller restart must not float the strike pin a previous run left driven locked."""
    pi = pigpio.pi(emu.host, emu.port, show_errors=False)
    try:
        pi.write(RELAY_GPIO, 1)  # the previous run: an active-low relay held off, as an output
    finally:
        pi.stop()
    mark = len(emu.records)
    factory = make_pin_factory(emu.host, emu.port)
    try:
        relay = DigitalOutputDevice(
            RELAY_GPIO, active_high=False, initial_value=False, pin_factory=factory
        )
        assert not relay.value
        changes = [r for r in emu.records[mark:] if r.gpio == RELAY_GPIO]
        assert all(not (r.what == "mode" and r.value == pigpio.INPUT) for r in changes)
        assert set(emu.driven_levels(RELAY_GPIO)) == {1}
    finally:
        factory.close()


def test_a_lost_daemon_fails_loudly_after_three_resyncs() -> None:
    """The client never recovers from a lost daemon, so the controller must exit and restart."""
    clock = FakeClock()
    emu = PigpiodEmulator()
    emu.start()
    src = PigpioEdgeSource(D0_GPIO, D1_GPIO, host=emu.host, port=emu.port, clock=clock)
    try:
        emu.stop()
        for _ in range(2):
            clock.now += 1.1
            src.now_us()  # logged, not yet fatal: a daemon can be slow once
        clock.now += 1.1
        with pytest.raises(HardwareError, match="lost pigpiod"):
            src.now_us()
    finally:
        src.close()


def test_switching_the_relay_is_one_command(emu: PigpiodEmulator) -> None:
    """The strike's hot path: no mode query before each write, as gpiozero's stock pin does."""
    factory = make_pin_factory(emu.host, emu.port)
    try:
        relay = DigitalOutputDevice(
            RELAY_GPIO, active_high=False, initial_value=False, pin_factory=factory
        )
        before = sum(emu.command_counts.values())
        relay.on()
        relay.off()
        assert sum(emu.command_counts.values()) - before == 2
        assert emu.driven_levels(RELAY_GPIO)[-2:] == [0, 1]
    finally:
        factory.close()


def test_late_reports_hold_now_back_by_the_lag_they_showed(emu: PigpiodEmulator) -> None:
    """Reports that arrive late make ``now_us`` wait for stragglers: never past a frame's edges."""
    clock = FakeClock()
    src = PigpioEdgeSource(D0_GPIO, D1_GPIO, host=emu.host, port=emu.port, clock=clock)
    try:
        sink = Sink(4)
        src.start(sink)
        clock.now += 0.020  # the host thinks 20 ms passed before these reports came in
        emu.play(card_edges("01", D0_GPIO, D1_GPIO, 1000, 50))
        assert sink.done.wait(WAIT_S)
        last = sink.edges[-1].t_us
        held = (src.now_us() - last) % WRAP
        assert held < 2_000 or held > WRAP - 2_000  # about the last edge, not 20 ms on
        assert (src.clock_us() - last) % WRAP > 15_000  # the measuring clock is not held back
        clock.now += 10.0  # ten quiet seconds: the allowance has decayed
        assert (src.now_us() - src.clock_us()) % WRAP > WRAP - 1_000
    finally:
        src.close()
