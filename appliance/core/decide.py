"""``decide(credential, door, view, now)``: the door's whole access policy, pure and fast.

Every answer carries an explicit reason; nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from appliance.core.model import CardEntry, GroupPolicy, Mode, Status, Window
from appliance.core.pins import verify_pin


class Reason(StrEnum):
    """Why a credential was granted or denied (the words shown in the audit log)."""

    GRANTED = "granted"
    UNKNOWN = "unknown card"
    REVOKED = "revoked"
    LOST = "lost"
    STOLEN = "stolen"
    RETURNED = "returned"
    EXPIRED = "expired"
    NOT_YET_VALID = "not yet valid"
    NO_ACCESS = "no access to this door"
    OUTSIDE_SCHEDULE = "outside schedule"
    HOLIDAY = "holiday"
    CLOCK_NOT_SET = "clock not synchronised"
    LOCKDOWN = "lockdown"
    PIN_REQUIRED = "PIN required"
    WRONG_PIN = "wrong PIN"
    READER_FAULT = "reader fault"


_STATUS_REASONS = {
    Status.REVOKED: Reason.REVOKED,
    Status.LOST: Reason.LOST,
    Status.STOLEN: Reason.STOLEN,
    Status.RETURNED: Reason.RETURNED,
}


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer for one read: granted or not, why, and who it was (for the audit log)."""

    granted: bool
    reason: Reason
    card_id: int | None = None
    group: str | None = None
    responder: bool = False  # a lockdown-immune group: every entry is reviewed for accountability


@dataclass(frozen=True, slots=True)
class DoorState:
    """What the policy needs to know about this door right now."""

    name: str
    mode: Mode = Mode.NORMAL
    clock_synced: bool = True
    allow_scheduled_when_unsynced: bool = False


@dataclass(slots=True)
class View:
    """The in-memory copy of the store that decisions are made from.

    ``cards`` maps ``card_key(...)`` to a ``CardEntry``; the controller refreshes it from the
    store (per-key updates are atomic) and replaces ``groups`` whole.
    """

    cards: dict[int, CardEntry] = field(default_factory=dict)
    groups: dict[int, GroupPolicy] = field(default_factory=dict)
    rev: int = 0


def in_window(window: Window, now: datetime) -> bool:
    """True if the local time ``now`` falls inside the weekly ``window``."""
    minute = now.hour * 60 + now.minute
    day = now.weekday()
    if window.start < window.end:
        return day in window.days and window.start <= minute < window.end
    # past midnight: the evening part on a listed day, or the morning after one
    return (day in window.days and minute >= window.start) or (
        (day - 1) % 7 in window.days and minute < window.end
    )


def _schedule_reason(group: GroupPolicy, door: DoorState, now: datetime) -> Reason | None:
    if group.always:
        return None
    if not door.clock_synced and not door.allow_scheduled_when_unsynced:
        return Reason.CLOCK_NOT_SET
    if now.date() in group.holidays:
        return Reason.HOLIDAY
    if not any(in_window(w, now) for w in group.windows):
        return Reason.OUTSIDE_SCHEDULE
    return None


def decide(
    key: int, door: DoorState, view: View, now: datetime, pin: str | None = None
) -> Decision:
    """Decide one read of the credential with ``key`` at ``door`` at local time ``now``.

    ``pin`` is the PIN typed after the card, for groups that require one.
    """
    entry = view.cards.get(key)
    if entry is None:
        return Decision(False, Reason.UNKNOWN)
    group = view.groups.get(entry.group_id)
    name = group.name if group else None
    responder = bool(group and group.lockdown_immune)

    def deny(reason: Reason) -> Decision:
        return Decision(False, reason, entry.id, name, responder)

    if entry.status != Status.ISSUED:
        return deny(_STATUS_REASONS.get(entry.status, Reason.REVOKED))
    ts = now.timestamp()
    if entry.valid_from is not None and ts < entry.valid_from:
        return deny(Reason.NOT_YET_VALID)
    if entry.valid_until is not None and ts >= entry.valid_until:
        return deny(Reason.EXPIRED)
    if group is None or not (group.all_doors or door.name in group.doors):
        return deny(Reason.NO_ACCESS)
    if door.mode == Mode.LOCKDOWN and not group.lockdown_immune:
        return deny(Reason.LOCKDOWN)
    schedule = _schedule_reason(group, door, now)
    if schedule is not None:
        return deny(schedule)
    if group.pin_required:
        if pin is None or entry.pin_hash is None:
            return deny(Reason.PIN_REQUIRED)
        if not verify_pin(pin, entry.pin_hash):
            return deny(Reason.WRONG_PIN)
    return Decision(True, Reason.GRANTED, entry.id, name, responder)
