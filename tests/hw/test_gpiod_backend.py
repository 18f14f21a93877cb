"""The libgpiod reader against a fake line request fed with real gpiod.EdgeEvent objects."""

from __future__ import annotations

import errno
import os
import queue
import sys
import threading
import time
from datetime import timedelta

import gpiod
import pytest
from gpiod.line import Bias, Clock, Direction, Value
from gpiod.line import Edge as LineEdge

from appliance.hw import D0, D1, HIGH, LOW, Edge, HardwareError, edge_source, gpiod_backend
from appliance.hw.gpiod_backend import EVENT_BUFFER_SIZE, GpiodEdgeSource
from appliance.testing.gpiod_lines import FakeChip, FakeLineRequest
from appliance.wiegand.waveform import waveform

CARD = "10000000100000000000000010"
PINS = (17, 27)


class Sink:
    """Queues delivered edges so a test can wait for them without sleeping."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Edge] = queue.Queue()

    def __call__(self, edge: Edge) -> None:
        self.queue.put(edge)

    def take(self, n: int, timeout: float = 5.0) -> list[Edge]:
        return [self.queue.get(timeout=timeout) for _ in range(n)]


@pytest.fixture
def chip():
    return FakeChip()


@pytest.fixture
def running(chip):
    source = GpiodEdgeSource(*PINS, debounce_us=5, request_lines=chip)
    sink = Sink()
    source.start(sink)
    yield source, sink, chip.requests[0]
    source.close()


def test_requests_both_lines_as_pulled_up_inputs_with_both_edges_on_the_monotonic_clock(chip):
    source = GpiodEdgeSource(
        *PINS, chip="/dev/gpiochip4", debounce_us=7, consumer="door-1", request_lines=chip
    )
    source.start(Sink())
    try:
        (request,) = chip.requests
        assert request.path == "/dev/gpiochip4"
        assert request.consumer == "door-1"
        assert request.event_buffer_size == EVENT_BUFFER_SIZE
        assert set(request.settings) == set(PINS)
        settings = request.settings[17]
        assert settings.direction == Direction.INPUT
        assert settings.edge_detection == LineEdge.BOTH
        assert settings.bias == Bias.PULL_UP
        assert settings.event_clock == Clock.MONOTONIC
        assert settings.debounce_period == timedelta(microseconds=7)
    finally:
        source.close()


def test_events_become_edges_with_kernel_timestamps(running):
    _, sink, request = running
    request.push(
        [
            request.event(17, LOW, 1_000_123_456),
            request.event(17, HIGH, 1_000_173_999),
            request.event(27, LOW, 1_002_000_000),
            request.event(27, HIGH, 1_002_050_001),
        ]
    )
    assert sink.take(4) == [
        Edge(D0, LOW, 1_000_123),
        Edge(D0, HIGH, 1_000_173),
        Edge(D1, LOW, 1_002_000),
        Edge(D1, HIGH, 1_002_050),
    ]


def test_a_whole_frame_queued_at_once_comes_out_in_order_with_its_timing(running):
    _, sink, request = running
    frames = waveform(CARD, start_us=5_000_000) + waveform(CARD, start_us=6_000_000)
    request.push_edges(PINS, frames)  # 104 events: more than one read's worth
    assert sink.take(len(frames)) == frames
    assert request.read_calls >= 2


def test_unknown_lines_are_ignored_and_a_failing_sink_does_not_stop_the_reader(chip):
    delivered = Sink()
    failed = threading.Event()

    def sink(edge: Edge) -> None:
        if not failed.is_set():
            failed.set()
            raise RuntimeError("boom")
        delivered(edge)

    source = GpiodEdgeSource(*PINS, request_lines=chip)
    source.start(sink)
    try:
        request = chip.requests[0]
        request.push(
            [
                request.event(17, LOW, 1_000),
                request.event(5, LOW, 2_000),
                request.event(27, LOW, 3_000),
            ]
        )
        assert delivered.take(1) == [Edge(D1, LOW, 3)]
        assert failed.is_set()
    finally:
        source.close()


def test_lost_events_are_reported(running, caplog):
    _, sink, request = running
    with caplog.at_level("WARNING", logger="appliance.hw.gpiod_backend"):
        request.push([request.event(17, LOW, 1_000)])
        request._seqno += 3  # the kernel overwrote three events
        request.push([request.event(17, HIGH, 60_000)])
        assert sink.take(2) == [Edge(D0, LOW, 1), Edge(D0, HIGH, 60)]
    assert "3 edge events lost" in caplog.text


def test_levels_come_from_the_lines(running):
    source, _, request = running
    assert source.levels() == (HIGH, HIGH)
    request.values[17] = Value.INACTIVE
    assert source.levels() == (LOW, HIGH)


def test_close_stops_the_thread_promptly_and_releases_the_lines(chip):
    source = GpiodEdgeSource(*PINS, request_lines=chip)
    source.start(Sink())
    request = chip.requests[0]
    thread = source._thread
    assert thread is not None and thread.is_alive()
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 1.0
    assert not thread.is_alive()
    assert request.released
    assert request.read_calls == 0  # it waited on the fd: never read without an event queued
    source.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        source.start(Sink())
    with pytest.raises(RuntimeError, match="not started"):
        source.levels()


def test_start_twice_is_refused(running):
    source, _, _ = running
    with pytest.raises(RuntimeError, match="already started"):
        source.start(Sink())


def test_now_is_the_monotonic_clock_of_the_events():
    source = GpiodEdgeSource(*PINS, request_lines=FakeChip())
    before = time.monotonic_ns() // 1000
    now = source.now_us()
    assert before <= now <= time.monotonic_ns() // 1000
    assert source.tick_wrap is None


@pytest.mark.parametrize(
    "error, hint",
    [
        (FileNotFoundError(errno.ENOENT, "No such file or directory"), "gpiochip4"),
        (PermissionError(errno.EACCES, "Permission denied"), "'gpio' group"),
        (OSError(errno.EBUSY, "Device or resource busy"), "busy"),
        (OSError(errno.ENODEV, "No such device"), "not a GPIO chip"),
        (ValueError("line offset of out range"), "BCM numbers"),
        (OSError(errno.EIO, "I/O error"), "I/O error"),
    ],
)
def test_request_errors_name_the_chip_the_pins_and_what_to_check(error, hint):
    source = GpiodEdgeSource(*PINS, request_lines=FakeChip(error))
    with pytest.raises(HardwareError) as caught:
        source.start(Sink())
    message = str(caught.value)
    assert "/dev/gpiochip0" in message and "D0=17" in message and "D1=27" in message
    assert hint in message
    assert source._thread is None


def test_the_real_library_is_used_by_default():
    source = GpiodEdgeSource(*PINS, chip="/dev/no-such-gpiochip")
    with pytest.raises(HardwareError, match="no such GPIO chip"):
        source.start(Sink())


def test_request_lines_is_looked_up_on_the_gpiod_module(monkeypatch):
    chip = FakeChip()
    monkeypatch.setattr(gpiod, "request_lines", chip)  # the module the backend calls through
    with edge_source("gpiod", 5, 6, chip="/dev/gpiochip0", debounce_us=0) as source:
        source.start(Sink())
        assert isinstance(chip.requests[0], FakeLineRequest)
    assert chip.requests[0].released


@pytest.mark.parametrize("debounce", [20, 50, -1, 1.5, True])
def test_debounce_at_or_above_the_pulse_width_is_rejected(debounce):
    with pytest.raises(ValueError, match="debounce_us"):
        GpiodEdgeSource(*PINS, debounce_us=debounce)


def test_debounce_just_below_the_minimum_pulse_is_accepted():
    assert GpiodEdgeSource(*PINS, debounce_us=19).debounce_us == 19


@pytest.mark.parametrize(
    "kwargs",
    [
        {"d0": 17, "d1": 17},
        {"d0": -1, "d1": 2},
        {"d0": "17", "d1": 2},
        {"d0": 1, "d1": 2, "chip": ""},
        {"d0": 1, "d1": 2, "consumer": ""},
    ],
)
def test_bad_arguments_are_rejected(kwargs):
    with pytest.raises(ValueError, match="gpiod reader"):
        GpiodEdgeSource(**kwargs)


def test_pin_factory_is_lgpio_and_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "lgpio", None)  # makes `import lgpio` fail here
    monkeypatch.setitem(sys.modules, "gpiozero.pins.lgpio", None)
    with pytest.raises(HardwareError, match=r"pip install 'doorward\[lgpio\]'"):
        gpiod_backend.make_pin_factory(chip="/dev/gpiochip0")


def test_events_are_real_gpiod_edge_events(running):
    _, _, request = running
    event = request.event(17, LOW, 42)
    assert isinstance(event, gpiod.EdgeEvent)
    assert event.event_type == gpiod.EdgeEvent.Type.FALLING_EDGE


def test_now_holds_at_the_last_delivered_edge_while_events_are_in_flight(chip):
    """A frame's gap must not be judged over while its next edges wait to be handed over."""
    source = GpiodEdgeSource(*PINS, request_lines=chip)
    handed: queue.Queue[Edge] = queue.Queue()
    release = threading.Event()

    def slow_sink(edge: Edge) -> None:  # the reader thread stalls on the second edge
        handed.put(edge)
        if handed.qsize() == 2:
            release.wait(5)

    source.start(slow_sink)
    try:
        request = chip.requests[0]
        t0 = time.monotonic_ns() - 50_000_000  # edges 50 ms in the past
        request.push([request.event(17, LOW, t0), request.event(17, HIGH, t0 + 50_000)])
        request.push([request.event(27, LOW, t0 + 2_000_000)])
        first = handed.get(timeout=5)
        handed.get(timeout=5)  # the second is being handed over now: the thread is busy
        assert source.now_us() == first.t_us  # not the clock, 50 ms later
        release.set()
        assert handed.get(timeout=5).t_us == (t0 + 2_000_000) // 1000
        deadline = time.monotonic() + 5
        while source.now_us() < time.monotonic_ns() // 1000 - 1_000_000:
            assert time.monotonic() < deadline  # all handed over: now is the clock again
            os.sched_yield()
    finally:
        release.set()
        source.close()
