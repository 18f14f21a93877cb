"""What the store hands out and takes in: frozen dataclasses, and UTC time conversions.

In the database every time is INTEGER UTC microseconds; out here times are aware datetimes in UTC
(``EventRecord.ts`` is Unix seconds, as the audit journal keeps it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import Enum
from typing import Any

from appliance.core import event_wire
from appliance.core.model import CardEntry, GroupPolicy, Mode, Status
from appliance.core.schedule import ScheduleWindow as ScheduleWindow  # its checks are there

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


def us_to_datetime(us: int) -> datetime:
    """UTC microseconds to an aware UTC datetime (exact, no float rounding)."""
    return EPOCH + timedelta(microseconds=us)


def opt_us_to_datetime(us: int | None) -> datetime | None:
    """As us_to_datetime, passing None through."""
    return None if us is None else us_to_datetime(us)


def datetime_to_us(dt: datetime) -> int:
    """An aware datetime to UTC microseconds; the caller has checked it is aware."""
    return (dt - EPOCH) // _ONE_US


def credential_text(fmt: str, facility: int | None, number: int) -> str:
    """The credential as people write it: ``H10301:12:3456`` or ``H10302:123``."""
    return f"{fmt}:{number}" if facility is None else f"{fmt}:{facility}:{number}"


@dataclass(frozen=True, slots=True)
class EventRecord:
    """An event to append: ``ts`` is Unix seconds; ``source_key`` makes a replay a no-op."""

    ts: float
    kind: str
    reason: str | None = None
    credential: str | None = None
    holder: str | None = None
    serial: str | None = None
    door: str | None = None
    actor: str | None = None
    detail: Mapping[str, Any] | None = None
    source_key: str | None = None


@dataclass(frozen=True, slots=True)
class EventRow(event_wire.EventFields[datetime]):
    """A stored event: its id (increasing with insertion), its time as an aware UTC datetime."""

    source_key: str | None

    def as_wire(self) -> dict[str, Any]:
        """The event as a box ships it home (``appliance.core.event_wire``; no source key)."""
        return event_wire.as_wire(self)


@dataclass(frozen=True, slots=True)
class CredentialRow:
    """One credential with its holder and group names, for people (lists, CLI, admin page)."""

    id: int
    credential: str
    format: str
    facility: int | None
    number: int
    holder: str
    agency: str | None
    serial: str | None
    group: str
    status: Status
    status_reason: str | None
    status_changed_at: datetime
    status_changed_by: str
    issued_at: datetime
    issued_by: str
    returned_at: datetime | None
    returned_by: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    has_pin: bool
    source: str
    rev: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HolderRow:
    """A holder and how many credentials they have (in any status)."""

    id: int
    name: str
    agency: str | None
    badge: str | None
    contact: str | None
    notes: str | None
    created_at: datetime
    credentials: int


@dataclass(frozen=True, slots=True)
class GroupRow:
    """An access group as people edit it."""

    id: int
    name: str
    all_doors: bool
    doors: tuple[str, ...]
    always: bool
    schedule: tuple[ScheduleWindow, ...]
    holidays: tuple[date, ...]
    lockdown_immune: bool
    pin_required: bool
    builtin: bool


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a decision needs, read in one transaction; ``rev`` covers all of it."""

    rev: int
    groups: dict[int, GroupPolicy]
    cards: list[tuple[int, CardEntry]]
    mode: Mode
    mode_reason: str | None


class Unset(Enum):
    """The type of UNSET: "leave this field as it is" in an update, where None means "clear it"."""

    UNSET = "unset"


UNSET = Unset.UNSET
