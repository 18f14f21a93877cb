"""Keypads on Wiegand readers: key frames in 4-bit, 8-bit and HID 26-bit PINpad modes.

Pure: no I/O, no clock. Times are integers in microseconds from a monotonic source
(for pigpio, ticks already unwrapped past their 32-bit wrap).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from appliance.wiegand.formats import WiegandError, decode

__all__ = [
    "HID26_ERROR_CODE",
    "KeypadMode",
    "PinBuffer",
    "PinEntry",
    "hid26_pin",
    "keys_from_frame",
]

# Rosslare and HID encode '*' as 10 and '#' as 11; some libraries swap them (see reference).
_KEY_NAMES = ("0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#")
_VALID_KEYS = frozenset(_KEY_NAMES)
HID26_ERROR_CODE = 65535


class KeypadMode(StrEnum):
    """How a reader sends keypresses over Wiegand."""

    NONE = "none"
    FOUR_BIT = "4bit"
    EIGHT_BIT = "8bit"
    HID26 = "hid26"


def _key(value: int, bits: str) -> str:
    if value >= len(_KEY_NAMES):
        raise WiegandError(f"keypad frame {bits} carries invalid key value {value}")
    return _KEY_NAMES[value]


def _frame_value(bits: object) -> int:
    if not isinstance(bits, str):
        raise WiegandError(f"Wiegand bits must be a string of 0/1, not {type(bits).__name__}")
    if not bits or bits.strip("01"):
        raise WiegandError(f"Wiegand bits must be a non-empty string of '0' and '1': {bits!r}")
    return int(bits, 2)


def keys_from_frame(bits: str, mode: KeypadMode) -> list[str] | None:
    """Return the keys in a keypad frame for this mode, or None if it is not a key frame.

    4-bit mode: exactly 4 bits, one key. 8-bit mode: exactly 8 bits, the high nibble the
    one's complement of the low one. Values 12-15 or a failed complement raise WiegandError.
    NONE and HID26 always return None (HID26 PINs come whole: see hid26_pin).
    """
    if not isinstance(bits, str):
        raise WiegandError(f"Wiegand bits must be a string of 0/1, not {type(bits).__name__}")
    if mode == KeypadMode.FOUR_BIT and len(bits) == 4:
        return [_key(_frame_value(bits), bits)]
    if mode == KeypadMode.EIGHT_BIT and len(bits) == 8:
        value = _frame_value(bits)
        high, low = value >> 4, value & 0xF
        if high != low ^ 0xF:
            raise WiegandError(
                f"8-bit keypad frame {bits} fails its check: high nibble is not the "
                "complement of the low nibble"
            )
        return [_key(low, bits)]
    return None


def hid26_pin(bits: str) -> str | None:
    """Return the PIN from an HID 26-bit PINpad frame (H10301, facility 0), else None.

    The PIN is the decimal card number, so leading zeros typed on the pad are lost.
    A frame with card number 65535 is the keypad's error report and raises WiegandError.
    """
    _frame_value(bits)
    if len(bits) != 26:
        return None
    try:
        credential = decode(bits, ("H10301",))
    except WiegandError:
        return None  # parity failure: let the card path report it
    if credential.facility != 0:
        return None
    if credential.number == HID26_ERROR_CODE:
        raise WiegandError("keypad reported an error (HID 26-bit PIN frame with card 65535)")
    return str(credential.number)


@dataclass(frozen=True)
class PinEntry:
    """A PIN typed on the keypad and what ended it: '#' or 'timeout'."""

    pin: str
    ended_by: str  # "#" or "timeout"


class PinBuffer:
    """Collects keypresses into a PIN; time is a parameter (monotonic microseconds).

    - Digits accumulate. '#' ends the entry and returns it; '#' on an empty entry returns None.
    - '*' clears the entry.
    - A digit beyond max_digits drops the whole entry, that digit included; the next key
      starts a fresh entry.
    - poll() returns the pending digits as an entry ended by 'timeout' once timeout_us has
      passed since the last key (at deadline() exactly, or later).
    - A key pressed after the deadline, with no poll() in between, first discards the stale
      digits: they never join a later entry.
    """

    def __init__(self, timeout_us: int = 5_000_000, max_digits: int = 12) -> None:
        if isinstance(timeout_us, bool) or not isinstance(timeout_us, int) or timeout_us <= 0:
            raise ValueError(f"timeout_us must be a positive integer, got {timeout_us!r}")
        if isinstance(max_digits, bool) or not isinstance(max_digits, int) or max_digits <= 0:
            raise ValueError(f"max_digits must be a positive integer, got {max_digits!r}")
        self._timeout_us = timeout_us
        self._max_digits = max_digits
        self._digits: list[str] = []
        self._last_us = 0

    @property
    def pending(self) -> str:
        """The digits typed so far in the current entry."""
        return "".join(self._digits)

    def press(self, key: str, now_us: int) -> PinEntry | None:
        """Handle one key ('0'-'9', '*', '#'); return a finished entry on '#', else None."""
        if not isinstance(key, str) or key not in _VALID_KEYS:
            raise WiegandError(f"unknown keypad key {key!r}: expected 0-9, * or #")
        if self._digits and now_us - self._last_us >= self._timeout_us:
            self._digits.clear()
        self._last_us = now_us
        if key == "*":
            self._digits.clear()
            return None
        if key == "#":
            if not self._digits:
                return None
            entry = PinEntry("".join(self._digits), "#")
            self._digits.clear()
            return entry
        if len(self._digits) >= self._max_digits:
            self._digits.clear()
            return None
        self._digits.append(key)
        return None

    def poll(self, now_us: int) -> PinEntry | None:
        """Return the pending digits as a 'timeout' entry once the deadline has passed."""
        deadline = self.deadline()
        if deadline is None or now_us < deadline:
            return None
        entry = PinEntry("".join(self._digits), "timeout")
        self._digits.clear()
        return entry

    def deadline(self) -> int | None:
        """The time at which poll() would return the pending digits; None if none pending."""
        if not self._digits:
            return None
        return self._last_us + self._timeout_us

    def clear(self) -> None:
        """Forget any pending digits."""
        self._digits.clear()
