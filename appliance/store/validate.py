"""Checks on hostile input: each failure is a StoreError that says what was wrong."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from appliance.core.model import Mode, Status, Window
from appliance.store.errors import StoreError
from appliance.store.rows import ScheduleWindow, datetime_to_us
from appliance.store.schema.box import SOURCES
from appliance.wiegand.formats import Credential, WiegandError, credential_from_fields

MAX_SQLITE_INT = 2**63 - 1
MAX_WINDOWS = 50
MAX_HOLIDAYS = 1000
MAX_DOORS = 1000

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def show(value: object, limit: int = 60) -> str:
    """repr() of hostile input, cut short so a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


def status(value: object) -> Status:
    """A Status, from the enum or its name."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return Status(value)
    except ValueError:
        known = ", ".join(s.value for s in Status)
        raise StoreError(f"unknown status {show(value)}: expected one of {known}") from None


def mode(value: object) -> Mode:
    """A stored door Mode, from the enum or its name."""
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        return Mode(value)
    except ValueError:
        known = ", ".join(m.value for m in Mode)
        raise StoreError(f"unknown door mode {show(value)}: expected one of {known}") from None


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


def _day(name: str, where: str) -> int:
    low = name.strip().lower()
    if low in DAY_NAMES:
        return DAY_NAMES.index(low)
    if low in _FULL_DAY_NAMES:
        return _FULL_DAY_NAMES.index(low)
    raise StoreError(f"{where}: unknown day {show(name)}: expected mon, tue, ..., sun")


def days(value: object, where: str) -> tuple[int, ...]:
    """Days as 0 (Monday)..6 from 'mon-fri', 'sat,sun', 'fri-mon' or a list of ints."""
    found: set[int] = set()
    if isinstance(value, str):
        if value.strip().lower() in ("daily", "all", "every day"):
            return tuple(range(7))
        for part in value.split(","):
            if "-" in part:
                first, _, last = part.partition("-")
                a, b = _day(first, where), _day(last, where)
                # A range may wrap the week: fri-mon is Fri, Sat, Sun, Mon.
                found.update((a + i) % 7 for i in range((b - a) % 7 + 1))
            else:
                found.add(_day(part, where))
    elif isinstance(value, Sequence):
        for item in value:
            if isinstance(item, bool) or not isinstance(item, int) or not 0 <= item <= 6:
                raise StoreError(f"{where}: day {show(item)} is not 0 (Monday) to 6 (Sunday)")
            found.add(item)
    else:
        raise StoreError(f"{where}: days must be like 'mon-fri' or a list of 0..6")
    if not found:
        raise StoreError(f"{where}: no days given")
    return tuple(sorted(found))


def clock_time(value: object, where: str, *, end: bool) -> str:
    """A time of day 'HH:MM' (24-hour); '24:00' is allowed as an end."""
    match = _TIME_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise StoreError(f"{where}: time {show(value)} is not HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if (hours, minutes) == (24, 0) and end:
        return "24:00"
    if hours > 23 or minutes > 59:
        raise StoreError(f"{where}: time {show(value)} is not a time of day (00:00 to 23:59)")
    return f"{hours:02d}:{minutes:02d}"


def minutes(hhmm: str) -> int:
    """Minutes after midnight of a validated 'HH:MM'."""
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def window(value: object, index: int) -> ScheduleWindow:
    """One schedule window from a ScheduleWindow or {"days", "start", "end"}."""
    where = f"schedule window {index + 1}"
    if isinstance(value, ScheduleWindow):
        value = value.as_json()
    if not isinstance(value, Mapping):
        raise StoreError(f"{where} must be a mapping with days, start and end")
    unknown = set(value) - {"days", "start", "end"}
    if unknown:
        raise StoreError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("days", "start", "end"):
        if key not in value:
            raise StoreError(f"{where}: {key} is missing")
    start = clock_time(value["start"], where, end=False)
    stop = clock_time(value["end"], where, end=True)
    if start == stop:
        raise StoreError(f"{where}: starts and ends at {start}; for all day use always=True")
    return ScheduleWindow(days(value["days"], where), start, stop)


def schedule(value: Iterable[object] | None) -> tuple[ScheduleWindow, ...]:
    """A list of windows (None or empty: no windows)."""
    if value is None:
        return ()
    if isinstance(value, str | bytes | Mapping):
        raise StoreError("schedule must be a list of windows")
    windows = tuple(window(w, i) for i, w in enumerate(value))
    if len(windows) > MAX_WINDOWS:
        raise StoreError(f"schedule has {len(windows)} windows; the limit is {MAX_WINDOWS}")
    return windows


def to_window(w: ScheduleWindow) -> Window:
    """The core's Window for a stored window."""
    return Window(days=frozenset(w.days), start=minutes(w.start), end=minutes(w.end))


def holiday(value: object) -> date:
    """An ISO date 'YYYY-MM-DD' or a date."""
    if isinstance(value, datetime):
        raise StoreError(f"holiday {value.isoformat()} must be a date, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise StoreError(f"holiday {show(value)} is not a date YYYY-MM-DD")


def holidays(values: Iterable[object]) -> tuple[date, ...]:
    """Sorted distinct holiday dates."""
    if isinstance(values, str | bytes):
        raise StoreError("holidays must be a list of dates, not one string")
    result = tuple(sorted({holiday(v) for v in values}))
    if len(result) > MAX_HOLIDAYS:
        raise StoreError(f"{len(result)} holidays given; the limit is {MAX_HOLIDAYS}")
    return result


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
