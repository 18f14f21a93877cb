"""The audit log and the change counter: every admin change and every door event is on record."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from sqlalchemy import Integer, Text, cast, func, insert, select, union_all, update
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import EventRecord, EventRow, us_to_datetime
from appliance.store.schema.box import Door, Event, Meta

MAX_EVENTS_PER_QUERY = 10_000
MAX_DETAIL_CHARS = 20_000
NOT_INITIALISED = "database is not initialised: run `doorward init` first"


def current_rev(s: Session) -> int:
    """The change counter as committed (0 on a fresh database)."""
    value = s.scalar(select(Meta.value).where(Meta.key == "rev"))
    if value is None:
        raise StoreError(NOT_INITIALISED)
    return int(value)


def bump_rev(s: Session) -> int:
    """Increment the change counter inside the caller's write transaction; return the new value."""
    stmt = (
        update(Meta)
        .where(Meta.key == "rev")
        .values(value=cast(cast(Meta.value, Integer) + 1, Text))
        .returning(Meta.value)
        .execution_options(synchronize_session=False)
    )
    value = s.execute(stmt).scalar_one_or_none()
    if value is None:
        raise StoreError(NOT_INITIALISED)
    return int(value)


def door_name(s: Session) -> str | None:
    """The door's name, for stamping events (None before init)."""
    return s.scalar(select(Door.name).where(Door.id == 1))


def log_change(
    s: Session,
    now_us: int,
    *,
    actor: str,
    action: str,
    kind: str = "admin",
    reason: str | None = None,
    credential: str | None = None,
    holder: str | None = None,
    serial: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> None:
    """Append the record of an admin change inside the same transaction as the change."""
    s.add(
        Event(
            ts_us=now_us,
            kind=kind,
            reason=reason,
            credential=credential,
            holder=holder,
            serial=serial,
            door=door_name(s),
            actor=actor,
            detail={"action": action, **(detail or {})},
            source_key=None,
        )
    )


def _record_row(index: int, rec: EventRecord) -> dict[str, Any]:
    where = f"event {index + 1}"
    if not isinstance(rec, EventRecord):
        raise StoreError(f"{where} is a {type(rec).__name__}, not an EventRecord")
    if isinstance(rec.ts, bool) or not isinstance(rec.ts, int | float) or not math.isfinite(rec.ts):
        raise StoreError(f"{where}: ts must be finite Unix seconds, not {v.show(rec.ts)}")
    detail: dict[str, Any] | None = None
    if rec.detail is not None:
        if not isinstance(rec.detail, Mapping):
            raise StoreError(f"{where}: detail must be a mapping")
        detail = dict(rec.detail)
        try:
            size = len(json.dumps(detail))
        except (TypeError, ValueError) as err:
            raise StoreError(f"{where}: detail is not JSON ({err})") from None
        if size > MAX_DETAIL_CHARS:
            raise StoreError(f"{where}: detail is {size} characters of JSON; the limit is 20000")

    def opt(value: object, what: str, limit: int) -> str | None:
        return v.text(value, f"{where}: {what}", max_len=limit, required=False)

    return {
        "ts_us": round(rec.ts * 1_000_000),
        "kind": v.required_text(rec.kind, f"{where}: kind", max_len=32),
        "reason": v.text(
            rec.reason, f"{where}: reason", max_len=2000, required=False, multiline=True
        ),
        "credential": opt(rec.credential, "credential", 64),
        "holder": opt(rec.holder, "holder", 200),
        "serial": opt(rec.serial, "serial", 64),
        "door": opt(rec.door, "door", 100),
        "actor": opt(rec.actor, "actor", 100),
        "detail": detail,
        "source_key": opt(rec.source_key, "source_key", 200),
    }


def append_events(s: Session, records: Sequence[EventRecord]) -> int:
    """Insert events, skipping any whose source_key is already stored; return how many were new."""
    rows = [_record_row(i, rec) for i, rec in enumerate(records)]
    if not rows:
        return 0
    conn = s.connection()
    before = conn.execute(select(func.total_changes())).scalar_one()
    conn.execute(insert(Event).prefix_with("OR IGNORE"), rows)
    after = conn.execute(select(func.total_changes())).scalar_one()
    return int(after - before)


def read_only_detail(value: Any) -> Mapping[str, Any] | None:
    """A stored event's detail as a read-only view (None unless it is a dict)."""
    return MappingProxyType(value) if isinstance(value, dict) else None


def event_row(e: Event) -> EventRow:
    """A stored event as the store hands it out (its detail read-only)."""
    return EventRow(
        id=e.id,
        ts=us_to_datetime(e.ts_us),
        kind=e.kind,
        reason=e.reason,
        credential=e.credential,
        holder=e.holder,
        serial=e.serial,
        door=e.door,
        actor=e.actor,
        detail=read_only_detail(e.detail),
        source_key=e.source_key,
    )


def query_events(
    s: Session,
    *,
    limit: int = 100,
    after_id: int | None = None,
    before_id: int | None = None,
    kinds: Iterable[str] | None = None,
    serial: str | None = None,
    holder: str | None = None,
    since: datetime | float | None = None,
    until: datetime | float | None = None,
    newest_first: bool = True,
) -> list[EventRow]:
    """Events matching every filter given, by id (= insertion order), newest first by default.

    ``since`` is inclusive, ``until`` exclusive (aware datetimes or Unix seconds).
    """
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= MAX_EVENTS_PER_QUERY
    ):
        raise StoreError(f"limit must be 1 to {MAX_EVENTS_PER_QUERY}, not {v.show(limit)}")
    for bound, what in ((after_id, "after_id"), (before_id, "before_id")):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int)):
            raise StoreError(f"{what} must be an event id, not {v.show(bound)}")
    where: list[Any] = []
    if after_id is not None:
        where.append(Event.id > after_id)
    if before_id is not None:
        where.append(Event.id < before_id)
    wanted: list[str] = []
    if kinds is not None:
        if isinstance(kinds, str):
            kinds = [kinds]
        wanted = [v.required_text(k, "event kind", max_len=32) for k in kinds]
    if serial is not None:
        where.append(Event.serial == v.required_text(serial, "serial", max_len=64))
    if holder is not None:
        # Part of the name, any case ("ortiz" finds "Officer Ortiz"); % and _ are literal.
        part = v.required_text(holder, "holder", max_len=200)
        where.append(Event.holder.icontains(part, autoescape=True))
    if since is not None:
        where.append(Event.ts_us >= v.instant(since, "since"))
    if until is not None:
        where.append(Event.ts_us < v.instant(until, "until"))
    order = Event.id.desc() if newest_first else Event.id.asc()
    if len(wanted) > 1:
        # One index range per kind, each already in id order and cut at the limit: SQLite would
        # otherwise gather every event of those kinds and sort them (a million rows: slow).
        per_kind = [
            select(Event.id).where(Event.kind == k, *where).order_by(order).limit(limit).subquery()
            for k in dict.fromkeys(wanted)
        ]
        ids = union_all(*(select(sub.c.id) for sub in per_kind))
        stmt = select(Event).where(Event.id.in_(ids))
    else:
        stmt = select(Event).where(*where, *(Event.kind == k for k in wanted))
    stmt = stmt.order_by(order).limit(limit)
    return [event_row(e) for e in s.scalars(stmt)]
