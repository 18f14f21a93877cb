"""Weekly schedules and holidays, checked: days, times of day, windows and dates. Pure.

Hostile input (the config file's ``unlocked_schedule``, the admin page's group form, the store's
callers) comes in as plain values; each failure is a ScheduleError whose message names the window
and what was wrong, e.g. ``schedule window 2: time '25:00' is not a time of day``. The store turns
it into a StoreError with the same message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from appliance.core.model import Window

MAX_WINDOWS = 50
MAX_HOLIDAYS = 1000

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_TIME_RE = re.compile(r"([0-9]{1,2}):([0-9]{2})")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class ScheduleError(ValueError):
    """A schedule, window, day, time or holiday is unusable; ``str()`` says which and why."""


def show(value: object, limit: int = 60) -> str:
    """repr() of hostile input, cut short so a message stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass(frozen=True, slots=True)
class ScheduleWindow:
    """A stored schedule window: days 0 (Monday)..6, start and end as ``HH:MM``."""

    days: tuple[int, ...]
    start: str
    end: str

    def as_json(self) -> dict[str, Any]:
        """The form stored in ``groups.schedule``."""
        return {"days": list(self.days), "start": self.start, "end": self.end}


def _day(name: str, where: str) -> int:
    low = name.strip().lower()
    if low in DAY_NAMES:
        return DAY_NAMES.index(low)
    if low in _FULL_DAY_NAMES:
        return _FULL_DAY_NAMES.index(low)
    raise ScheduleError(f"{where}: unknown day {show(name)}: expected mon, tue, ..., sun")


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
                raise ScheduleError(f"{where}: day {show(item)} is not 0 (Monday) to 6 (Sunday)")
            found.add(item)
    else:
        raise ScheduleError(f"{where}: days must be like 'mon-fri' or a list of 0..6")
    if not found:
        raise ScheduleError(f"{where}: no days given")
    return tuple(sorted(found))


def clock_time(value: object, where: str, *, end: bool) -> str:
    """A time of day 'HH:MM' (24-hour); '24:00' is allowed as an end."""
    match = _TIME_RE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ScheduleError(f"{where}: time {show(value)} is not HH:MM")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if (hours, minutes) == (24, 0) and end:
        return "24:00"
    if hours > 23 or minutes > 59:
        raise ScheduleError(f"{where}: time {show(value)} is not a time of day (00:00 to 23:59)")
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
        raise ScheduleError(f"{where} must be a mapping with days, start and end")
    unknown = set(value) - {"days", "start", "end"}
    if unknown:
        raise ScheduleError(f"{where}: unknown key(s) {', '.join(sorted(map(str, unknown)))}")
    for key in ("days", "start", "end"):
        if key not in value:
            raise ScheduleError(f"{where}: {key} is missing")
    start = clock_time(value["start"], where, end=False)
    stop = clock_time(value["end"], where, end=True)
    if start == stop:
        raise ScheduleError(f"{where}: starts and ends at {start}; for all day use always=True")
    return ScheduleWindow(days(value["days"], where), start, stop)


def schedule(value: Iterable[object] | None) -> tuple[ScheduleWindow, ...]:
    """A list of windows (None or empty: no windows)."""
    if value is None:
        return ()
    if isinstance(value, str | bytes | Mapping):
        raise ScheduleError("schedule must be a list of windows")
    windows = tuple(window(w, i) for i, w in enumerate(value))
    if len(windows) > MAX_WINDOWS:
        raise ScheduleError(f"schedule has {len(windows)} windows; the limit is {MAX_WINDOWS}")
    return windows


def to_window(w: ScheduleWindow) -> Window:
    """The core's Window (minutes after midnight) for a checked window."""
    return Window(days=frozenset(w.days), start=minutes(w.start), end=minutes(w.end))


def holiday(value: object) -> date:
    """An ISO date 'YYYY-MM-DD' or a date."""
    if isinstance(value, datetime):
        raise ScheduleError(f"holiday {value.isoformat()} must be a date, not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value.strip()):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ScheduleError(f"holiday {show(value)} is not a date YYYY-MM-DD")


def holidays(values: Iterable[object]) -> tuple[date, ...]:
    """Sorted distinct holiday dates."""
    if isinstance(values, str | bytes):
        raise ScheduleError("holidays must be a list of dates, not one string")
    result = tuple(sorted({holiday(v) for v in values}))
    if len(result) > MAX_HOLIDAYS:
        raise ScheduleError(f"{len(result)} holidays given; the limit is {MAX_HOLIDAYS}")
    return result
