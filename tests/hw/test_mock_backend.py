"""The mock reader (injected, played and stuck edges) and the latching mock pin."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from gpiozero import DigitalOutputDevice
from gpiozero.pins.mock import MockFactory

from appliance.hw import D0, D1, HIGH, LOW, TIMEOUT, Edge, edge_source, pin_factory
from appliance.hw.mock_backend import LatchingMockPin, MockEdgeSource, make_pin_factory
from appliance.wiegand.waveform import waveform

CARD = "10000000100000000000000010"  # H10301 facility 1, card 1


class FakeClock:
    def __init__(self, t: int = 1_000) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


class Collector:
    """A sink that records edges and signals once it has ``expect`` of them."""

    def __init__(self, expect: int = 0) -> None:
        self.edges: list[Edge] = []
        self.expect = expect
        self.full = threading.Event()
        self.threads: set[str] = set()
        self.received_us: list[int] = []

    def __call__(self, edge: Edge) -> None:
        self.received_us.append(time.monotonic_ns() // 1000)
        self.edges.append(edge)
        self.threads.add(threading.current_thread().name)
        if len(self.edges) >= self.expect:
            self.full.set()


def started(
    clock: Callable[[], int] | None = None, sink: Collector | None = None
) -> tuple[MockEdgeSource, Collector]:
    source = MockEdgeSource(17, 27, clock=clock)
    sink = sink or Collector()
    source.start(sink)
    return source, sink


def test_inject_delivers_synchronously_with_given_timestamps():
    source, sink = started(FakeClock())
    edges = [Edge(D0, LOW, 10), Edge(D0, HIGH, 60), Edge(D1, TIMEOUT, 5_000)]
    source.inject(edges)
    assert sink.edges == edges
    assert source.levels() == (HIGH, HIGH)


@pytest.mark.parametrize(
    "bad",
    [(2, LOW, 0), (D0, 5, 0), (D0, LOW, -1), (D0, LOW, 1.5), (D0, LOW), "x", None],
)
def test_inject_rejects_bad_edges_and_delivers_none(bad):
    source, sink = started(FakeClock())
    with pytest.raises(ValueError, match="mock reader"):
        source.inject([Edge(D0, LOW, 1), bad])
    assert sink.edges == []
    assert source.levels() == (HIGH, HIGH)


def test_not_started_or_closed_refuses_edges():
    source = MockEdgeSource(17, 27)
    with pytest.raises(RuntimeError, match="not started"):
        source.inject([Edge(D0, LOW, 1)])
    source.start(Collector())
    source.close()
    with pytest.raises(RuntimeError, match="closed"):
        source.hold(D0, LOW)


@pytest.mark.parametrize("d0,d1", [(17, 17), (-1, 27), (True, 27), ("17", 27)])
def test_bad_pins_rejected(d0, d1):
    with pytest.raises(ValueError):
        MockEdgeSource(d0, d1)


def test_play_not_realtime_stamps_from_now():
    clock = FakeClock(5_000)
    source, sink = started(clock)
    handle = source.play(CARD, interval_us=1000, pulse_us=40, realtime=False)
    assert handle.done and handle.wait(0)
    assert handle.last_edge_perf is not None
    assert sink.edges == waveform(CARD, start_us=5_000, interval_us=1000, pulse_us=40)


def test_play_validates_before_delivering():
    source, sink = started(FakeClock())
    for bits in ("", "1021", 26):
        with pytest.raises(ValueError):
            source.play(bits, realtime=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        source.play(CARD, interval_us=50, pulse_us=50, realtime=False)
    with pytest.raises(ValueError):
        source.play(CARD, interval_us=0, realtime=False)
    assert sink.edges == []


def test_play_realtime_delivers_from_its_own_thread_on_the_clock():
    sink = Collector(expect=2 * len(CARD))
    source, _ = started(sink=sink)
    before_us = source.now_us()
    before_perf = time.perf_counter()
    handle = source.play(CARD, interval_us=300, pulse_us=50)
    assert handle.wait(5)
    after_perf = time.perf_counter()
    assert not handle.cancelled and handle.error is None
    assert sink.threads == {"mock-reader"}
    assert [(e.line, e.level) for e in sink.edges] == [
        (e.line, e.level) for e in waveform(CARD, interval_us=300, pulse_us=50)
    ]
    t0 = sink.edges[0].t_us
    assert t0 >= before_us
    # Stamped like hardware, with the waveform's exact timing on the mock's clock...
    assert sink.edges == waveform(CARD, start_us=t0, interval_us=300, pulse_us=50)
    # ...and played in real time: no edge is delivered before it is due.
    assert all(got >= e.t_us for got, e in zip(sink.received_us, sink.edges, strict=True))
    assert handle.last_edge_perf is not None and before_perf < handle.last_edge_perf <= after_perf
    source.close()


def test_concurrent_plays_are_serialised_not_interleaved():
    sink = Collector(expect=4 * 8)
    source, _ = started(sink=sink)
    first = source.play("11111111", interval_us=250, pulse_us=30)
    second = source.play("00000000", interval_us=250, pulse_us=30)
    assert first.wait(5) and second.wait(5)
    lines = [e.line for e in sink.edges]
    assert lines == [D1] * 16 + [D0] * 16
    source.close()


def test_close_cancels_a_frame_in_play():
    gate = threading.Event()
    release = threading.Event()

    def sink(edge: Edge) -> None:
        gate.set()
        release.wait(5)

    source = MockEdgeSource(17, 27)
    source.start(sink)
    playing = source.play(CARD, interval_us=20_000)
    queued = source.play(CARD)
    assert gate.wait(5)
    closer = threading.Thread(target=source.close)
    closer.start()
    release.set()
    closer.join(5)
    assert not closer.is_alive()
    assert playing.wait(5) and playing.cancelled
    assert queued.wait(5) and queued.cancelled


def test_a_failing_sink_is_reported_on_the_handle_and_the_reader_survives():
    calls = Collector(expect=2)

    def sink(edge: Edge) -> None:
        calls(edge)
        if len(calls.edges) == 1:
            raise RuntimeError("boom")

    source = MockEdgeSource(17, 27)
    source.start(sink)
    bad = source.play("1", interval_us=300)
    assert bad.wait(5) and isinstance(bad.error, RuntimeError)
    good = source.play("1", interval_us=300)
    assert good.wait(5) and good.error is None
    source.close()


def test_hold_delivers_a_stuck_line_once_and_tracks_levels():
    clock = FakeClock(777)
    source, sink = started(clock)
    assert source.hold(D0, LOW) is True
    assert source.hold(D0, LOW) is False
    assert source.levels() == (LOW, HIGH)
    clock.t = 900
    assert source.hold(D0, HIGH) is True
    assert sink.edges == [Edge(D0, LOW, 777), Edge(D0, HIGH, 900)]
    with pytest.raises(ValueError):
        source.hold(D1, TIMEOUT)
    with pytest.raises(ValueError):
        source.hold(3, LOW)


def test_registry_builds_the_mock():
    with edge_source("mock", 17, 27) as source:
        assert isinstance(source, MockEdgeSource)
        assert (source.d0, source.d1, source.tick_wrap) == (17, 27, None)
        assert abs(source.now_us() - time.monotonic_ns() // 1000) < 1_000_000


# --- LatchingMockPin --------------------------------------------------------------------------


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    """The mock back-end's pin factory (latching pins), closed after the test."""
    made = make_pin_factory()
    try:
        yield made
    finally:
        made.close()


def test_factory_makes_latching_pins():
    factory = pin_factory("mock")
    try:
        assert isinstance(factory.pin(17), LatchingMockPin)
    finally:
        factory.close()


def test_stock_output_with_state_drives_the_stale_latch_first(factory):
    pin = factory.pin(17, latch=False)  # latch holds LOW: an active-low relay's ON level
    pin.drive_high()  # the relay board's pull-up holds the input high
    pin.clear_states()
    # gpiozero's stock sequence: function first, then state
    pin.function = "output"
    pin.state = True
    assert [s.state for s in pin.states] == [True, False, True]


def test_latching_pin_output_with_state_never_drives_the_stale_level(factory):
    pin = factory.pin(17)
    assert pin.latch is False
    pin.drive_high()
    pin.clear_states()
    pin.output_with_state(True)
    assert pin.function == "output" and pin.state is True and pin.latch is True
    assert [s.state for s in pin.states] == [True]
    pin.state = False
    assert pin.latch is False
    pin.function = "input"
    pin.latch = True  # an input does not drive its latch
    assert pin.state is False
    pin.function = "output"
    assert pin.state is True


def test_output_device_on_a_latching_pin_starts_at_its_level(factory):
    pin = factory.pin(22)
    pin.drive_high()
    pin.clear_states()
    relay = DigitalOutputDevice(22, active_high=False, initial_value=False, pin_factory=factory)
    assert not relay.is_active
    assert [s.state for s in pin.states] == [True]
    relay.on()
    relay.off()
    pin.assert_states([True, False, True])
    relay.close()
