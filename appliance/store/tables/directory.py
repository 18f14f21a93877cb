"""Reads for the admin page's holder and agency views: search with paging, counts, fob choices."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import HolderRow, credential_text, us_to_datetime
from appliance.store.schema.box import Credential, Holder


@dataclass(frozen=True, slots=True)
class AgencyRow:
    """One agency (None: holders with no agency) with its holders and credentials counted."""

    name: str | None
    holders: int
    credentials: int


@dataclass(frozen=True, slots=True)
class FobChoice:
    """A credential as a pick list shows it: card text, holder, serial, status."""

    credential: str
    holder: str
    serial: str | None
    status: str


def _matches(search: object) -> ColumnElement[bool] | None:
    """Name, agency or badge contains the search term (None: no search)."""
    term = v.text(search, "search", max_len=200, required=False)
    if term is None:
        return None
    pattern = v.contains_pattern(term)
    return or_(
        Holder.name.like(pattern, escape="\\"),
        Holder.agency.like(pattern, escape="\\"),
        Holder.badge.like(pattern, escape="\\"),
    )


def _with_counts() -> Select[Holder, int]:
    counts = (
        select(Credential.holder_id, func.count(Credential.id).label("n"))
        .group_by(Credential.holder_id)
        .subquery()
    )
    count: ColumnElement[int] = func.coalesce(counts.c.n, 0)
    return select(Holder, count).outerjoin(counts, counts.c.holder_id == Holder.id)


def _holder_row(h: Holder, n: int) -> HolderRow:
    return HolderRow(
        id=h.id,
        name=h.name,
        agency=h.agency,
        badge=h.badge,
        contact=h.contact,
        notes=h.notes,
        created_at=us_to_datetime(h.created_at),
        credentials=int(n),
    )


def search_holders(
    s: Session, *, search: str | None = None, limit: int = 50, offset: int = 0
) -> list[HolderRow]:
    """Holders whose name, agency or badge contains ``search``, by name, one page."""
    lim, off = v.page(limit, offset)
    stmt = _with_counts()
    where = _matches(search)
    if where is not None:
        stmt = stmt.where(where)
    stmt = stmt.order_by(Holder.name).limit(lim).offset(off)
    return [_holder_row(h, n) for h, n in s.execute(stmt)]


def count_holders(s: Session, *, search: str | None = None) -> int:
    """How many holders search_holders would page through."""
    stmt = select(func.count(Holder.id))
    where = _matches(search)
    if where is not None:
        stmt = stmt.where(where)
    return int(s.execute(stmt).scalar_one())


def all_holders(s: Session) -> list[HolderRow]:
    """Every holder with a count of their credentials, by name."""
    return [_holder_row(h, n) for h, n in s.execute(_with_counts().order_by(Holder.name))]


def get_holder(s: Session, holder_id: int) -> HolderRow | None:
    """One holder by id, with their credential count; None if there is none."""
    if isinstance(holder_id, bool) or not isinstance(holder_id, int):
        raise StoreError(f"holder id must be a whole number, not {v.show(holder_id)}")
    found = s.execute(_with_counts().where(Holder.id == holder_id)).one_or_none()
    return None if found is None else _holder_row(*found)


def list_agencies(s: Session) -> list[AgencyRow]:
    """Every distinct agency with its holder and credential counts, by name (none last)."""
    holders = select(Holder.agency, func.count(Holder.id)).group_by(Holder.agency)
    creds = (
        select(Holder.agency, func.count(Credential.id))
        .join(Credential, Credential.holder_id == Holder.id)
        .group_by(Holder.agency)
    )
    fobs: dict[str | None, int] = {a: int(n) for a, n in s.execute(creds)}
    rows = [
        AgencyRow(name=a, holders=int(n), credentials=fobs.get(a, 0)) for a, n in s.execute(holders)
    ]
    return sorted(rows, key=lambda r: (r.name is None, (r.name or "").lower()))


def fob_choices(s: Session, *, limit: int = 200) -> list[FobChoice]:
    """The first ``limit`` credentials by holder name (then card), for a pick list."""
    lim, _ = v.page(limit, 0)
    stmt = (
        select(
            Credential.format,
            Credential.facility,
            Credential.number,
            Holder.name,
            Credential.serial,
            Credential.status,
        )
        .join(Holder, Credential.holder_id == Holder.id)
        .order_by(Holder.name, Credential.id)
        .limit(lim)
    )
    return [
        FobChoice(credential_text(fmt, fac, num), name, serial, status)
        for fmt, fac, num, name, serial, status in s.execute(stmt)
    ]
