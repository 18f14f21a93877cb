"""Wiegand card formats: decode a frame of bits into a Credential and encode one back.

Bits are numbered 1..N in transmission order (most significant first), as in
/work/shared/reference/wiegand.md. Parity masks for the Corporate 1000 formats match
Proxmark3's C1k35s / C1k48s pack and unpack functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

__all__ = [
    "FORMATS",
    "MAX_RAW_BITS",
    "Credential",
    "FormatSpec",
    "WiegandError",
    "canonical_format",
    "credential_from_fields",
    "decode",
    "encode",
    "format_length",
    "parse_credential",
]

MAX_RAW_BITS = 128
_RAW_RE = re.compile(r"RAW([1-9][0-9]{0,2})")
_DECIMAL_RE = re.compile(r"[0-9]+")
_MAX_DECIMAL_DIGITS = 40  # 2**128 has 39 digits; longer strings are refused before int()


class WiegandError(ValueError):
    """A frame, field or format name that cannot be decoded or encoded."""


@dataclass(frozen=True, slots=True)
class FormatSpec:
    """A named card format: its length and the widths of its fields."""

    name: str
    length: int
    facility_bits: int
    number_bits: int

    @property
    def has_facility(self) -> bool:
        """True if the format carries a facility (company) code."""
        return self.facility_bits > 0


@dataclass(frozen=True, slots=True)
class Credential:
    """A decoded card: format, facility (None if the format has none), number, raw bits.

    Equality and hashing ignore ``bits``: a card read from the wire equals the same card
    parsed from ``H10301:12:3456``. Construct through decode, parse_credential or
    credential_from_fields to get validated fields.
    """

    format: str
    facility: int | None
    number: int
    bits: str = field(default="", compare=False)

    def __str__(self) -> str:
        if self.facility is None:
            return f"{self.format}:{self.number}"
        return f"{self.format}:{self.facility}:{self.number}"


@dataclass(frozen=True, slots=True)
class _Parity:
    """One parity bit: its shift in the frame integer and the data bits it covers."""

    shift: int
    data_mask: int
    check_mask: int  # data_mask plus the parity bit itself
    odd: int  # 1 for odd parity, 0 for even
    label: str


@dataclass(frozen=True, slots=True)
class _Layout:
    spec: FormatSpec
    facility_shift: int
    facility_mask: int
    number_shift: int
    number_mask: int
    parities: tuple[_Parity, ...]  # in the order encode must compute them


def _positions_mask(length: int, positions: Iterable[int]) -> int:
    mask = 0
    for p in positions:
        mask |= 1 << (length - p)
    return mask


# A parity bit: (its position, "even"/"odd", first and last covered bit, the residue mod 3
# of the covered bits it skips or None, and how messages name it).
_ParityRow = tuple[int, str, int, int, int | None, str]


def _parity(length: int, row: _ParityRow) -> _Parity:
    bit, kind, first, last, skip, where = row
    covered = [p for p in range(first, last + 1) if skip is None or p % 3 != skip]
    data = _positions_mask(length, covered)
    if where in ("leading", "trailing"):
        label = f"{where} {kind} parity (bits {first}-{last})"
    else:
        skipped = [p for p in range(first, last + 1) if p not in covered]
        gaps = f" except {skipped[0]}, {skipped[1]}, ..., {skipped[-1]}" if skipped else ""
        label = f"{where}{kind} parity (bit {bit} over bits {first}-{last}{gaps})"
    own = 1 << (length - bit)
    return _Parity(length - bit, data, data | own, int(kind == "odd"), label)


def _layout(
    name: str,
    length: int,
    facility: tuple[int, int] | None,
    number: tuple[int, int],
    parities: tuple[_ParityRow, ...],
) -> _Layout:
    """Build a layout from 1-based inclusive bit ranges and parity rows."""
    if facility is None:
        f_shift, f_mask, f_bits = 0, 0, 0
    else:
        f_bits = facility[1] - facility[0] + 1
        f_shift, f_mask = length - facility[1], (1 << f_bits) - 1
    n_bits = number[1] - number[0] + 1
    return _Layout(
        spec=FormatSpec(name, length, f_bits, n_bits),
        facility_shift=f_shift,
        facility_mask=f_mask,
        number_shift=length - number[1],
        number_mask=(1 << n_bits) - 1,
        parities=tuple(_parity(length, row) for row in parities),
    )


_HID37: tuple[_ParityRow, ...] = (
    (1, "even", 2, 19, None, "leading"),
    (37, "odd", 19, 36, None, "trailing"),
)
# Corporate 1000 (masks as in Proxmark3's C1k35s/C1k48s): bit 35 covers bit 2, so bit 2 is
# computed first and the overall bit 1 last; encode follows this order.
_C1K35: tuple[_ParityRow, ...] = (
    (2, "even", 3, 34, 2, ""),
    (35, "odd", 2, 33, 1, ""),
    (1, "odd", 2, 35, None, "overall "),
)
_C1K48: tuple[_ParityRow, ...] = (
    (2, "even", 4, 47, 0, ""),
    (48, "odd", 3, 46, 2, ""),
    (1, "odd", 2, 48, None, "overall "),
)

_LAYOUTS: dict[str, _Layout] = {
    lay.spec.name: lay
    for lay in (
        _layout(
            "H10301",
            26,
            (2, 9),
            (10, 25),
            ((1, "even", 2, 13, None, "leading"), (26, "odd", 14, 25, None, "trailing")),
        ),
        _layout(
            "H10306",
            34,
            (2, 17),
            (18, 33),
            ((1, "even", 2, 17, None, "leading"), (34, "odd", 18, 33, None, "trailing")),
        ),
        _layout("C1K35S", 35, (3, 14), (15, 34), _C1K35),
        _layout("H10304", 37, (2, 17), (18, 36), _HID37),
        _layout("H10302", 37, None, (2, 36), _HID37),
        _layout("C1K48S", 48, (3, 24), (25, 47), _C1K48),
    )
}

FORMATS: Mapping[str, FormatSpec] = MappingProxyType(
    {name: lay.spec for name, lay in _LAYOUTS.items()}
)

# Default: every named format; 37-bit frames are H10304 unless a site says H10302.
_DEFAULT_BY_LENGTH: dict[int, _Layout] = {
    lay.spec.length: lay for lay in _LAYOUTS.values() if lay.spec.name != "H10302"
}


def _show(value: object, limit: int = 60) -> str:
    """repr() of hostile input, cut short so an error message stays readable."""
    if isinstance(value, int) and value.bit_length() > 256:
        # Python refuses to print ints of more than 4300 digits; say how big it is instead.
        return f"<{value.bit_length()}-bit integer>"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _raw_length(upper: str) -> int | None:
    match = _RAW_RE.fullmatch(upper)
    if match is None:
        return None
    n = int(match.group(1))
    return n if n <= MAX_RAW_BITS else None


def canonical_format(name: str) -> str:
    """Return the canonical upper-case name of a format (or RAW<N>, 1 <= N <= 128)."""
    if not isinstance(name, str):
        raise WiegandError(f"format name must be a string, not {type(name).__name__}")
    # isascii first: str.upper() maps some non-ASCII letters (e.g. 'ſ') onto ASCII ones.
    upper = name.upper() if name.isascii() else ""
    if upper in _LAYOUTS or _raw_length(upper) is not None:
        return upper
    known = ", ".join(_LAYOUTS)
    raise WiegandError(
        f"unknown Wiegand format {_show(name)}: expected one of {known}, "
        f"or RAW<N> with N from 1 to {MAX_RAW_BITS}"
    )


def format_length(name: str) -> int:
    """Return the frame length in bits of a named format or RAW<N>."""
    canon = canonical_format(name)
    layout = _LAYOUTS.get(canon)
    if layout is not None:
        return layout.spec.length
    return int(canon[3:])


@lru_cache(maxsize=64)
def _by_length(allowed: tuple[str, ...]) -> dict[int, _Layout]:
    names = {canonical_format(n) for n in allowed}
    table: dict[int, _Layout] = {}
    for name in names:
        layout = _LAYOUTS.get(name)
        if layout is None:
            continue  # RAW<N>: frames of that length decode as RAW anyway
        if name == "H10302" and "H10304" in names:
            continue  # both allowed: the 37-bit default wins, as documented
        table[layout.spec.length] = layout
    return table


def _check_bits(bits: object) -> str:
    if not isinstance(bits, str):
        raise WiegandError(f"Wiegand bits must be a string of 0/1, not {type(bits).__name__}")
    if not bits:
        raise WiegandError("Wiegand frame is empty")
    # strip() leaves something only if a character other than 0/1 is present.
    stray = bits.strip("01")
    if stray:
        raise WiegandError(f"Wiegand bits must be only '0' and '1', got {_show(stray[0])}")
    if len(bits) > MAX_RAW_BITS:
        raise WiegandError(
            f"Wiegand frame of {len(bits)} bits is longer than the {MAX_RAW_BITS}-bit maximum"
        )
    return bits


def decode(bits: str, formats: Iterable[str] | None = None) -> Credential:
    """Decode a frame ('0'/'1' string) into a Credential; unmatched lengths become RAW<N>."""
    if formats is None:
        table = _DEFAULT_BY_LENGTH
    else:
        if isinstance(formats, str):
            raise WiegandError(
                f"formats must be a collection of format names, not the string {_show(formats)}"
            )
        try:
            table = _by_length(tuple(formats))
        except TypeError as exc:  # not iterable, or an unhashable entry
            raise WiegandError(f"formats must be a collection of format names: {exc}") from None
    _check_bits(bits)
    n = len(bits)
    value = int(bits, 2)
    layout = table.get(n)
    if layout is None:
        return Credential(f"RAW{n}", None, value, bits)
    for parity in layout.parities:
        if (value & parity.check_mask).bit_count() & 1 != parity.odd:
            raise WiegandError(f"{layout.spec.name} frame fails its {parity.label}")
    facility = (
        (value >> layout.facility_shift) & layout.facility_mask if layout.facility_mask else None
    )
    number = (value >> layout.number_shift) & layout.number_mask
    return Credential(layout.spec.name, facility, number, bits)


def _check_field(fmt: str, what: str, value: object, width: int) -> int:
    # bool is an int subclass, but True as a card number is a bug, not a card.
    if isinstance(value, bool) or not isinstance(value, int):
        raise WiegandError(f"{fmt} {what} must be an integer, not {type(value).__name__}")
    if value < 0 or value >> width:
        raise WiegandError(
            f"{fmt} {what} {_show(value)} is out of range 0..{(1 << width) - 1} ({width} bits)"
        )
    return value


def _validated(fmt: str, number: object, facility: object) -> tuple[str, int, int | None]:
    canon = canonical_format(fmt)
    layout = _LAYOUTS.get(canon)
    spec = layout.spec if layout is not None else None
    if spec is None or not spec.has_facility:
        if facility is not None:
            raise WiegandError(
                f"{canon} has no facility code, but facility {_show(facility)} was given"
            )
        width = int(canon[3:]) if spec is None else spec.number_bits
        return canon, _check_field(canon, "number", number, width), None
    if facility is None:
        raise WiegandError(f"{canon} needs a facility code")
    fac = _check_field(canon, "facility", facility, spec.facility_bits)
    return canon, _check_field(canon, "number", number, spec.number_bits), fac


def encode(format: str, number: int, facility: int | None = None) -> str:
    """Encode a card as a '0'/'1' frame with its parity bits; the inverse of decode."""
    canon, num, fac = _validated(format, number, facility)
    layout = _LAYOUTS.get(canon)
    if layout is None:
        return f"{num:0{canon[3:]}b}"
    value = num << layout.number_shift
    if fac is not None:
        value |= fac << layout.facility_shift
    for parity in layout.parities:
        bit = ((value & parity.data_mask).bit_count() & 1) ^ parity.odd
        value |= bit << parity.shift
    return f"{value:0{layout.spec.length}b}"


def credential_from_fields(format: str, facility: int | None, number: int) -> Credential:
    """Validate fields as encode does and return the Credential with its bits filled in."""
    canon, num, fac = _validated(format, number, facility)
    return Credential(canon, fac, num, encode(canon, num, fac))


def _parse_decimal(text: str, what: str, whole: str) -> int:
    if not _DECIMAL_RE.fullmatch(text):
        raise WiegandError(
            f"credential {_show(whole)}: {what} {_show(text)} is not a decimal number"
        )
    if len(text) > _MAX_DECIMAL_DIGITS:
        raise WiegandError(f"credential {_show(whole)}: {what} has too many digits")
    return int(text)


def parse_credential(text: str) -> Credential:
    """Parse 'FORMAT:FACILITY:NUMBER' or 'FORMAT:NUMBER' (e.g. 'H10301:12:3456', 'RAW40:123')."""
    if not isinstance(text, str):
        raise WiegandError(f"credential must be a string, not {type(text).__name__}")
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise WiegandError(
            f"credential {_show(text)} is not FORMAT:FACILITY:NUMBER or FORMAT:NUMBER"
        )
    canon = canonical_format(parts[0])
    layout = _LAYOUTS.get(canon)
    needs_facility = layout is not None and layout.spec.has_facility
    if needs_facility and len(parts) != 3:
        raise WiegandError(f"credential {_show(text)}: {canon} needs FORMAT:FACILITY:NUMBER")
    if not needs_facility and len(parts) != 2:
        raise WiegandError(
            f"credential {_show(text)}: {canon} has no facility code, write FORMAT:NUMBER"
        )
    number = _parse_decimal(parts[-1], "number", text)
    facility = _parse_decimal(parts[1], "facility", text) if needs_facility else None
    try:
        return credential_from_fields(canon, facility, number)
    except WiegandError as exc:
        raise WiegandError(f"credential {_show(text)}: {exc}") from None
