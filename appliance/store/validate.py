"""Checks on hostile input: each failure is a StoreError that says what was wrong."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar

from appliance.core import schedule as sched
from appliance.core.model import Mode, Status
from appliance.core.schedule import ScheduleError, ScheduleWindow
from appliance.core.schedule import show as show
from appliance.core.schedule import to_window as to_window
from appliance.store.errors import StoreError
from appliance.store.rows import datetime_to_us
from appliance.store.schema.box import SOURCES
from appliance.wiegand.formats import Credential, WiegandError, credential_from_fields

MAX_SQLITE_INT = 2**63 - 1
MAX_DOORS = 1000
E = TypeVar("E", bound=StrEnum)

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def text(
    value: object, what: str, *, max_len: int, required: bool = True, multiline: bool = False
) -> str | None:
    """A stripped string without control characters, or None if empty and not required."""
    if value is None:
        if required:
            raise StoreError(f"{what} is required")
        return None
    if not isinstance(value, str):
        raise StoreError(f"{what} must be text, not {type(value).__name__}")
    value = value.strip()
    if not value:
        if required:
            raise StoreError(f"{what} must not be empty")
        return None
    if len(value) > max_len:
        raise StoreError(f"{what} is {len(value)} characters long; the limit is {max_len}")
    bad = (_CONTROL_BUT_NEWLINE_RE if multiline else _CONTROL_RE).search(value)
    if bad:
        raise StoreError(f"{what} {show(value)} contains a control character {bad.group()!r}")
    return value


def required_text(value: object, what: str, *, max_len: int) -> str:
    """As text(), for a value that must be present."""
    result = text(value, what, max_len=max_len)
    assert result is not None  # text() raises instead when required
    return result


def actor(value: object) -> str:
    """Who is making a change: every admin change names someone."""
    return required_text(value, "actor", max_len=100)


def card(fmt: str, facility: int | None, number: int) -> Credential:
    """Validate credential fields by the format's rules and SQLite's integer range."""
    try:
        cred = credential_from_fields(fmt, facility, number)
    except WiegandError as err:
        raise StoreError(str(err)) from None
    if cred.number > MAX_SQLITE_INT:
        raise StoreError(
            f"{cred.format} number {cred.number} is too large to store (the limit is 2**63-1)"
        )
    return cred


def _member(enum: type[E], value: object, what: str) -> E:
    """The member of ``enum`` named by ``value`` (a member or its value); else a StoreError."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return enum(value)
    except ValueError:
        known = ", ".join(m.value for m in enum)
        raise StoreError(f"unknown {what} {show(value)}: expected one of {known}") from None


def status(value: object) -> Status:
    """A Status, from the enum or its name."""
    return _member(Status, value, "status")


def mode(value: object) -> Mode:
    """A stored door Mode, from the enum or its name."""
    return _member(Mode, value, "door mode")


def source(value: object) -> str:
    """Where a credential came from: 'local' or 'district'."""
    if value not in SOURCES:
        raise StoreError(f"unknown source {show(value)}: expected one of {', '.join(SOURCES)}")
    return str(value)


def instant(value: object, what: str) -> int:
    """An aware datetime or Unix seconds, as UTC microseconds (a naive datetime is ambiguous)."""
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise StoreError(f"{what} {value.isoformat()} has no time zone; give an offset")
        return datetime_to_us(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise StoreError(f"{what} must be a finite time")
        return round(value * 1_000_000)
    raise StoreError(f"{what} must be an aware datetime or Unix seconds, not {show(value)}")


def validity(valid_from: object, valid_until: object) -> tuple[int | None, int | None]:
    """Optional validity bounds in µs; the end must come after the start."""
    start = None if valid_from is None else instant(valid_from, "valid_from")
    end = None if valid_until is None else instant(valid_until, "valid_until")
    if start is not None and end is not None and end <= start:
        raise StoreError("valid_until must be later than valid_from")
    return start, end


def schedule(value: Iterable[object] | None) -> tuple[ScheduleWindow, ...]:
    """A list of windows (None or empty: no windows); ``core.schedule``'s check, as a StoreError."""
    try:
        return sched.schedule(value)
    except ScheduleError as exc:
        raise StoreError(str(exc)) from None


def holidays(values: Iterable[object]) -> tuple[date, ...]:
    """Sorted distinct holiday dates; ``core.schedule``'s check, as a StoreError."""
    try:
        return sched.holidays(values)
    except ScheduleError as exc:
        raise StoreError(str(exc)) from None


def doors(value: Iterable[object] | None) -> tuple[str, ...] | None:
    """Door names (None means every door); an empty list is refused as surely a mistake."""
    if value is None:
        return None
    if isinstance(value, str | bytes):
        raise StoreError("doors must be a list of door names, not one string")
    names = sorted({required_text(d, "door name", max_len=100) for d in value})
    if not names:
        raise StoreError("doors must name at least one door, or be None for every door")
    if len(names) > MAX_DOORS:
        raise StoreError(f"{len(names)} doors given; the limit is {MAX_DOORS}")
    return tuple(names)


def flag(value: object, what: str) -> bool:
    """A real bool (1 or 'yes' are refused: a typo should not grant access)."""
    if not isinstance(value, bool):
        raise StoreError(f"{what} must be True or False, not {show(value)}")
    return value


MAX_PAGE = 10_000


def page(limit: object, offset: object, *, most: int = MAX_PAGE) -> tuple[int, int]:
    """A checked (limit, offset) for one page of a list."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= most:
        raise StoreError(f"limit must be 1 to {most}, not {show(limit)}")
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise StoreError(f"offset must be 0 or more, not {show(offset)}")
    return limit, offset


def contains_pattern(term: str) -> str:
    """A LIKE pattern (escape character backslash) matching ``term`` anywhere, literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def sha256_hex(value: object, what: str) -> str:
    """A SHA-256 hex digest (64 lowercase hex digits) of ``what``: never the secret itself."""
    if not isinstance(value, str) or not _SHA256_RE.fullmatch(value):
        # A token or session id handed to the store by mistake must never be written to disk.
        raise StoreError(f"{what} must be stored as its SHA-256 hex digest")
    return value
