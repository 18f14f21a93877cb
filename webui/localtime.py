"""The box's local time for people: the configured zone (``config.zone``) or the system's."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, tzinfo

from webui.forms import Form
from webui.state import state

_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_YEAR, LAST_YEAR = 1970, 9998  # a day after LAST_YEAR still fits in a datetime


def zone() -> tzinfo | None:
    """The configured zone, or None for the system's local time."""
    return state().config.zone


def local(ts: datetime) -> datetime:
    """An aware time in the box's zone."""
    return ts.astimezone(zone())


def show(ts: datetime | None) -> str:
    """A time as people read it here: ``2026-11-23 02:14:05 MST``."""
    return "" if ts is None else local(ts).strftime("%Y-%m-%d %H:%M:%S %Z")


def zone_label() -> str:
    """How the page names the zone its times are in."""
    configured = state().config.timezone
    if configured:
        return configured
    return f"the box's local time ({datetime.now().astimezone().tzname()})"


def today() -> date:
    """Today's date in the box's zone."""
    return datetime.now(zone()).date() if zone() else datetime.now().astimezone().date()


def midnight(day: date) -> datetime:
    """The start of ``day`` in the box's zone, as an aware datetime."""
    naive = datetime.combine(day, time())
    found = zone()
    return naive.replace(tzinfo=found) if found else naive.astimezone()


def read_date(form: Form, name: str, label: str) -> date | None:
    """An optional YYYY-MM-DD field (a date in the box's zone)."""
    raw = form.text(name, label, required=False, max_len=10)
    if raw is None:
        return None
    try:
        if not _DATE_RE.fullmatch(raw):
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        form.error(name, f"{label} must be a date written YYYY-MM-DD, e.g. 2026-09-01")
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        form.error(name, f"{label} must be in the years {FIRST_YEAR} to {LAST_YEAR}")
        return None
    return day


def day_range(
    form: Form, start: str = "from", end: str = "to"
) -> tuple[datetime | None, datetime | None]:
    """[start of the first day, start of the day after the last) from two optional date fields."""
    first = read_date(form, start, "From date")
    last = read_date(form, end, "To date")
    if first and last and last < first:
        form.error(end, "To date is before From date")
        return None, None
    since = midnight(first) if first else None
    until = midnight(last + timedelta(days=1)) if last else None
    return since, until
