"""Tests for appliance.wiegand.formats at its edges: format names, bits, fields and card text.

Every bad name, bit string, field and text is refused with an error that names what was wrong;
layouts, parity and round trips are in test_formats.py.
"""

from __future__ import annotations

import pytest

from appliance.wiegand.formats import (
    Credential,
    WiegandError,
    canonical_format,
    credential_from_fields,
    decode,
    encode,
    format_length,
    parse_credential,
)


@pytest.mark.parametrize(
    "formats", [["H10301", "X99"], "H10301", [["H10301"]], [26], 5, ["raw0"], ["RAW129"]]
)
def test_bad_formats_argument(formats: object) -> None:
    with pytest.raises(WiegandError):
        decode("1" * 26, formats)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bits", "message"),
    [
        ("", "empty"),
        ("0102", "'2'"),
        ("0b101", "'b'"),
        (" 101", "' '"),
        ("1_0", "'_'"),
        ("１０", "'１'"),
        ("1" * 129, "129 bits"),
        (b"0101", "bytes"),
        (None, "NoneType"),
        (26, "int"),
    ],
)
def test_bad_bits(bits: object, message: str) -> None:
    with pytest.raises(WiegandError, match=message):
        decode(bits)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "canon", "length"),
    [
        ("h10301", "H10301", 26),
        ("H10306", "H10306", 34),
        ("c1k35s", "C1K35S", 35),
        ("C1k48S", "C1K48S", 48),
        ("h10302", "H10302", 37),
        ("raw1", "RAW1", 1),
        ("Raw40", "RAW40", 40),
        ("RAW128", "RAW128", 128),
    ],
)
def test_canonical_names(name: str, canon: str, length: int) -> None:
    assert canonical_format(name) == canon
    assert format_length(name) == length


@pytest.mark.parametrize(
    "name",
    [
        "",
        "H1030",
        "H10301 ",
        " H10301",
        "RAW",
        "RAW0",
        "RAW129",
        "RAW040",
        "RAW+4",
        "RAW-1",
        "C1K35ſ",
        "RAW４",
        "h10301\n",
        None,
        26,
    ],
)
def test_unknown_names(name: object) -> None:
    with pytest.raises(WiegandError, match="format"):
        canonical_format(name)  # type: ignore[arg-type]


def test_raw_encode() -> None:
    assert encode("RAW40", 5) == "0" * 37 + "101"
    assert encode("raw4", 15) == "1111"
    assert decode(encode("RAW40", 2**40 - 1)) == Credential("RAW40", None, 2**40 - 1)
    for bad in (-1, 16):
        with pytest.raises(WiegandError, match="out of range"):
            encode("RAW4", bad)
    with pytest.raises(WiegandError, match="no facility"):
        encode("RAW4", 1, 0)


@pytest.mark.parametrize(
    ("fmt", "number", "facility", "message"),
    [
        ("H10301", 65536, 1, "number 65536 is out of range 0..65535"),
        ("H10301", -1, 1, "out of range"),
        ("H10301", 1, 256, "facility 256 is out of range 0..255"),
        ("H10301", 1, -1, "facility -1"),
        ("H10301", 1, None, "needs a facility"),
        ("H10302", 1, 0, "no facility code"),
        ("H10302", 2**35, None, "out of range"),
        ("C1K35S", 2**20, 0, "out of range"),
        ("C1K35S", 0, 2**12, "out of range"),
        ("C1K48S", 2**23, 0, "out of range"),
        ("C1K48S", 0, 2**22, "out of range"),
        ("H10304", 2**19, 0, "out of range"),
        ("H10306", 0, 2**16, "out of range"),
        ("H10301", True, 1, "integer"),
        ("H10301", 1.0, 1, "integer"),
        ("H10301", "1", 1, "integer"),
        ("H10301", 1, False, "integer"),
        pytest.param("H10301", 10**5000, 1, "out of range", id="huge-number"),
        pytest.param("H10302", 1, 10**5000, "no facility code", id="huge-facility"),
        ("X10301", 1, 1, "unknown Wiegand format"),
    ],
)
def test_encode_rejects(fmt: str, number: object, facility: object, message: str) -> None:
    with pytest.raises(WiegandError, match=message):
        encode(fmt, number, facility)  # type: ignore[arg-type]
    with pytest.raises(WiegandError, match=message):
        credential_from_fields(fmt, facility, number)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("H10301:12:3456", Credential("H10301", 12, 3456)),
        ("h10301:0:0", Credential("H10301", 0, 0)),
        ("h10302:123456", Credential("H10302", None, 123456)),
        ("RAW40:123", Credential("RAW40", None, 123)),
        ("c1k48s:4194303:8388607", Credential("C1K48S", 4194303, 8388607)),
        ("H10301:012:03456", Credential("H10301", 12, 3456)),
    ],
)
def test_parse_credential(text: str, expected: Credential) -> None:
    cred = parse_credential(text)
    assert cred == expected
    assert cred.format == expected.format
    assert cred.bits == encode(cred.format, cred.number, cred.facility)
    assert parse_credential(str(cred)) == cred


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("H10301:12", "needs FORMAT:FACILITY:NUMBER"),
        ("H10302:1:2", "no facility code"),
        ("RAW40:1:2", "no facility code"),
        ("H10301:1:2:3", "is not FORMAT"),
        ("H10301", "is not FORMAT"),
        ("", "is not FORMAT"),
        ("H10301:256:1", "facility 256 is out of range"),
        ("H10301:1:65536", "number 65536 is out of range"),
        ("RAW4:16", "out of range"),
        ("H10301:-1:1", "not a decimal"),
        ("H10301:+1:1", "not a decimal"),
        ("H10301: 1:1", "not a decimal"),
        ("H10301:1:1 ", "not a decimal"),
        ("H10301:1_0:1", "not a decimal"),
        ("H10301:١:1", "not a decimal"),
        ("H10301::1", "not a decimal"),
        ("H10302:0x10", "not a decimal"),
        ("H10302:" + "9" * 5000, "too many digits"),
        ("X1:1", "unknown Wiegand format"),
        (None, "must be a string"),
    ],
)
def test_parse_credential_rejects(text: object, message: str) -> None:
    with pytest.raises(WiegandError, match=message):
        parse_credential(text)  # type: ignore[arg-type]


def test_credential_str_and_equality() -> None:
    assert str(Credential("H10301", 12, 3456)) == "H10301:12:3456"
    assert str(Credential("H10302", None, 99)) == "H10302:99"
    assert str(Credential("RAW40", None, 123)) == "RAW40:123"
    # bits are evidence, not identity: a read card equals the same card typed by an admin.
    read = decode(encode("H10301", 3456, 12))
    assert read == parse_credential("H10301:12:3456")
    assert hash(read) == hash(Credential("H10301", 12, 3456))
    assert read != Credential("H10301", 12, 3457)
    with pytest.raises(AttributeError):
        read.number = 1  # type: ignore[misc]
