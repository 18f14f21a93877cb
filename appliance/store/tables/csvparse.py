"""CSV parsing for imports: every row checked, every problem kept with its line number. No SQL."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from appliance.core.model import Status
from appliance.store import validate as v
from appliance.store.errors import ImportRejected, StoreError
from appliance.store.tables.cards import serial_text
from appliance.store.tables.csvcell import restore_cell
from appliance.store.tables.groups import STAFF
from appliance.store.tables.holders import holder_name
from appliance.wiegand.formats import Credential as Card
from appliance.wiegand.formats import WiegandError, canonical_format

REQUIRED = ("format", "number", "holder")
# The optional columns besides ``facility``: the export writes them too, so it reads back in.
CARD_COLUMNS = (
    "serial",
    "group",
    "agency",
    "status",
    "status_reason",
    "valid_from",
    "valid_until",
)
OPTIONAL = ("facility", *CARD_COLUMNS)
MAX_ROWS = 1_000_000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    card: Card
    holder: str
    agency: str | None
    serial: str | None
    group: str
    status: Status
    reason: str | None
    valid_from: int | None
    valid_until: int | None


def read_text(source: Path | str) -> str:
    """The CSV text: a Path is read as UTF-8 (BOM allowed); a str is the CSV itself."""
    if isinstance(source, Path):
        try:
            data = source.read_bytes()
        except OSError as err:
            raise StoreError(f"cannot read {source}: {err.strerror}") from err
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = data.count(b"\n", 0, err.start) + 1
            raise ImportRejected([(line, "not UTF-8 text (save the file as CSV UTF-8)")]) from None
    if isinstance(source, str):
        return source.removeprefix("\ufeff")
    raise StoreError(f"import_csv takes a Path or CSV text, not {type(source).__name__}")


def _records(text: str, errors: list[tuple[int, str]]) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, fields); a quoted field spanning lines counts every line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            # Past broken quoting nothing can be trusted; report where it started.
            errors.append((start, f"malformed CSV: {err}"))
            return
        yield start, fields
        start = reader.line_num + 1


def _header(fields: list[str], errors: list[tuple[int, str]]) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for i, raw in enumerate(fields):
        name = raw.strip().lower()
        if name in REQUIRED or name in OPTIONAL:
            if name in columns:
                errors.append((1, f"column {name!r} appears twice in the header"))
            columns.setdefault(name, i)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        shown = ", ".join(repr(f.strip()) for f in fields) or "nothing"
        errors.append((1, f"missing column(s) {', '.join(missing)} (the header has {shown})"))
    # Absent optional columns read as empty.
    return None if errors else {c: columns.get(c, -1) for c in (*REQUIRED, *OPTIONAL)}


def _int_field(text: str, what: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise StoreError(f"{what} {v.show(text)} is not a whole number")
    if len(text) > 40:
        raise StoreError(f"{what} has too many digits")
    return int(text)


def _instant(text: str, what: str) -> int | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise StoreError(f"{what} {v.show(text)} is not an ISO 8601 date and time") from None
    return v.instant(when, what)


_agency = partial(v.text, what="agency", max_len=200, required=False)
_reason = partial(v.text, what="status_reason", max_len=500, required=False, multiline=True)


def _parse_row(
    line: int, f: dict[str, str], groups: dict[str, int]
) -> tuple[Row | None, list[str]]:
    """One data row (stripped fields by column): the Row, or None and every problem in it."""
    problems: list[str] = []

    def check(fn: Callable[..., T], *args: Any) -> T | None:
        try:
            return fn(*args)
        except (StoreError, WiegandError) as err:
            problems.append(str(err))
            return None

    fmt_text, num_text, fac_text = f["format"], f["number"], f["facility"]
    if not fmt_text:
        problems.append("format is empty")
    if not num_text:
        problems.append("number is empty")
    fmt = check(canonical_format, fmt_text) if fmt_text else None
    number = check(_int_field, num_text, "number") if num_text else None
    facility = check(_int_field, fac_text, "facility") if fac_text else None
    card = None
    if fmt is not None and number is not None and (facility is not None or not fac_text):
        card = check(v.card, fmt, facility, number)
    holder = check(holder_name, f["holder"])
    # Optional fields are checked only when present: 100,000 rows should take seconds.
    agency = check(_agency, f["agency"]) if f["agency"] else None
    serial = check(serial_text, f["serial"]) if f["serial"] else None
    group = f["group"] or STAFF
    if group not in groups:
        problems.append(f"unknown group {group!r} (known: {', '.join(sorted(groups))})")
    status = check(v.status, f["status"].lower()) if f["status"] else Status.ISSUED
    reason = check(_reason, f["status_reason"]) if f["status_reason"] else None
    start = check(_instant, f["valid_from"], "valid_from") if f["valid_from"] else None
    end = check(_instant, f["valid_until"], "valid_until") if f["valid_until"] else None
    if start is not None and end is not None and end <= start:
        problems.append("valid_until must be later than valid_from")
    if problems or card is None or holder is None or status is None:
        return None, problems
    return Row(line, card, holder, agency, serial, group, status, reason, start, end), problems


def parse(text: str, groups: dict[str, int]) -> tuple[list[Row], list[tuple[int, str]]]:
    """Every row of the file and every problem found without the database (but for groups)."""
    errors: list[tuple[int, str]] = []
    records = _records(text, errors)
    first = next(records, None)
    if first is None:
        return [], errors or [(1, "the file is empty: expected a header row")]
    columns = _header(first[1], errors)
    if columns is None:
        return [], errors
    width = len(first[1])
    rows: list[Row] = []
    count = 0
    seen_cards: dict[Card, int] = {}
    seen_serials: dict[str, int] = {}
    for line, fields in records:
        if not any(f.strip() for f in fields):
            continue  # blank lines are harmless
        count += 1
        if count > MAX_ROWS:
            errors.append((line, f"more than {MAX_ROWS} rows: split the file"))
            break
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            errors.append((line, f"row has {len(fields)} fields but the header has {width}"))
            continue
        n = len(fields)
        # A leading quote is the exports' formula guard (csvcell): one is removed, exactly.
        values = {
            c: (restore_cell(fields[i].strip()) if 0 <= i < n else "") for c, i in columns.items()
        }
        row, problems = _parse_row(line, values, groups)
        errors.extend((line, p) for p in problems)
        if row is None:
            continue
        if row.card in seen_cards:
            errors.append((line, f"credential {row.card} is also on line {seen_cards[row.card]}"))
        else:
            seen_cards[row.card] = line
        if row.serial is not None:
            if row.serial in seen_serials:
                errors.append(
                    (line, f"serial {row.serial!r} is also on line {seen_serials[row.serial]}")
                )
            else:
                seen_serials[row.serial] = line
        rows.append(row)
    return rows, errors
