"""The district console's tables: the publication log, the boxes it has heard from, events home.

The console's master list is an ordinary Store (credentials, holders, groups); this module
reads it as the fleet messages need it and keeps the console's own state in the meta table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from appliance.core import event_wire
from appliance.district.schema import FleetBox, FleetEvent, FleetPublication
from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import us_to_datetime
from appliance.store.schema.box import Credential, Group, Holder
from appliance.store.store import Store
from appliance.store.tables import groups as g
from appliance.store.tables.events import MAX_EVENTS_PER_QUERY, current_rev
from appliance.store.tables.meta import meta_get, meta_set

VERSION = "fleet.version"
PUBLISHED_REV = "fleet.published_rev"
SNAPSHOT_VERSION = "fleet.snapshot_version"
PRUNED_THROUGH = "fleet.pruned_through"
LOCKDOWN = "fleet.district_lockdown"
GROUPS = "fleet.published_groups"


@dataclass(frozen=True, slots=True)
class Publication:
    """One signed list message in the log."""

    version: int
    kind: str
    topic: str
    payload: bytes
    created_at: datetime
    published_at: datetime | None
    actor: str
    summary: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class BoxRow:
    """A box as the console last heard from it."""

    box_id: str
    school: str | None
    online: bool
    last_seen_at: datetime
    software: str | None
    list_version: int | None
    mode: str | None
    alarms: tuple[str, ...]
    status: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class FleetEventRow(event_wire.EventFields[datetime]):
    """An event shipped home, with the box it came from (``event_wire.DistrictEvent``).

    ``id`` is the console's own; ``box_event_id`` is the box's (the wire form's ``id``).
    """

    box_id: str
    box_event_id: int
    school: str | None


class Staging:
    """Inside one write transaction: read the master list, allocate a version, log a message."""

    def __init__(self, s: Session, now_us: int) -> None:
        self.s = s
        self.now_us = now_us

    def meta_int(self, key: str) -> int:
        """A counter from the meta table (0 if never set)."""
        return int(meta_get(self.s, key) or 0)

    def meta_json(self, key: str) -> Any:
        """A JSON value from the meta table (None if never set)."""
        raw = meta_get(self.s, key)
        return None if raw is None else json.loads(raw)

    def set_meta(self, key: str, value: Any) -> None:
        """Set a meta value: ints as they are, anything else as JSON."""
        meta_set(self.s, key, str(value) if isinstance(value, int) else json.dumps(value))

    def rev(self) -> int:
        """The master list's change counter."""
        return current_rev(self.s)

    def credentials(self, since_rev: int = 0) -> list[dict[str, Any]]:
        """Every credential changed after ``since_rev`` (0: all) as the fleet sends it."""
        stmt = (
            select(
                Credential.format,
                Credential.facility,
                Credential.number,
                Credential.serial,
                Holder.name,
                Holder.agency,
                Holder.badge,
                Group.name,
                Credential.status,
                Credential.status_reason,
                Credential.valid_from,
                Credential.valid_until,
                Credential.pin_hash,
            )
            .join(Holder, Credential.holder_id == Holder.id)
            .join(Group, Credential.group_id == Group.id)
            .order_by(Credential.id)
        )
        if since_rev:
            stmt = stmt.where(Credential.rev > since_rev)
        keys = (
            "format",
            "facility",
            "number",
            "serial",
            "holder",
            "agency",
            "badge",
            "group",
            "status",
            "reason",
            "valid_from_us",
            "valid_until_us",
            "pin_hash",
        )
        return [dict(zip(keys, row, strict=True)) for row in self.s.execute(stmt)]

    def groups(self) -> list[dict[str, Any]]:
        """Every group but the built-in ones (each box has its own), as the fleet sends them."""
        out = []
        for row in g.list_groups(self.s):
            if row.builtin:
                continue
            out.append(
                {
                    "name": row.name,
                    "all_doors": row.all_doors,
                    "doors": list(row.doors),
                    "always": row.always,
                    "schedule": [w.as_json() for w in row.schedule],
                    "holidays": [d.isoformat() for d in row.holidays],
                    "lockdown_immune": row.lockdown_immune,
                    "pin_required": row.pin_required,
                }
            )
        return out

    def log(
        self,
        version: int,
        kind: str,
        topic: str,
        payload: bytes,
        *,
        actor: str,
        summary: Mapping[str, Any],
    ) -> None:
        """Keep a message to publish (its version becomes the district's current one)."""
        if version != self.meta_int(VERSION) + 1:
            raise StoreError(f"version {version} does not follow {self.meta_int(VERSION)}")
        self.s.add(
            FleetPublication(
                version=version,
                kind=kind,
                topic=topic,
                payload=payload,
                created_at=self.now_us,
                published_at=None,
                actor=v.actor(actor),
                summary=dict(summary),
            )
        )
        self.set_meta(VERSION, version)


def _publication(p: FleetPublication) -> Publication:
    return Publication(
        version=p.version,
        kind=p.kind,
        topic=p.topic,
        payload=p.payload,
        created_at=us_to_datetime(p.created_at),
        published_at=None if p.published_at is None else us_to_datetime(p.published_at),
        actor=p.actor,
        summary=p.summary,
    )


class DistrictStore:
    """The console's fleet state on top of its Store; each method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._db = store.db

    @contextmanager
    def stage(self, what: str) -> Iterator[Staging]:
        """A write transaction for building and logging list messages."""
        with self._db.write(what) as s:
            yield Staging(s, self._db.now_us())

    def meta_int(self, key: str) -> int:
        """A counter from the meta table (0 if never set)."""
        with self._db.read("reading the fleet state") as s:
            return int(meta_get(s, key) or 0)

    def meta_json(self, key: str) -> Any:
        """A JSON value from the meta table (None if never set)."""
        with self._db.read("reading the fleet state") as s:
            raw = meta_get(s, key)
            return None if raw is None else json.loads(raw)

    def unpublished(self) -> list[Publication]:
        """Messages logged but not yet acknowledged by the broker, oldest first."""
        with self._db.read("reading unpublished messages") as s:
            stmt = (
                select(FleetPublication)
                .where(FleetPublication.published_at.is_(None))
                .order_by(FleetPublication.version)
            )
            return [_publication(p) for p in s.scalars(stmt)]

    def publications(self, limit: int = 50) -> list[Publication]:
        """The newest messages in the log, newest first."""
        with self._db.read("reading the publication log") as s:
            stmt = select(FleetPublication).order_by(FleetPublication.version.desc()).limit(limit)
            return [_publication(p) for p in s.scalars(stmt)]

    def mark_published(self, version: int) -> None:
        """The broker has acknowledged this message."""
        with self._db.write("recording a publication") as s:
            s.execute(
                update(FleetPublication)
                .where(FleetPublication.version == version)
                .values(published_at=self._db.now_us())
            )

    def set_meta(self, key: str, value: int) -> None:
        """Set a counter in the meta table."""
        with self._db.write("saving the fleet state") as s:
            meta_set(s, key, str(value))

    # -- what boxes send home ---------------------------------------------------------------
    def record_status(self, box_id: str, status: Mapping[str, Any]) -> None:
        """Store a box's latest status (checked by the caller)."""
        with self._db.write("recording a box's status") as s:
            row = s.get(FleetBox, box_id)
            now = self._db.now_us()
            if row is None:
                row = FleetBox(box_id=box_id, online=False, last_seen_at=now, alarms=[], status={})
                s.add(row)
            merged = {**row.status, **status}  # a last will or a rejection says only part
            row.status = merged
            row.online = bool(status.get("online", False))
            row.last_seen_at = now
            row.school = merged.get("school", row.school)
            row.software = merged.get("software", row.software)
            row.list_version = merged.get("list_version", row.list_version)
            row.mode = merged.get("mode", row.mode)
            row.alarms = list(merged.get("alarms") or [])

    def store_events(
        self,
        box_id: str,
        school: str | None,
        events: Sequence[event_wire.WireEvent | Mapping[str, Any]],
    ) -> int:
        """Store a box's events (each checked by ``from_wire``); one already stored is skipped.

        "Already stored": the same box and the same event id of that box.
        """
        if not events:
            return 0
        checked = [_checked(i, e) for i, e in enumerate(events)]
        with self._db.write("storing events from a box") as s:
            now = self._db.now_us()
            rows = [
                {
                    "box_id": box_id,
                    "box_event_id": e.id,
                    "school": school,
                    "ts_us": e.ts_us,
                    **e.body(),
                    "received_at": now,
                }
                for e in checked
            ]
            conn = s.connection()
            before = conn.execute(select(func.total_changes())).scalar_one()
            conn.execute(insert(FleetEvent).prefix_with("OR IGNORE"), rows)
            after = conn.execute(select(func.total_changes())).scalar_one()
            return int(after - before)

    def newest_box_event(self, box_id: str) -> int:
        """The highest event id stored from this box (0: none)."""
        with self._db.read("reading events home") as s:
            stmt = select(func.max(FleetEvent.box_event_id)).where(FleetEvent.box_id == box_id)
            return int(s.scalar(stmt) or 0)

    def boxes(self) -> list[BoxRow]:
        """Every box the console has heard from, by id."""
        with self._db.read("listing boxes") as s:
            return [
                BoxRow(
                    box_id=b.box_id,
                    school=b.school,
                    online=b.online,
                    last_seen_at=us_to_datetime(b.last_seen_at),
                    software=b.software,
                    list_version=b.list_version,
                    mode=b.mode,
                    alarms=tuple(b.alarms),
                    status=b.status,
                )
                for b in s.scalars(select(FleetBox).order_by(FleetBox.box_id))
            ]

    def events(
        self,
        *,
        box: str | None = None,
        school: str | None = None,
        kinds: Sequence[str] | None = None,
        serial: str | None = None,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        limit: int = 100,
        newest_first: bool = True,
    ) -> list[FleetEventRow]:
        """Events home matching every filter given."""
        if isinstance(limit, bool) or not 1 <= limit <= MAX_EVENTS_PER_QUERY:
            raise StoreError(f"limit must be 1 to {MAX_EVENTS_PER_QUERY}, not {v.show(limit)}")
        where: list[Any] = []
        if box is not None:
            where.append(FleetEvent.box_id == v.required_text(box, "box", max_len=64))
        if school is not None:
            where.append(FleetEvent.school == v.required_text(school, "school", max_len=200))
        if kinds:
            where.append(
                FleetEvent.kind.in_([v.required_text(k, "kind", max_len=32) for k in kinds])
            )
        if serial is not None:
            where.append(FleetEvent.serial == v.required_text(serial, "serial", max_len=64))
        if since is not None:
            where.append(FleetEvent.ts_us >= v.instant(since, "since"))
        if until is not None:
            where.append(FleetEvent.ts_us < v.instant(until, "until"))
        order = (
            (FleetEvent.ts_us.desc(), FleetEvent.id.desc())
            if newest_first
            else (
                FleetEvent.ts_us,
                FleetEvent.id,
            )
        )
        with self._db.read("querying events home") as s:
            stmt = select(FleetEvent).where(*where).order_by(*order).limit(limit)
            return [_event_row(e) for e in s.scalars(stmt)]

    def count_events(self, box: str | None = None) -> int:
        """How many events home (from one box, or all)."""
        with self._db.read("counting events home") as s:
            stmt = select(func.count(FleetEvent.id))
            if box is not None:
                stmt = stmt.where(FleetEvent.box_id == box)
            return int(s.execute(stmt).scalar_one())


def _checked(index: int, event: event_wire.WireEvent | Mapping[str, Any]) -> event_wire.WireEvent:
    if isinstance(event, event_wire.WireEvent):
        return event
    try:
        return event_wire.from_wire(dict(event))
    except event_wire.WireError as err:
        raise StoreError(f"event {index + 1}: {err}") from None


def _event_row(e: FleetEvent) -> FleetEventRow:
    return FleetEventRow(
        id=e.id,
        box_id=e.box_id,
        box_event_id=e.box_event_id,
        school=e.school,
        ts=us_to_datetime(e.ts_us),
        **{k: getattr(e, k) for k in event_wire.BODY_KEYS},
    )
