"""Tests for appliance.wiegand.formats: layouts, parity and round trips of the named formats.

Hostile input (bad names, bits, fields and text) is in test_formats_input.py.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.wiegand.formats import (
    FORMATS,
    MAX_RAW_BITS,
    Credential,
    WiegandError,
    credential_from_fields,
    decode,
    encode,
    format_length,
    parse_credential,
)

NAMED = ("H10301", "H10306", "C1K35S", "H10304", "H10302", "C1K48S")


# Written out from /work/shared/reference/wiegand.md, independently of the module's tables:
# format -> (length, facility range, number range, parity groups). A group lists every bit
# whose flip changes that group's parity check (the parity bit itself included).
LAYOUT: dict[str, tuple[int, tuple[int, int] | None, tuple[int, int], list[set[int]]]] = {
    "H10301": (26, (2, 9), (10, 25), [set(range(1, 14)), set(range(14, 27))]),
    "H10306": (34, (2, 17), (18, 33), [set(range(1, 18)), set(range(18, 35))]),
    "H10304": (37, (2, 17), (18, 36), [set(range(1, 20)), set(range(19, 38))]),
    "H10302": (37, None, (2, 36), [set(range(1, 20)), set(range(19, 38))]),
    "C1K35S": (
        35,
        (3, 14),
        (15, 34),
        [
            {2} | {p for p in range(3, 35) if p not in range(5, 33, 3)},
            {35} | {p for p in range(2, 34) if p not in range(4, 32, 3)},
            set(range(1, 36)),
        ],
    ),
    "C1K48S": (
        48,
        (3, 24),
        (25, 47),
        [
            {2} | {p for p in range(4, 48) if p not in range(6, 46, 3)},
            {48} | {p for p in range(3, 47) if p not in range(5, 45, 3)},
            set(range(1, 49)),
        ],
    ),
}


def field_strategy(fmt: str) -> st.SearchStrategy[tuple[int | None, int]]:
    """(facility, number) over the whole range, extremes included."""
    spec = FORMATS[fmt]
    top_n = (1 << spec.number_bits) - 1
    numbers = st.one_of(st.sampled_from([0, 1, top_n - 1, top_n]), st.integers(0, top_n))
    if not spec.has_facility:
        return st.tuples(st.none(), numbers)
    top_f = (1 << spec.facility_bits) - 1
    facilities = st.one_of(st.sampled_from([0, 1, top_f - 1, top_f]), st.integers(0, top_f))
    return st.tuples(facilities, numbers)


fmt_and_fields = st.sampled_from(NAMED).flatmap(lambda f: st.tuples(st.just(f), field_strategy(f)))


def only(fmt: str) -> tuple[str, ...]:
    """The formats= argument that makes 37-bit frames decode as fmt."""
    return (fmt,)


def flip(bits: str, *positions: int) -> str:
    """Flip 1-based bit positions."""
    chars = list(bits)
    for p in positions:
        chars[p - 1] = "1" if chars[p - 1] == "0" else "0"
    return "".join(chars)


def test_worked_example() -> None:
    assert encode("H10301", 1, facility=1) == "10000000100000000000000010"
    cred = decode("10000000100000000000000010")
    assert cred == Credential("H10301", 1, 1, "10000000100000000000000010")
    assert cred.bits == "10000000100000000000000010"
    assert str(cred) == "H10301:1:1"


def test_corporate_1000_public_vectors() -> None:
    # C1K35S from a Doppelganger log (hex 2D4A64FB8E, FC 2643, CN 163271, header bits dropped);
    # C1K48S from Proxmark3's test fixture `lf hid clone -r 01400076000c86` (header dropped).
    c35 = "10101001010011001001111101110001110"
    c48 = "010000000000000001110110000000000000110010000110"
    assert decode(c35) == Credential("C1K35S", 2643, 163271)
    assert encode("C1K35S", 163271, 2643) == c35
    assert decode(c48) == Credential("C1K48S", 118, 1603)
    assert encode("C1K48S", 1603, 118) == c48


@pytest.mark.parametrize("fmt", NAMED)
def test_field_positions_match_reference(fmt: str) -> None:
    length, fac_range, num_range, _ = LAYOUT[fmt]
    spec = FORMATS[fmt]
    assert (spec.name, spec.length) == (fmt, length)
    assert format_length(fmt) == length
    assert spec.number_bits == num_range[1] - num_range[0] + 1
    assert spec.facility_bits == (0 if fac_range is None else fac_range[1] - fac_range[0] + 1)
    top_n = (1 << spec.number_bits) - 1
    bits = encode(fmt, top_n, 0 if fac_range else None)
    assert bits[num_range[0] - 1 : num_range[1]] == "1" * spec.number_bits
    if fac_range is not None:
        fbits = encode(fmt, 0, (1 << spec.facility_bits) - 1)
        assert fbits[fac_range[0] - 1 : fac_range[1]] == "1" * spec.facility_bits
        assert fbits[num_range[0] - 1 : num_range[1]] == "0" * spec.number_bits


@settings(max_examples=300)
@given(fmt_and_fields)
def test_round_trip_every_format(case: tuple[str, tuple[int | None, int]]) -> None:
    fmt, (facility, number) = case
    bits = encode(fmt, number, facility)
    assert len(bits) == FORMATS[fmt].length
    cred = decode(bits, only(fmt))
    assert (cred.format, cred.facility, cred.number, cred.bits) == (fmt, facility, number, bits)
    assert parse_credential(str(cred)) == cred
    assert credential_from_fields(fmt, facility, number).bits == bits


@settings(max_examples=100)
@given(fmt_and_fields)
def test_every_single_bit_flip_is_rejected(case: tuple[str, tuple[int | None, int]]) -> None:
    # Every bit of every named format is covered by at least one parity check (the C1K
    # formats' bit 1 covers the whole frame), so one flipped bit never gets through.
    fmt, (facility, number) = case
    bits = encode(fmt, number, facility)
    for p in range(1, len(bits) + 1):
        with pytest.raises(WiegandError):
            decode(flip(bits, p), only(fmt))


def caught(fmt: str, *positions: int) -> bool:
    """Whether the reference's parity groups catch flips at these positions."""
    groups = LAYOUT[fmt][3]
    return any(sum(p in g for p in positions) % 2 for g in groups)


def sample_fields(fmt: str) -> list[tuple[int | None, int]]:
    spec = FORMATS[fmt]
    top_f = (1 << spec.facility_bits) - 1 if spec.has_facility else None
    top_n = (1 << spec.number_bits) - 1
    mid_f = None if top_f is None else top_f // 3
    return [(None if top_f is None else 0, 0), (top_f, top_n), (mid_f, top_n // 5)]


# Two flipped bits (2-bit flips) are caught iff they hit some parity group an odd number of
# times. H10301: caught iff one bit lies in 1-13 and the other in 14-26, so 2*C(13,2) = 156
# of the 325 pairs get through. H10306: pairs within 1-17 or within 18-34 get through (272 of
# 561). H10304/H10302: pairs within 1-18 or within 20-37 (bit 19 is in both groups; 306 of
# 666). C1K35S/C1K48S: the overall bit 1 always sees an even number of flips, so only the two
# partial groups can catch a pair; a pair whose bits have the same membership in both gets
# through (C1K35S classes of 1, 12, 11, 11 bits: 176 of 595; C1K48S 1, 16, 16, 15: 345 of 1128).
UNDETECTED_PAIRS = {
    "H10301": 156,
    "H10306": 272,
    "H10304": 306,
    "H10302": 306,
    "C1K35S": 176,
    "C1K48S": 345,
}


@pytest.mark.parametrize("fmt", NAMED)
def test_two_bit_flips_match_reference_and_never_yield_the_same_card(fmt: str) -> None:
    # A frame that passes parity is encode(its fields), so a corrupted frame that gets
    # through is always a different card, never the original one.
    length = FORMATS[fmt].length
    pairs = list(itertools.combinations(range(1, length + 1), 2))
    assert sum(not caught(fmt, a, b) for a, b in pairs) == UNDETECTED_PAIRS[fmt]
    for facility, number in sample_fields(fmt):
        original = credential_from_fields(fmt, facility, number)
        for a, b in pairs:
            corrupted = flip(original.bits, a, b)
            if caught(fmt, a, b):
                with pytest.raises(WiegandError, match=f"^{fmt} frame fails its"):
                    decode(corrupted, only(fmt))
            else:
                assert decode(corrupted, only(fmt)) != original


@settings(max_examples=500)
@given(st.integers(1, MAX_RAW_BITS).flatmap(lambda n: st.text("01", min_size=n, max_size=n)))
def test_random_frames_decode_or_raise(bits: str) -> None:
    try:
        cred = decode(bits)
    except WiegandError:
        assert len(bits) in {26, 34, 35, 37, 48}
        return
    assert cred.bits == bits
    assert encode(cred.format, cred.number, cred.facility) == bits
    if len(bits) not in {26, 34, 35, 37, 48}:
        assert (cred.format, cred.facility, cred.number) == (f"RAW{len(bits)}", None, int(bits, 2))


def test_37_bit_frames_follow_the_allowed_formats() -> None:
    bits = encode("H10302", 123456789)
    assert decode(bits).format == "H10304"
    assert decode(bits, ["H10302"]) == Credential("H10302", None, 123456789)
    assert decode(bits, ["h10302", "H10304"]).format == "H10304"
    assert decode(bits, {"H10301"}) == Credential("RAW37", None, int(bits, 2))


def test_formats_restriction_makes_other_lengths_raw() -> None:
    bits = encode("H10301", 3456, 12)
    assert decode(bits, []).format == "RAW26"
    assert decode(bits, ["C1K48S", "RAW26"]).format == "RAW26"
    bad = flip(bits, 5)
    assert decode(bad, ["H10306"]) == Credential("RAW26", None, int(bad, 2))
    with pytest.raises(WiegandError, match="leading even parity"):
        decode(bad, ["H10301"])


def test_parity_error_messages_name_the_check() -> None:
    good = encode("H10301", 3456, 12)
    with pytest.raises(
        WiegandError, match=r"^H10301 frame fails its trailing odd parity \(bits 14-25\)$"
    ):
        decode(flip(good, 20))
    with pytest.raises(WiegandError, match=r"^C1K35S frame fails its overall odd parity"):
        decode(flip(encode("C1K35S", 5, 5), 1))


def test_formats_mapping_is_read_only() -> None:
    assert tuple(FORMATS) == NAMED
    with pytest.raises(TypeError):
        FORMATS["X"] = FORMATS["H10301"]  # type: ignore[index]
