"""Fob accountability reports: issued and never used, not seen for N days, lost or stolen and tried.

Each credential's events are reached through ix_events_credential (credential, kind, ts_us): the
correlated subqueries below are index seeks, so a page costs ~100 seeks, not a log scan.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, exists, func, literal_column, select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import credential_text, opt_us_to_datetime, us_to_datetime
from appliance.store.schema.box import Credential, Event, Group, Holder
from appliance.store.tables.accountability import (
    MAX_DAYS,
    PRESENTED,
    FobReportRow,
    check_cursor,
    check_limit,
)

REPORTS = ("never_used", "not_seen", "lost")
_DAY_US = 86_400 * 1_000_000

# The text form events carry (rows.credential_text, in SQL): FORMAT:FAC:NUM or FORMAT:NUM.
_CARD_TEXT: ColumnElement[str] = literal_column(
    "credentials.format || ':' || CASE WHEN credentials.facility IS NULL THEN '' "
    "ELSE credentials.facility || ':' END || credentials.number",
    String(),
)


def _events_of(kind: str, *more: ColumnElement[bool]) -> ColumnElement[bool]:
    return and_(Event.credential == _CARD_TEXT, Event.kind == kind, *more)


def _last(kind: str) -> Any:
    # One kind per subquery: SQLite's min/max optimisation then reads one index entry.
    return select(func.max(Event.ts_us)).where(_events_of(kind)).scalar_subquery()


def _count_since(kind: str) -> Any:
    since = Event.ts_us >= Credential.status_changed_at
    return select(func.count()).select_from(Event).where(_events_of(kind, since)).scalar_subquery()


def _base(lost: bool) -> Select[Any]:
    cols: list[Any] = [Credential, Holder.name, Holder.agency, Group.name]
    cols += [_last("granted"), _last("denied")]
    cols += [_count_since("denied"), _count_since("granted")] if lost else []
    return (
        select(*cols)
        .join(Holder, Credential.holder_id == Holder.id)
        .join(Group, Credential.group_id == Group.id)
    )


def cutoff_us(now_us: int, days: object) -> int:
    """The instant ``days`` whole days before now (days 1 to MAX_DAYS)."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise StoreError(f"days must be a whole number from 1 to {MAX_DAYS}, not {v.show(days)}")
    return now_us - days * _DAY_US


def _where(report: object, now_us: int, days: object) -> list[ColumnElement[bool]]:
    if report == "never_used":
        used = exists().where(_events_of("granted", Event.ts_us >= Credential.issued_at))
        return [Credential.status == "issued", ~used]
    if report == "not_seen":
        cutoff = cutoff_us(now_us, days)
        seen = exists().where(
            Event.credential == _CARD_TEXT,
            Event.kind.in_(PRESENTED),
            Event.ts_us >= cutoff,
        )
        return [Credential.status == "issued", Credential.issued_at < cutoff, ~seen]
    if report == "lost":
        return [Credential.status.in_(("lost", "stolen"))]
    raise StoreError(f"report must be one of {', '.join(REPORTS)}, not {v.show(report)}")


def fob_report(
    s: Session,
    now_us: int,
    report: str,
    *,
    days: int | None = None,
    limit: int = 100,
    after_id: int | None = None,
) -> list[FobReportRow]:
    """One page of a report (never_used, not_seen ``days``, lost), by credential id ascending.

    Keyset paging with ``after_id``.
    """
    lim = check_limit(limit)
    after = check_cursor(after_id, "after_id")
    conditions = _where(report, now_us, days)
    stmt = _base(report == "lost").where(*conditions)
    if after is not None:
        stmt = stmt.where(Credential.id > after)
    rows = []
    for row in s.execute(stmt.order_by(Credential.id).limit(lim)):
        cred, holder, agency, group, last_granted, last_denied = row[:6]
        denied_since, granted_since = row[6:8] if len(row) > 6 else (0, 0)
        rows.append(
            FobReportRow(
                id=cred.id,
                credential=credential_text(cred.format, cred.facility, cred.number),
                serial=cred.serial,
                holder=holder,
                agency=agency,
                group=group,
                status=cred.status,
                status_reason=cred.status_reason,
                status_changed_at=us_to_datetime(cred.status_changed_at),
                status_changed_by=cred.status_changed_by,
                issued_at=us_to_datetime(cred.issued_at),
                last_granted=opt_us_to_datetime(last_granted),
                last_denied=opt_us_to_datetime(last_denied),
                denied_since=int(denied_since),
                granted_since=int(granted_since),
            )
        )
    return rows


def count_report(s: Session, now_us: int, report: str, *, days: int | None = None) -> int:
    """How many credentials the report holds in all."""
    stmt = select(func.count(Credential.id)).where(*_where(report, now_us, days))
    return int(s.execute(stmt).scalar_one())
