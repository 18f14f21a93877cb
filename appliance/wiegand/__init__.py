"""Wiegand: pure decoding, frame assembly from timestamped edges, keypads. No I/O."""

from appliance.wiegand.edges import D0, D1, HIGH, LOW, TIMEOUT, Edge
from appliance.wiegand.formats import (
    FORMATS,
    Credential,
    FormatSpec,
    WiegandError,
    canonical_format,
    credential_from_fields,
    decode,
    encode,
    format_length,
    parse_credential,
)
from appliance.wiegand.keypad import KeypadMode, PinBuffer, PinEntry, hid26_pin, keys_from_frame

__all__ = [
    "D0",
    "D1",
    "FORMATS",
    "HIGH",
    "LOW",
    "TIMEOUT",
    "Credential",
    "Edge",
    "FormatSpec",
    "KeypadMode",
    "PinBuffer",
    "PinEntry",
    "WiegandError",
    "canonical_format",
    "credential_from_fields",
    "decode",
    "encode",
    "format_length",
    "hid26_pin",
    "keys_from_frame",
    "parse_credential",
]
