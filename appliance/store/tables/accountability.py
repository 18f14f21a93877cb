"""Accountability SQL: responder entries and their reviews, fob reports, the event kinds on record.

Every query here is bounded by an index (see schema/reviews.py): per credential an index seek into
events, never a scan of the audit log, so pages stay quick at 100,000 fobs and 1,000,000 events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import opt_us_to_datetime, us_to_datetime
from appliance.store.schema.box import Event
from appliance.store.schema.reviews import RESPONDER_FLAG, Review
from appliance.store.tables.events import bump_rev, log_change, read_only_detail

MAX_PAGE = 1000
MAX_DAYS = 3650
REVIEW_STATES = ("all", "unreviewed", "reviewed")
INCIDENT_MAX = 100
NOTE_MAX = 2000
PRESENTED = ("granted", "denied")


@dataclass(frozen=True, slots=True)
class ResponderEntry:
    """A granted responder event and its review (reviewer None until an admin reviews it)."""

    event_id: int
    ts: datetime
    credential: str | None
    holder: str | None
    serial: str | None
    door: str | None
    reason: str | None
    detail: Mapping[str, Any] | None
    incident: str | None
    note: str | None
    reviewer: str | None
    reviewed_at: datetime | None


@dataclass(frozen=True, slots=True)
class FobReportRow:
    """A credential in a report, with when it was last presented and tries since marked."""

    id: int
    credential: str
    serial: str | None
    holder: str
    agency: str | None
    group: str
    status: str
    status_reason: str | None
    status_changed_at: datetime
    status_changed_by: str
    issued_at: datetime
    last_granted: datetime | None
    last_denied: datetime | None
    denied_since: int  # lost/stolen report: refusals since the status change
    granted_since: int  # lost/stolen report: should stay 0 (the door refuses it)

    @property
    def last_seen(self) -> datetime | None:
        """The later of the last grant and the last refusal."""
        seen = [t for t in (self.last_granted, self.last_denied) if t is not None]
        return max(seen) if seen else None


def check_limit(limit: object) -> int:
    return v.page(limit, 0, most=MAX_PAGE)[0]


def check_cursor(value: object, what: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise StoreError(f"{what} must be an id, not {v.show(value)}")
    return value


def event_kinds(s: Session) -> list[str]:
    """The distinct event kinds on record, sorted: one index seek per kind (a skip scan)."""
    found: list[str] = []
    kind = s.scalar(select(func.min(Event.kind)))
    while kind is not None:
        found.append(kind)
        kind = s.scalar(select(func.min(Event.kind)).where(Event.kind > kind))
    return found


# -- responder entries and reviews ------------------------------------------------------------


def _responder() -> ColumnElement[bool]:
    # Literal SQL so it matches ix_events_responder's expression exactly.
    return and_(Event.kind == "granted", literal_column(RESPONDER_FLAG) == 1)


def _entry(e: Event, r: Review | None) -> ResponderEntry:
    return ResponderEntry(
        event_id=e.id,
        ts=us_to_datetime(e.ts_us),
        credential=e.credential,
        holder=e.holder,
        serial=e.serial,
        door=e.door,
        reason=e.reason,
        detail=read_only_detail(e.detail),
        incident=r.incident if r else None,
        note=r.note if r else None,
        reviewer=r.reviewer if r else None,
        reviewed_at=opt_us_to_datetime(r.reviewed_at) if r else None,
    )


def _state_filter(state: object) -> ColumnElement[bool] | None:
    if state not in REVIEW_STATES:
        raise StoreError(
            f"review state must be one of {', '.join(REVIEW_STATES)}, not {v.show(state)}"
        )
    if state == "unreviewed":
        return Review.event_id.is_(None)
    if state == "reviewed":
        return Review.event_id.is_not(None)
    return None


def responder_entries(
    s: Session,
    *,
    state: str = "all",
    limit: int = 100,
    before_id: int | None = None,
    after_id: int | None = None,
) -> list[ResponderEntry]:
    """Responder entries in the review state, newest first (oldest first with ``after_id``)."""
    lim = check_limit(limit)
    before, after = check_cursor(before_id, "before_id"), check_cursor(after_id, "after_id")
    stmt = select(Event, Review).outerjoin(Review, Review.event_id == Event.id).where(_responder())
    wanted = _state_filter(state)
    if wanted is not None:
        stmt = stmt.where(wanted)
    if before is not None:
        stmt = stmt.where(Event.id < before)
    if after is not None:
        stmt = stmt.where(Event.id > after)
    stmt = stmt.order_by(Event.id.asc() if after is not None else Event.id.desc()).limit(lim)
    return [_entry(e, r) for e, r in s.execute(stmt)]


def count_responder_entries(s: Session) -> tuple[int, int]:
    """(every responder entry, how many are still unreviewed)."""
    total, reviewed = s.execute(
        select(func.count(Event.id), func.count(Review.event_id))
        .select_from(Event)
        .outerjoin(Review, Review.event_id == Event.id)
        .where(_responder())
    ).one()
    return int(total), int(total) - int(reviewed)


def responder_entry(s: Session, event_id: int) -> ResponderEntry | None:
    """One responder entry by event id; None if that event is not a responder entry."""
    eid = check_cursor(event_id, "event id")
    row = s.execute(
        select(Event, Review)
        .outerjoin(Review, Review.event_id == Event.id)
        .where(Event.id == eid, _responder())
    ).one_or_none()
    return None if row is None else _entry(row[0], row[1])


def review(
    s: Session, now_us: int, event_id: int, *, incident: str | None, note: str | None, actor: str
) -> ResponderEntry:
    """Record an admin's review of a responder entry (once); logged as an admin event."""
    who = v.actor(actor)
    inc = v.text(incident, "incident number", max_len=INCIDENT_MAX, required=False)
    why = v.text(note, "reason", max_len=NOTE_MAX, required=False, multiline=True)
    if inc is None and why is None:
        raise StoreError("a review needs the incident number or the reason for the entry")
    entry = responder_entry(s, event_id)
    if entry is None:
        raise StoreError(f"event {v.show(event_id)} is not a responder entry")
    if entry.reviewer is not None:
        raise StoreError(f"event {entry.event_id} was already reviewed by {entry.reviewer}")
    s.add(Review(event_id=entry.event_id, incident=inc, note=why, reviewer=who, reviewed_at=now_us))
    bump_rev(s)
    log_change(
        s,
        now_us,
        actor=who,
        action="review",
        reason=why,
        credential=entry.credential,
        holder=entry.holder,
        serial=entry.serial,
        detail={"event_id": entry.event_id, "incident": inc},
    )
    s.flush()
    found = responder_entry(s, entry.event_id)
    assert found is not None
    return found
