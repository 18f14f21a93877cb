"""Tests for appliance.wiegand.frames: timestamped edges in, frames and wiring faults out."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appliance.testing.wiegand_drive import (
    INTER_CARD_US,
    TICK_WRAP,
    Driver,
    NoiseSpec,
    Pulse,
    Wave,
    bit_strings,
    edges_of,
    gap_bound,
    garbage,
    garbage_edges,
    make_wave,
    noise_specs,
    waves,
    with_noise,
)
from appliance.wiegand.edges import D0, D1, HIGH, LOW, TIMEOUT, Edge
from appliance.wiegand.frames import Fault, Frame, FrameAssembler, FrameTiming
from appliance.wiegand.waveform import SIA_MAX_INTERVAL_US, SIA_MIN_PULSE_US, waveform


def assembled(
    asm: FrameAssembler, edges: Iterable[Edge], start_us: int, wrap: int | None = None
) -> Driver[Frame | Fault]:
    return Driver(asm, start_us, wrap).feed(edges).settle()


# -- properties --------------------------------------------------------------------------------


@given(waves(bit_strings(2, 128)), st.booleans())
def test_a_waveform_becomes_exactly_its_frame(w: Wave, known_length: bool) -> None:
    asm = FrameAssembler(frame_bits=len(w.bits) if known_length else None)
    d = assembled(asm, w.edges(), w.first_fall - 1_000)
    ended_by = "frame_bits" if known_length else "gap"
    assert d.results() == [Frame(w.bits, w.first_fall, w.last_edge, w.max_interval, ended_by)]
    [(at, _)] = d.out
    if known_length:
        assert at == w.last_edge  # complete at its last edge, not a µs later
    else:
        assert w.last_edge < at <= gap_bound(w)
    assert asm.noise_pulses == 0


@given(waves(bit_strings(2, 64)), noise_specs, st.booleans())
def test_noise_pulses_change_nothing_and_are_counted(
    w: Wave, noise: list[NoiseSpec], known_length: bool
) -> None:
    pulses, added = with_noise(w.pulses, noise)
    asm = FrameAssembler(frame_bits=len(w.bits) if known_length else None)
    d = assembled(asm, edges_of(pulses), w.first_fall - 5_000)
    [frame] = d.results()
    assert isinstance(frame, Frame)
    assert (frame.bits, frame.start_us, frame.end_us) == (w.bits, w.first_fall, w.last_edge)
    assert asm.noise_pulses == added


@given(
    waves(bit_strings(2, 64)),
    waves(bit_strings(2, 64)),
    st.integers(INTER_CARD_US, 2_000_000),
    st.booleans(),
)
def test_frames_back_to_back_stay_apart(
    first: Wave, second: Wave, gap: int, known_length: bool
) -> None:
    second = second.shifted(first.last_edge + gap)
    bits = len(first.bits) if known_length and len(first.bits) == len(second.bits) else None
    asm = FrameAssembler(frame_bits=bits)
    d = assembled(asm, first.edges() + second.edges(), first.first_fall - 1_000)
    assert [f.bits for f in d.results() if isinstance(f, Frame)] == [first.bits, second.bits]
    assert len(d.results()) == 2


@given(
    waves(bit_strings(2, 128), start=st.just(0)),
    st.integers(0, 10**9),
    st.booleans(),
)
def test_a_frame_straddling_the_tick_wrap(w: Wave, offset: int, known_length: bool) -> None:
    span = w.last_edge - w.first_fall
    w = w.shifted(TICK_WRAP - offset % (span + 2_000) + 1_000)  # the wrap falls anywhere in it
    asm = FrameAssembler(frame_bits=len(w.bits) if known_length else None, tick_wrap=TICK_WRAP)
    d = assembled(asm, w.edges(), w.first_fall - 1_000, wrap=TICK_WRAP)
    [frame] = d.results()
    assert isinstance(frame, Frame)
    assert frame.bits == w.bits
    assert (frame.end_us - frame.start_us, frame.interval_us) == (span, w.max_interval)
    [(at, _)] = d.out
    assert at == w.last_edge if known_length else at <= gap_bound(w)


@given(
    garbage,
    st.sampled_from([None, 4, 26, 128]),
    st.sampled_from([None, TICK_WRAP]),
    st.integers(0, 2 * TICK_WRAP),
)
def test_garbage_edges_never_raise_or_stall(
    steps: list[tuple[int, int, int]], frame_bits: int | None, wrap: int | None, start: int
) -> None:
    asm = FrameAssembler(frame_bits=frame_bits, tick_wrap=wrap)
    edges = garbage_edges(steps, start)
    d = Driver(asm, start, wrap).feed(edges).settle()
    for r in d.results():
        if isinstance(r, Frame):
            assert r.bits and not r.bits.strip("01")
            assert len(r.bits) <= (frame_bits or asm.timing.max_bits + 1)
        else:
            assert r.kind in ("overlap", "stuck")
    # Whatever the garbage left behind, the lines go high and the next frame comes through whole.
    end = max([start, *(e.t_us for e in edges)]) + 1
    d.feed([Edge(D0, HIGH, end), Edge(D1, HIGH, end)]).settle().out.clear()
    w = make_wave(("10" * 64)[: frame_bits or 26], d.now + INTER_CARD_US, 2_000, 50, [0] * 127)
    ended_by = "gap" if frame_bits is None else "frame_bits"
    [frame] = d.feed(w.edges()).settle().results()
    assert isinstance(frame, Frame)
    assert (frame.bits, frame.interval_us, frame.ended_by) == (w.bits, 2_000, ended_by)
    assert (frame.start_us - w.first_fall) % TICK_WRAP == 0


# -- targeted cases ---------------------------------------------------------------------------


def frames_of(results: Iterable[Frame | Fault]) -> list[str]:
    return [r.bits for r in results if isinstance(r, Frame)]


def test_a_4us_glitch_mid_frame_is_ignored_and_counted() -> None:
    pulses = make_wave("0110", 0, 2_000, 50, [0, 0, 0]).pulses
    glitches = [(D1, 1_000, 1_004), (D0, 2_010, 2_014)]  # between bits; across a D1 pulse
    asm = FrameAssembler()
    assert frames_of(assembled(asm, edges_of([*pulses, *glitches]), 0).results()) == ["0110"]
    assert asm.noise_pulses == 2


def test_a_pulse_of_exactly_the_minimum_width_is_a_bit() -> None:
    asm = FrameAssembler()
    noise = [Edge(D0, LOW, 3_000), Edge(D0, HIGH, 3_019)]
    edges = [*waveform("01", 0, 1_000, SIA_MIN_PULSE_US), *noise]
    assert frames_of(assembled(asm, edges, 0).results()) == ["01"]
    assert asm.noise_pulses == 1


def test_a_1ms_reader_frame_ends_within_3ms_of_its_last_edge() -> None:
    w = make_wave("1" * 26, 0, 1_000, 50, [0] * 25)
    [(at, frame)] = assembled(FrameAssembler(), w.edges(), 0).out
    assert isinstance(frame, Frame) and frame.ended_by == "gap"
    assert 0 < at - w.last_edge <= 3_000


def test_a_2ms_reader_frame_ends_within_7ms_of_its_last_edge() -> None:
    w = make_wave("0" * 34, 0, 2_000, 50, [0] * 33)
    [(at, frame)] = assembled(FrameAssembler(), w.edges(), 0).out
    assert isinstance(frame, Frame)
    assert 0 < at - w.last_edge <= 7_000


def test_a_200us_reader_waits_at_least_1ms() -> None:
    w = make_wave("01" * 13, 0, 200, 20, [0] * 25)
    [(at, _)] = assembled(FrameAssembler(), w.edges(), 0).out
    assert at == w.last_fall + 1_000


@pytest.mark.parametrize("bits", ["10", "1" * 26, "0" * 48])
@pytest.mark.parametrize("longest_first", [False, True])
def test_a_20ms_reader_is_never_split(bits: str, longest_first: bool) -> None:
    # A gap learnt from the frame: the worst cases put the shortest or longest interval first.
    first, rest = (50, -50) if longest_first else (-50, 50)
    w = make_wave(bits, 0, SIA_MAX_INTERVAL_US, 100, [first] + [rest] * (len(bits) - 2))
    assert frames_of(assembled(FrameAssembler(), w.edges(), 0).results()) == [bits]


def test_a_one_bit_frame_waits_for_the_slowest_reader() -> None:
    w = make_wave("1", 0, 1_000, 50, [])
    [(at, frame)] = assembled(FrameAssembler(), w.edges(), 0).out
    assert frame == Frame("1", 0, 50, None, "gap")
    assert SIA_MAX_INTERVAL_US * 21 // 20 < at <= 30_000


def test_frame_bits_ends_the_frame_at_its_last_edge_and_starts_the_next() -> None:
    asm = FrameAssembler(frame_bits=4)
    edges = waveform("10110011", 0, 1_000, 50)
    out = asm.feed(edges[0])
    for e in edges[1:8]:
        out += asm.feed(e)
    assert out == [Frame("1011", 0, 3_050, 1_000, "frame_bits")]
    assert frames_of(assembled(asm, edges[8:], 4_000).results()) == ["0011"]


def test_both_lines_low_is_a_wiring_fault_then_the_next_frame_decodes() -> None:
    bad = [*make_wave("1100", 0, 1_000, 50, [0] * 3).pulses, (D0, 1_010, 1_070)]
    good = make_wave("1011", 200_000, 1_000, 50, [0] * 3)
    d = assembled(FrameAssembler(), edges_of(bad) + good.edges(), 0)
    [fault, frame] = d.results()
    assert isinstance(fault, Fault) and fault.kind == "overlap"
    assert frame == Frame("1011", 200_000, 203_050, 1_000, "gap")


@pytest.mark.parametrize(
    "overlap",
    [
        (D0, 3_040, 3_100),  # starts inside the last pulse, ends after it
        (D0, 2_990, 3_030),  # starts before the last pulse, ends inside it
        (D0, 3_010, 3_040),  # wholly inside it
    ],
)
def test_an_overlap_on_the_last_bit_is_a_fault_even_with_frame_bits(overlap: Pulse) -> None:
    pulses = [*make_wave("1011", 0, 1_000, 50, [0] * 3).pulses, overlap]
    d = assembled(FrameAssembler(frame_bits=4), edges_of(pulses), 0)
    assert [type(r) for r in d.results()] == [Fault]


def test_a_stuck_line_is_one_fault_then_recovers() -> None:
    asm = FrameAssembler()
    d = Driver(asm, 0).feed([Edge(D0, LOW, 0)])
    d.wait(400_000)
    assert d.results() == [Fault("stuck", "D0 held low for more than 50 ms", 50_000)]
    assert asm.deadline_in(d.now) is None  # nothing more will come of it by waiting
    w = make_wave("0110", d.now + INTER_CARD_US, 1_000, 50, [0] * 3)
    d.feed([Edge(D0, HIGH, d.now + 1), *w.edges()]).settle()
    assert frames_of(d.results()) == ["0110"]


def test_a_line_low_at_start_is_watched_for_being_stuck() -> None:
    asm = FrameAssembler()
    asm.set_levels((HIGH, LOW), 1_000)
    assert asm.deadline_in(1_000) == 50_000
    assert asm.poll(51_000) == [Fault("stuck", "D1 held low for more than 50 ms", 51_000)]


def test_a_stuck_line_mid_frame_drops_the_frame() -> None:
    pulses = [*make_wave("10", 0, 1_000, 50, [0]).pulses, (D1, 2_000, 90_000)]
    d = assembled(FrameAssembler(), edges_of(pulses), 0)
    assert [(type(r), getattr(r, "kind", None)) for r in d.results()] == [(Fault, "stuck")]


def test_a_long_pulse_past_the_gap_does_not_spin() -> None:
    # A line held low (not yet stuck) past the gap: nothing is due until it goes high or sticks.
    pulses = [*make_wave("10", 0, 1_000, 50, [0]).pulses, (D0, 2_000, 20_000)]
    d = assembled(FrameAssembler(), edges_of(pulses), 0)
    assert frames_of(d.results()) == ["100"]


def test_overlong_frames_are_cut_one_past_the_maximum() -> None:
    w = make_wave("1" * 300, 0, 500, 50, [0] * 299)
    [frame] = assembled(FrameAssembler(), w.edges(), 0).results()
    assert isinstance(frame, Frame) and frame.bits == "1" * 129


def test_rising_edges_without_a_fall_and_repeated_levels_are_harmless() -> None:
    edges = [Edge(D1, HIGH, 0), Edge(D0, LOW, 100), Edge(D0, LOW, 120), Edge(D0, HIGH, 150)]
    edges += [Edge(D0, HIGH, 160), Edge(D1, TIMEOUT, 170), *waveform("1", 1_100, 1_000, 50)]
    assert frames_of(assembled(FrameAssembler(), edges, 0).results()) == ["01"]


def test_deadline_in_is_none_when_idle() -> None:
    asm = FrameAssembler(tick_wrap=TICK_WRAP)
    assert asm.deadline_in(123) is None
    assert asm.poll(456) == []


@pytest.mark.parametrize("bits", [0, -1, 129, True, 2.5, "26"])
def test_frame_bits_must_be_a_whole_number_in_range(bits: object) -> None:
    with pytest.raises(ValueError, match="frame_bits must be an integer from 1 to 128"):
        FrameAssembler(frame_bits=bits)  # type: ignore[arg-type]


def test_frame_bits_range_follows_the_timing() -> None:
    with pytest.raises(ValueError, match="from 1 to 64"):
        FrameAssembler(frame_bits=65, timing=FrameTiming(max_bits=64))


def test_with_frame_bits_a_late_poll_never_cuts_a_card_short() -> None:
    """Edges delivered late (a busy process): a poll in between must not end the frame."""
    bits = "10000000100000000000000010"
    edges = waveform(bits, 0, 1000, 50)
    for frame_bits, expected in ((26, [bits]), (None, [bits[:10], bits[10:]])):
        assembler = FrameAssembler(frame_bits=frame_bits)
        out: list[Frame | Fault] = []
        for edge in edges[:20]:  # ten bits arrive
            out += assembler.feed(edge)
        out += assembler.poll(9_000 + 10_000)  # the next edges are 10 ms late
        for edge in edges[20:]:
            out += assembler.feed(edge)
        out += assembler.poll(10**9)
        assert [f.bits for f in out if isinstance(f, Frame)] == expected
