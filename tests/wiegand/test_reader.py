"""Tests for appliance.wiegand.reader: edges in; cards, keys, PINs and counted rejections out."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from appliance.testing.wiegand_cards import cards, check_events, drive, formats_for, presented
from appliance.testing.wiegand_drive import (
    INTER_CARD_US,
    TICK_WRAP,
    Driver,
    NoiseSpec,
    Wave,
    edges_of,
    gap_bound,
    garbage,
    garbage_edges,
    make_wave,
    noise_specs,
    with_noise,
)
from appliance.wiegand import reader as reader_module
from appliance.wiegand.edges import D0, D1, HIGH, LOW, Edge
from appliance.wiegand.formats import FORMATS, Credential, credential_from_fields, decode, encode
from appliance.wiegand.keypad import KeypadMode
from appliance.wiegand.reader import (
    CardRead,
    KeyPress,
    PinEntered,
    ReaderEvent,
    Rejected,
    WiegandReader,
    WiringFault,
)
from appliance.wiegand.waveform import SIA_MAX_INTERVAL_US

# -- properties --------------------------------------------------------------------------------


@given(presented(), st.booleans())
def test_every_format_reads_exactly_its_card(case: tuple[Credential, Wave], known: bool) -> None:
    card, w = case
    reader = WiegandReader(formats=formats_for(card), frame_bits=len(card.bits) if known else None)
    d = drive(reader, w.edges(), w.first_fall - 1_000)
    assert d.results() == [CardRead(card, w.last_edge, w.max_interval)]
    [(at, read)] = d.out
    assert isinstance(read, CardRead) and read.credential.bits == card.bits
    assert at == w.last_edge if known else w.last_edge < at <= gap_bound(w)
    check_events(reader, d.results())
    assert reader.health.frames == 1


@given(presented(), noise_specs, st.booleans())
def test_noise_does_not_change_the_card(
    case: tuple[Credential, Wave], noise: list[NoiseSpec], known: bool
) -> None:
    card, w = case
    pulses, added = with_noise(w.pulses, noise)
    reader = WiegandReader(formats=formats_for(card), frame_bits=len(card.bits) if known else None)
    d = drive(reader, edges_of(pulses), w.first_fall - 5_000)
    assert d.results() == [CardRead(card, w.last_edge, w.max_interval)]
    check_events(reader, d.results())
    assert reader.health.noise_pulses == added


@given(presented(), presented(), st.integers(INTER_CARD_US, 3_000_000), st.booleans())
def test_two_cards_back_to_back_are_two_reads(
    first: tuple[Credential, Wave], second: tuple[Credential, Wave], gap: int, known: bool
) -> None:
    (c1, w1), (c2, w2) = first, second
    assume({c1.format, c2.format} != {"H10302", "H10304"})  # one 37-bit layout per site
    w2 = w2.shifted(w1.last_edge + gap)
    same_length = len(c1.bits) == len(c2.bits)
    reader = WiegandReader(
        formats=formats_for(c1, c2), frame_bits=len(c1.bits) if known and same_length else None
    )
    d = drive(reader, w1.edges() + w2.edges(), w1.first_fall - 1_000)
    assert d.results() == [
        CardRead(c1, w1.last_edge, w1.max_interval),
        CardRead(c2, w2.last_edge, w2.max_interval),
    ]
    check_events(reader, d.results())


@given(presented(), st.integers(0, 10**9), st.booleans())
def test_a_card_straddling_the_tick_wrap(
    case: tuple[Credential, Wave], offset: int, known: bool
) -> None:
    card, w = case
    span = w.last_edge - w.first_fall
    w = w.shifted(TICK_WRAP - offset % (span + 2_000) + 1_000)
    reader = WiegandReader(
        formats=formats_for(card), frame_bits=len(card.bits) if known else None, tick_wrap=TICK_WRAP
    )
    d = drive(reader, w.edges(), w.first_fall - 1_000, TICK_WRAP)
    [read] = d.results()
    assert isinstance(read, CardRead) and read.credential == card
    assert read.end_us % TICK_WRAP == w.last_edge % TICK_WRAP
    check_events(reader, d.results())


@given(
    garbage,
    cards(),
    st.sampled_from(list(KeypadMode)),
    st.booleans(),
    st.sampled_from([None, TICK_WRAP]),
    st.integers(0, 2 * TICK_WRAP),
)
def test_garbage_gives_only_true_cards_or_counted_rejections(
    steps: list[tuple[int, int, int]],
    card: Credential,
    keypad: KeypadMode,
    known: bool,
    wrap: int | None,
    start: int,
) -> None:
    assume(not (keypad == KeypadMode.HID26 and card.format == "H10301" and card.facility == 0))
    reader = WiegandReader(
        formats=formats_for(card),
        keypad=keypad,
        frame_bits=len(card.bits) if known else None,
        tick_wrap=wrap,
    )
    edges = garbage_edges(steps, start)
    d = drive(reader, edges, start, wrap)
    check_events(reader, d.results())
    # Nothing stays stuck: once the lines are back high, the next card reads.
    end = max([start, *(e.t_us for e in edges)]) + 1
    d.feed([Edge(D0, HIGH, end), Edge(D1, HIGH, end)]).settle()
    w = make_wave(card.bits, d.now + INTER_CARD_US, 2_000, 50, [0] * len(card.bits))
    d.feed(w.edges()).settle()
    read = d.results()[-1]
    assert isinstance(read, CardRead) and read.credential == card
    check_events(reader, d.results())


# -- targeted cases ---------------------------------------------------------------------------

CARD = credential_from_fields("H10301", 12, 3456)


def read_all(
    reader: WiegandReader, *pulse_sets: Sequence[tuple[int, int, int]]
) -> list[ReaderEvent]:
    pulses = [p for s in pulse_sets for p in s]
    d = drive(reader, edges_of(pulses), min(p[1] for p in pulses) - 1_000)
    check_events(reader, d.results())
    return d.results()


def card_pulses(
    bits: str, start_us: int, interval_us: int = 2_000
) -> tuple[tuple[int, int, int], ...]:
    return make_wave(bits, start_us, interval_us, 50, [0] * len(bits)).pulses


def test_a_4us_glitch_mid_card_changes_nothing() -> None:
    reader = WiegandReader()
    glitches = [(D0, 20_500, 20_504), (D1, 30_020, 30_024)]  # on an idle line; across a D0 pulse
    assert CARD.bits[15] == "0"  # the pulse at 30 000 µs is on D0
    [read] = read_all(reader, card_pulses(CARD.bits, 0), glitches)
    assert isinstance(read, CardRead) and read.credential == CARD
    assert reader.health.noise_pulses == 2


def test_a_stuck_line_is_one_fault_then_the_next_card_reads() -> None:
    reader = WiegandReader()
    d = Driver(reader, 0).feed([Edge(D1, LOW, 0)])
    d.wait(2_000_000)
    assert d.results() == [WiringFault("stuck", "D1 held low for more than 50 ms")]
    assert reader.deadline_in(d.now) is None
    d.feed([Edge(D1, HIGH, d.now)])
    d.feed(edges_of(card_pulses(CARD.bits, d.now + INTER_CARD_US))).settle()
    assert [type(e) for e in d.results()] == [WiringFault, CardRead]
    assert reader.health.wiring_faults == 1
    assert reader.health.last_fault == "D1 held low for more than 50 ms"
    check_events(reader, d.results())


def test_both_lines_low_is_a_wiring_fault_never_a_card() -> None:
    reader = WiegandReader(frame_bits=26)
    other = D0 if CARD.bits[-1] == "1" else D1
    bad = [*card_pulses(CARD.bits, 0), (other, 50_010, 50_060)]  # over the last pulse
    events = read_all(reader, bad, card_pulses(CARD.bits, 200_000))
    assert [type(e) for e in events] == [WiringFault, CardRead]
    assert events[0] == WiringFault("overlap", "D0 and D1 were low at the same time")


def test_a_1ms_reader_card_comes_within_3ms_of_its_last_edge() -> None:
    w = make_wave(CARD.bits, 0, 1_000, 50, [0] * 25)
    [(at, read)] = drive(WiegandReader(), w.edges(), 0).out
    assert isinstance(read, CardRead) and read.credential == CARD
    assert at - w.last_edge <= 3_000


def test_frame_bits_gives_the_card_at_its_last_edge() -> None:
    w = make_wave(CARD.bits, 0, 2_000, 50, [0] * 25)
    reader = WiegandReader(frame_bits=26)
    out = [e for edge in w.edges() for e in reader.feed(edge)]
    assert out == [CardRead(CARD, w.last_edge, 2_000)]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_20ms_reader_is_never_split(fmt: str) -> None:
    spec = FORMATS[fmt]
    card = credential_from_fields(fmt, 1 if spec.has_facility else None, 1)
    jitter = [-50] + [50] * (spec.length - 2)  # the shortest interval first: the worst case
    w = make_wave(card.bits, 0, SIA_MAX_INTERVAL_US, 100, jitter)
    reader = WiegandReader(formats=[fmt])
    assert [type(e) for e in read_all(reader, w.pulses)] == [CardRead]


def key_pulses(keys: str, start_us: int, mode: KeypadMode) -> list[tuple[int, int, int]]:
    """Key frames 300 ms apart, 1 ms bits."""
    pulses: list[tuple[int, int, int]] = []
    for i, key in enumerate(keys):
        value = "0123456789*#".index(key)
        bits = f"{value:04b}" if mode == KeypadMode.FOUR_BIT else f"{value ^ 0xF:04b}{value:04b}"
        pulses.extend(card_pulses(bits, start_us + i * 300_000, 1_000))
    return pulses


@pytest.mark.parametrize("mode", [KeypadMode.FOUR_BIT, KeypadMode.EIGHT_BIT])
def test_keys_make_a_pin_on_hash(mode: KeypadMode) -> None:
    reader = WiegandReader(keypad=mode, frame_bits=26)  # key frames still end at their gap
    pulses = key_pulses("91*1234#", 0, mode)
    events = read_all(reader, pulses)
    assert [e.key for e in events if isinstance(e, KeyPress)] == list("91*1234#")
    [pin] = [e for e in events if isinstance(e, PinEntered)]
    assert pin == PinEntered("1234", "#", pulses[-1][2])
    assert events[-1] == pin


def test_a_pin_times_out_through_poll() -> None:
    reader = WiegandReader(keypad=KeypadMode.FOUR_BIT, pin_timeout_us=5_000_000)
    pulses = key_pulses("56", 0, KeypadMode.FOUR_BIT)
    d = drive(reader, edges_of(pulses), 0)
    assert d.out[-1] == (pulses[-1][2] + 5_000_000, PinEntered("56", "timeout", d.now))
    check_events(reader, d.results())


def test_a_pin_times_out_across_the_tick_wrap() -> None:
    reader = WiegandReader(keypad=KeypadMode.FOUR_BIT, tick_wrap=TICK_WRAP)
    pulses = key_pulses("56", TICK_WRAP - 1_000_000, KeypadMode.FOUR_BIT)
    d = drive(reader, edges_of(pulses), TICK_WRAP - 2_000_000, TICK_WRAP)
    at, pin = d.out[-1]
    assert isinstance(pin, PinEntered) and (pin.pin, pin.ended_by) == ("56", "timeout")
    assert at == pulses[-1][2] + 5_000_000


def test_hid26_pin() -> None:
    reader = WiegandReader(keypad=KeypadMode.HID26)
    pin_bits = encode("H10301", 1234, 0)
    events = read_all(reader, card_pulses(pin_bits, 0), card_pulses(CARD.bits, 500_000))
    assert events[0] == PinEntered("1234", "#", card_pulses(pin_bits, 0)[-1][2])
    assert isinstance(events[1], CardRead) and events[1].credential == CARD  # facility 12: a card


def test_hid26_error_frame_is_a_counted_keypad_rejection() -> None:
    reader = WiegandReader(keypad=KeypadMode.HID26)
    [event] = read_all(reader, card_pulses(encode("H10301", 65535, 0), 0))
    assert isinstance(event, Rejected) and event.reason == "keypad"
    assert reader.health.keypad_errors == 1


def test_an_invalid_key_is_a_counted_keypad_rejection() -> None:
    reader = WiegandReader(keypad=KeypadMode.FOUR_BIT)
    [event] = read_all(reader, card_pulses("1100", 0, 1_000))
    assert isinstance(event, Rejected) and event.reason == "keypad" and event.bits == "1100"


@pytest.mark.parametrize("bits", ["1", "1011", "0" * 25])
def test_short_frames_are_counted(bits: str) -> None:
    reader = WiegandReader()
    [event] = read_all(reader, card_pulses(bits, 0))
    assert event == Rejected("short", f"{len(bits)}-bit frame is too short for a card", bits)
    assert reader.health.short_frames == 1


def test_overlong_frames_are_counted() -> None:
    reader = WiegandReader()
    [event] = read_all(reader, card_pulses("01" * 100, 0, 500))
    assert isinstance(event, Rejected) and event.reason == "long"
    assert reader.health.long_frames == 1


def test_a_parity_failure_is_counted() -> None:
    reader = WiegandReader()
    flipped = CARD.bits[:5] + str(1 - int(CARD.bits[5])) + CARD.bits[6:]
    [event] = read_all(reader, card_pulses(flipped, 0))
    assert isinstance(event, Rejected) and event.reason == "parity" and event.bits == flipped
    assert reader.health.parity_failures == 1


def test_a_bug_costs_one_frame_not_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    reader = WiegandReader(frame_bits=26)
    calls: list[str] = []

    def flaky(bits: str, formats: Iterable[str] | None = None) -> Credential:
        calls.append(bits)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return decode(bits, formats)

    monkeypatch.setattr(reader_module, "decode", flaky)
    first = [e for edge in edges_of(card_pulses(CARD.bits, 0)) for e in reader.feed(edge)]
    assert first == [Rejected("internal", "RuntimeError: boom", "")]
    assert reader.health.internal_errors == 1
    d = drive(reader, edges_of(card_pulses(CARD.bits, 500_000)), 400_000)
    assert [type(e) for e in d.results()] == [CardRead]


def test_health_as_dict() -> None:
    reader = WiegandReader()
    read_all(reader, card_pulses(CARD.bits, 0), [(D0, 60_000, 60_005)])
    health = reader.health.as_dict()
    assert (health["frames"], health["cards"], health["noise_pulses"]) == (1, 1, 1)
    assert health["last_fault"] is None


def test_an_edge_reported_after_a_later_now_still_counts() -> None:
    # The controller may ask deadline_in(now) before a queued edge stamped a little earlier is fed.
    w = make_wave(CARD.bits, TICK_WRAP - 20_000, 2_000, 50, [0] * 25)  # straddles the wrap
    reader = WiegandReader(tick_wrap=TICK_WRAP, frame_bits=26)
    events = []
    for edge in w.edges():
        reader.deadline_in((edge.t_us + 700) % TICK_WRAP)
        events += reader.feed(edge._replace(t_us=edge.t_us % TICK_WRAP))
    assert events == [CardRead(CARD, w.last_edge, 2_000)]


def test_a_line_recovering_mid_card_leaves_no_fragment() -> None:
    # D0 sticks under a run of zeros (so D1 is quiet too), then comes back mid-card: the rest of
    # the card must not come out as a card of its own.
    # the card, D0 held low from 4 ms to 91 ms, and the 31 bits from 92 ms on as a fragment
    bits = "11" + "0" * 45 + "1" + "0110" * 7 + "1"
    pulses = [p for p in card_pulses(bits, 0) if not (p[0] == D0 and 4_000 <= p[1] < 91_000)]
    pulses.append((D0, 4_000, 91_000))
    reader = WiegandReader(formats=["H10301"])
    events = read_all(reader, pulses)
    assert events == [WiringFault("stuck", "D0 held low for more than 50 ms")]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"formats": ["H10301", "H1030"]}, "unknown Wiegand format 'H1030'"),
        ({"formats": "H10301"}, "not the string 'H10301'"),
        ({"keypad": "6bit"}, "'6bit' is not a valid KeypadMode"),
        ({"min_card_bits": 0}, "min_card_bits must be from 1 to 128, got 0"),
        ({"min_card_bits": "26"}, "min_card_bits must be an integer, got '26'"),
        ({"pin_timeout_us": 0}, "timeout_us must be a positive integer"),
        ({"frame_bits": 200}, "frame_bits must be an integer from 1 to 128, got 200"),
        ({"tick_wrap": 0}, "tick_wrap must be a positive integer or None, got 0"),
    ],
)
def test_bad_settings_are_refused_by_name(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        WiegandReader(**options)  # type: ignore[arg-type]


def test_keypad_mode_may_be_given_by_name() -> None:
    assert WiegandReader(keypad="4bit").keypad is KeypadMode.FOUR_BIT  # type: ignore[arg-type]
