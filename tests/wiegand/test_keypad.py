"""Tests for appliance.wiegand.keypad: key frames, HID 26-bit PINs and the PIN buffer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.wiegand.formats import WiegandError, encode
from appliance.wiegand.keypad import (
    KeypadMode,
    PinBuffer,
    PinEntry,
    hid26_pin,
    keys_from_frame,
)

KEYS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]


def test_mode_values() -> None:
    assert [m.value for m in KeypadMode] == ["none", "4bit", "8bit", "hid26"]
    assert KeypadMode("8bit") is KeypadMode.EIGHT_BIT


@pytest.mark.parametrize("value", range(12))
def test_four_bit_keys(value: int) -> None:
    assert keys_from_frame(f"{value:04b}", KeypadMode.FOUR_BIT) == [KEYS[value]]


def test_four_bit_star_and_hash() -> None:
    assert keys_from_frame("1010", KeypadMode.FOUR_BIT) == ["*"]
    assert keys_from_frame("1011", KeypadMode.FOUR_BIT) == ["#"]


@pytest.mark.parametrize("value", range(12, 16))
def test_four_bit_invalid_values(value: int) -> None:
    with pytest.raises(WiegandError, match=f"invalid key value {value}"):
        keys_from_frame(f"{value:04b}", KeypadMode.FOUR_BIT)


@pytest.mark.parametrize("value", range(12))
def test_eight_bit_keys(value: int) -> None:
    frame = f"{value ^ 0xF:04b}{value:04b}"
    assert keys_from_frame(frame, KeypadMode.EIGHT_BIT) == [KEYS[value]]


def test_eight_bit_reference_example() -> None:
    assert keys_from_frame("11100001", KeypadMode.EIGHT_BIT) == ["1"]


@pytest.mark.parametrize("frame", ["00000001", "11110001", "11100000", "00011111", "01101010"])
def test_eight_bit_complement_mismatch(frame: str) -> None:
    with pytest.raises(WiegandError, match="complement"):
        keys_from_frame(frame, KeypadMode.EIGHT_BIT)


@pytest.mark.parametrize("value", range(12, 16))
def test_eight_bit_invalid_values(value: int) -> None:
    with pytest.raises(WiegandError, match="invalid key"):
        keys_from_frame(f"{value ^ 0xF:04b}{value:04b}", KeypadMode.EIGHT_BIT)


@pytest.mark.parametrize(
    ("bits", "mode"),
    [
        ("0001", KeypadMode.EIGHT_BIT),
        ("11100001", KeypadMode.FOUR_BIT),
        ("00010010", KeypadMode.FOUR_BIT),  # two keys in one burst are not accepted
        ("0001", KeypadMode.NONE),
        ("11100001", KeypadMode.NONE),
        ("0001", KeypadMode.HID26),
        (encode("H10301", 1234, 0), KeypadMode.HID26),
        (encode("H10301", 1234, 0), KeypadMode.FOUR_BIT),
    ],
)
def test_not_a_key_frame(bits: str, mode: KeypadMode) -> None:
    assert keys_from_frame(bits, mode) is None


def test_mode_given_as_string() -> None:
    assert keys_from_frame("0101", "4bit") == ["5"]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bits", "mode"),
    [("01x1", KeypadMode.FOUR_BIT), ("1110 001", KeypadMode.EIGHT_BIT), (None, KeypadMode.NONE)],
)
def test_key_frame_bad_bits(bits: object, mode: KeypadMode) -> None:
    with pytest.raises(WiegandError, match="bits"):
        keys_from_frame(bits, mode)  # type: ignore[arg-type]


@settings(max_examples=200)
@given(st.text("01", min_size=1, max_size=64), st.sampled_from(list(KeypadMode)))
def test_key_frames_never_raise_anything_else(bits: str, mode: KeypadMode) -> None:
    try:
        keys = keys_from_frame(bits, mode)
    except WiegandError:
        assert len(bits) in (4, 8)
        return
    assert keys is None or (len(keys) == 1 and keys[0] in KEYS)


@pytest.mark.parametrize("pin", [0, 7, 1234, 65534])
def test_hid26_pins(pin: int) -> None:
    assert hid26_pin(encode("H10301", pin, 0)) == str(pin)


def test_hid26_error_code() -> None:
    with pytest.raises(WiegandError, match="keypad reported an error"):
        hid26_pin(encode("H10301", 65535, 0))


def test_hid26_not_a_pin() -> None:
    card = encode("H10301", 1234, 1)
    assert hid26_pin(card) is None  # facility 1: a card, not a PIN
    bad_parity = ("1" if card[0] == "0" else "0") + card[1:]
    assert hid26_pin(bad_parity) is None  # left for the card path to reject
    assert hid26_pin("0" * 25) is None
    assert hid26_pin(encode("H10306", 1234, 0)) is None
    with pytest.raises(WiegandError):
        hid26_pin("0" * 25 + "x")


def test_pin_ends_with_hash() -> None:
    buf = PinBuffer()
    for i, key in enumerate("1234"):
        assert buf.press(key, i) is None
    assert buf.pending == "1234"
    assert buf.press("#", 10) == PinEntry("1234", "#")
    assert buf.pending == ""
    assert buf.deadline() is None


def test_empty_entry_returns_none() -> None:
    buf = PinBuffer()
    assert buf.press("#", 0) is None
    assert buf.press("1", 1) is None
    assert buf.press("*", 2) is None
    assert buf.press("#", 3) is None


def test_star_clears() -> None:
    buf = PinBuffer()
    for key in "99*12":
        assert buf.press(key, 0) is None
    assert buf.press("#", 1) == PinEntry("12", "#")


def test_timeout_via_poll() -> None:
    buf = PinBuffer(timeout_us=1_000)
    assert buf.poll(0) is None
    buf.press("4", 100)
    buf.press("2", 500)
    assert buf.deadline() == 1_500
    assert buf.poll(1_499) is None
    assert buf.poll(1_500) == PinEntry("42", "timeout")
    assert buf.poll(5_000) is None
    assert buf.deadline() is None


def test_poll_long_after_deadline_still_delivers() -> None:
    buf = PinBuffer(timeout_us=1_000)
    buf.press("7", 0)
    assert buf.poll(10**12) == PinEntry("7", "timeout")


def test_stale_digits_are_dropped_by_a_late_key() -> None:
    buf = PinBuffer(timeout_us=1_000)
    buf.press("1", 0)
    buf.press("2", 999)  # within the timeout of the previous key: kept
    buf.press("3", 2_000)  # past the deadline with no poll: 12 is discarded
    assert buf.press("#", 2_100) == PinEntry("3", "#")


def test_each_key_extends_the_deadline() -> None:
    buf = PinBuffer(timeout_us=1_000)
    buf.press("1", 0)
    buf.press("2", 900)
    assert buf.poll(1_000) is None
    assert buf.deadline() == 1_900


def test_max_digits_drops_the_entry() -> None:
    buf = PinBuffer(max_digits=4)
    for key in "1234":
        assert buf.press(key, 0) is None
    assert buf.press("5", 0) is None
    assert buf.pending == ""
    assert buf.deadline() is None
    assert buf.press("#", 0) is None
    buf.press("6", 1)
    assert buf.press("#", 2) == PinEntry("6", "#")


def test_max_digits_exactly_is_accepted() -> None:
    buf = PinBuffer()
    for key in "123456789012":
        buf.press(key, 0)
    assert buf.press("#", 0) == PinEntry("123456789012", "#")


def test_clear() -> None:
    buf = PinBuffer()
    buf.press("1", 0)
    buf.clear()
    assert buf.deadline() is None
    assert buf.poll(10**10) is None


@pytest.mark.parametrize("key", ["", "A", "12", "٣", None, 1])
def test_bad_key(key: object) -> None:
    buf = PinBuffer()
    buf.press("5", 0)
    with pytest.raises(WiegandError, match="unknown keypad key"):
        buf.press(key, 1)  # type: ignore[arg-type]
    assert buf.pending == "5"
    assert buf.deadline() == 5_000_000


@pytest.mark.parametrize(
    ("timeout_us", "max_digits"), [(0, 12), (-1, 12), (1.5, 12), (True, 12), (1, 0), (1, "4")]
)
def test_bad_buffer_settings(timeout_us: object, max_digits: object) -> None:
    with pytest.raises(ValueError, match="must be a positive integer"):
        PinBuffer(timeout_us, max_digits)  # type: ignore[arg-type]
