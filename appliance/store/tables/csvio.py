"""CSV import (all rows or none) and export of credentials."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy import Connection, Insert, func, insert, select
from sqlalchemy.orm import Session

from appliance.core.model import Status
from appliance.store import validate as v
from appliance.store.errors import ImportRejected
from appliance.store.fleet import district
from appliance.store.rows import credential_text, opt_us_to_datetime
from appliance.store.schema.box import NO_FACILITY, Credential, Event, Group, Holder
from appliance.store.tables.csvcell import SafeWriter
from appliance.store.tables.csvparse import CARD_COLUMNS, Row, parse, read_text
from appliance.store.tables.events import bump_rev, door_name
from appliance.store.tables.groups import group_ids
from appliance.store.tables.holders import holder_ids

EXPORT_COLUMNS = ("format", "facility", "number", "holder", *CARD_COLUMNS, "issued_at")
_CHUNK = 500  # well under SQLite's bound-parameter limit
T = TypeVar("T")


def _chunks(items: list[T]) -> Iterator[list[T]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def _on_record(why: str, origin: str) -> str:
    """A conflict's reason; one with a district credential says where to change that."""
    return str(district.conflict(why)) if origin == district.DISTRICT else why


def _serial_conflicts(s: Session, rows: list[Row]) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    by_serial: dict[str, list[Row]] = {}
    for r in rows:
        if r.serial is not None:
            by_serial.setdefault(r.serial, []).append(r)
    for chunk in _chunks(list(by_serial)):
        stmt = (
            select(
                Credential.serial,
                Credential.format,
                Credential.facility,
                Credential.number,
                Holder.name,
                Credential.source,
            )
            .join(Holder, Credential.holder_id == Holder.id)
            .where(Credential.serial.in_(chunk))
        )
        for serial, fmt, fac, num, holder, origin in s.execute(stmt):
            if serial is None:
                continue
            owner = f"{credential_text(fmt, fac, num)} (holder {holder!r})"
            for r in by_serial[serial]:
                errors.append(
                    (r.line, _on_record(f"serial {serial!r} is already used by {owner}", origin))
                )
    return errors


def _card_conflicts(s: Session, rows: list[Row]) -> list[tuple[int, str]]:
    errors: list[tuple[int, str]] = []
    # Grouped by (format, facility) so each query walks the unique index.
    by_field: dict[tuple[str, int], dict[int, list[Row]]] = {}
    for r in rows:
        fac = NO_FACILITY if r.card.facility is None else r.card.facility
        by_field.setdefault((r.card.format, fac), {}).setdefault(r.card.number, []).append(r)
    for (fmt, fac), numbers in by_field.items():
        for chunk in _chunks(list(numbers)):
            stmt = (
                select(Credential.number, Holder.name, Credential.status, Credential.source)
                .join(Holder, Credential.holder_id == Holder.id)
                .where(
                    Credential.format == fmt,
                    func.coalesce(Credential.facility, NO_FACILITY) == fac,
                    Credential.number.in_(chunk),
                )
            )
            for num, holder, status, origin in s.execute(stmt):
                for r in numbers[num]:
                    why = f"credential {r.card} is already on record (holder {holder!r}, {status})"
                    errors.append((r.line, _on_record(why, origin)))
    return errors


def db_conflicts(s: Session, rows: list[Row]) -> list[tuple[int, str]]:
    """Rows whose credential or serial is already on record."""
    return _serial_conflicts(s, rows) + _card_conflicts(s, rows)


def _holder_ids(s: Session, now_us: int, rows: list[Row]) -> dict[str, int]:
    """Ids of every holder the rows name, creating the missing ones in bulk."""
    agencies: dict[str, str | None] = {}
    for r in rows:
        agencies.setdefault(r.holder, r.agency)
    return holder_ids(s, now_us, agencies)


def insert_rows(
    s: Session, now_us: int, rows: list[Row], groups: dict[str, int], actor: str
) -> None:
    """Insert validated rows, one event each, in the caller's transaction."""
    holders = _holder_ids(s, now_us, rows)
    rev = bump_rev(s)
    door = door_name(s)
    creds: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for r in rows:
        creds.append(
            {
                "format": r.card.format,
                "facility": r.card.facility,
                "number": r.card.number,
                "serial": r.serial,
                "holder_id": holders[r.holder],
                "group_id": groups[r.group],
                "status": r.status.value,
                "status_reason": r.reason,
                "status_changed_at": now_us,
                "status_changed_by": actor,
                "issued_at": now_us,
                "issued_by": actor,
                "returned_at": now_us if r.status is Status.RETURNED else None,
                "returned_by": actor if r.status is Status.RETURNED else None,
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
                "pin_hash": None,
                "source": "local",
                "rev": rev,
                "created_at": now_us,
            }
        )
        events.append(
            {
                "ts_us": now_us,
                "kind": "admin",
                "reason": r.reason,
                "credential": str(r.card),
                "holder": r.holder,
                "serial": r.serial,
                "door": door,
                "actor": actor,
                "detail": {
                    "action": "import_csv",
                    "line": r.line,
                    "group": r.group,
                    "status": r.status.value,
                },
                "source_key": None,
            }
        )
    conn = s.connection()
    _insert_many(conn, insert(Credential), creds)
    for event in events:
        event["detail"] = json.dumps(event["detail"])  # what the JSON column type would store
    _insert_many(conn, insert(Event), events)


def _insert_many(conn: Connection, stmt: Insert, rows: list[dict[str, Any]]) -> None:
    """executemany of a Core insert with plain tuples: per-row SQLAlchemy processing is skipped."""
    if not rows:
        return
    compiled = stmt.compile(dialect=conn.dialect, column_keys=list(rows[0]))
    order = compiled.positiontup or []
    conn.exec_driver_sql(str(compiled), [tuple(row[k] for k in order) for row in rows])


def import_csv(s: Session, now_us: int, source: Path | str, *, actor: str) -> int:
    """Import credentials from a CSV file (Path) or CSV text (str): all rows or none.

    Every row is validated first; ImportRejected lists (line, reason) for every problem.
    Returns the row count.
    """
    who = v.actor(actor)
    text = read_text(source)
    groups = group_ids(s)
    rows, errors = parse(text, groups)
    if rows:
        errors.extend(db_conflicts(s, rows))
    if errors:
        errors.sort(key=lambda e: e[0])
        raise ImportRejected(errors)
    if rows:
        insert_rows(s, now_us, rows, groups, who)
    return len(rows)


def _iso(us: int | None) -> str:
    when = opt_us_to_datetime(us)
    return "" if when is None else when.isoformat()


def export_csv(s: Session, out: TextIO, *, statuses: Iterable[Status | str] | None = None) -> int:
    """Write every credential (or those in ``statuses``) as CSV that import_csv accepts.

    Open ``out`` with newline=''. Returns the row count.
    Cells a spreadsheet would run as formulas are quoted (csvcell.safe_cell); the import undoes it.
    """
    stmt = (
        select(
            Credential.format,
            Credential.facility,
            Credential.number,
            Holder.name,
            Credential.serial,
            Group.name,
            Holder.agency,
            Credential.status,
            Credential.status_reason,
            Credential.valid_from,
            Credential.valid_until,
            Credential.issued_at,
        )
        .join(Holder, Credential.holder_id == Holder.id)
        .join(Group, Credential.group_id == Group.id)
        .order_by(Credential.id)
    )
    if statuses is not None:
        stmt = stmt.where(Credential.status.in_([v.status(x).value for x in statuses]))
    writer = SafeWriter(out)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for (
        fmt,
        fac,
        num,
        holder,
        serial,
        group,
        agency,
        status,
        reason,
        vf,
        vu,
        issued,
    ) in s.connection().execute(stmt):
        fields = (fmt, fac, num, holder, serial, group, agency, status, reason)
        # Every cell through the one neutraliser: import_csv undoes it exactly (see csvcell).
        writer.writerow((*fields, _iso(vf), _iso(vu), _iso(issued)))
        count += 1
    return count
