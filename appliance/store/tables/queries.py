"""Reads: credential lists for people, and the bulk card snapshot for the controller."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVarTuple

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from appliance.core.model import CardEntry, Status, card_key
from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import (
    CredentialRow,
    credential_text,
    opt_us_to_datetime,
    us_to_datetime,
)
from appliance.store.schema.box import NO_FACILITY, Credential, Group, Holder
from appliance.store.tables.cards import CardSelector, select_one
from appliance.wiegand.formats import WiegandError, parse_credential

Ts = TypeVarTuple("Ts")
_STATUS = {s.value: s for s in Status}


def _row(cred: Credential, holder: str, agency: str | None, group: str) -> CredentialRow:
    return CredentialRow(
        id=cred.id,
        credential=credential_text(cred.format, cred.facility, cred.number),
        format=cred.format,
        facility=cred.facility,
        number=cred.number,
        holder=holder,
        agency=agency,
        serial=cred.serial,
        group=group,
        status=_STATUS[cred.status],
        status_reason=cred.status_reason,
        status_changed_at=us_to_datetime(cred.status_changed_at),
        status_changed_by=cred.status_changed_by,
        issued_at=us_to_datetime(cred.issued_at),
        issued_by=cred.issued_by,
        returned_at=opt_us_to_datetime(cred.returned_at),
        returned_by=cred.returned_by,
        valid_from=opt_us_to_datetime(cred.valid_from),
        valid_until=opt_us_to_datetime(cred.valid_until),
        has_pin=cred.pin_hash is not None,
        source=cred.source,
        rev=cred.rev,
        created_at=us_to_datetime(cred.created_at),
    )


def _joined() -> Select[Credential, str, str | None, str]:
    return (
        select(Credential, Holder.name, Holder.agency, Group.name)
        .join(Holder, Credential.holder_id == Holder.id)
        .join(Group, Credential.group_id == Group.id)
    )


def _filtered(stmt: Select[*Ts], status: object, holder: object, search: object) -> Select[*Ts]:
    if status is not None:
        stmt = stmt.where(Credential.status == v.status(status).value)
    if holder is not None:
        stmt = stmt.where(Holder.name == v.required_text(holder, "holder", max_len=200))
    if search is not None:
        term = v.text(search, "search", max_len=200, required=False)
        if term is not None:
            # SQLite's LIKE ignores case for ASCII on its own; ilike's lower() on three columns
            # of every row doubles the time of a search over 100,000 fobs.
            pattern = v.contains_pattern(term)
            matches: list[ColumnElement[bool]] = [
                Holder.name.like(pattern, escape="\\"),
                Holder.agency.like(pattern, escape="\\"),
                Credential.serial.like(pattern, escape="\\"),
            ]
            if term.isascii() and term.isdigit() and len(term) <= 19:
                matches.append(Credential.number == int(term))
            try:
                card = parse_credential(term)
            except WiegandError:
                pass
            else:
                fac = NO_FACILITY if card.facility is None else card.facility
                matches.append(
                    (Credential.format == card.format)
                    & (func.coalesce(Credential.facility, NO_FACILITY) == fac)
                    & (Credential.number == card.number)
                )
            stmt = stmt.where(or_(*matches))
    return stmt


def list_credentials(
    s: Session,
    *,
    status: Status | str | None = None,
    holder: str | None = None,
    search: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[CredentialRow]:
    """Credentials matching every filter, newest first; search matches names, serials, cards."""
    lim, off = v.page(limit, offset)
    stmt = _filtered(_joined(), status, holder, search)
    stmt = stmt.order_by(Credential.id.desc()).limit(lim).offset(off)
    return [_row(cred, name, agency, group) for cred, name, agency, group in s.execute(stmt)]


def count_credentials(
    s: Session,
    *,
    status: Status | str | None = None,
    holder: str | None = None,
    search: str | None = None,
) -> int:
    """How many credentials list_credentials would page through."""
    base = (
        select(func.count(Credential.id))
        .select_from(Credential)
        .join(Holder, Credential.holder_id == Holder.id)
    )
    return int(s.execute(_filtered(base, status, holder, search)).scalar_one())


def credential_row(s: Session, cred_id: int) -> CredentialRow:
    """The row for one credential id (which must exist)."""
    cred, holder, agency, group = s.execute(_joined().where(Credential.id == cred_id)).one()
    return _row(cred, holder, agency, group)


def get_credential(
    s: Session, *, serial: str | None = None, credential: CardSelector | None = None
) -> CredentialRow | None:
    """One credential by serial or (format, facility, number); None if not on record."""
    try:
        cred = select_one(s, serial, credential)
    except StoreError as err:
        if str(err).startswith("no credential"):
            return None
        raise
    return credential_row(s, cred.id)


def card_details(s: Session, card_id: int) -> tuple[str | None, str | None]:
    """(holder name, serial) of a credential id, or (None, None) if there is none."""
    row = s.execute(
        select(Holder.name, Credential.serial)
        .join(Holder, Credential.holder_id == Holder.id)
        .where(Credential.id == card_id)
    ).one_or_none()
    return (None, None) if row is None else (row[0], row[1])


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while millions of tuples are built: it would rescan them repeatedly."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_cards(s: Session, since_rev: int) -> list[tuple[int, CardEntry]]:
    """(card_key, CardEntry) for every credential stamped after ``since_rev``, in any status."""
    if isinstance(since_rev, bool) or not isinstance(since_rev, int) or since_rev < 0:
        raise StoreError(f"since_rev must be a rev (0 or more), not {v.show(since_rev)}")
    stmt = select(
        Credential.id,
        Credential.format,
        Credential.facility,
        Credential.number,
        Credential.status,
        Credential.group_id,
        Credential.valid_from,
        Credential.valid_until,
        Credential.pin_hash,
    )
    if since_rev:
        stmt = stmt.where(Credential.rev > since_rev)
    conn = s.connection()
    compiled = stmt.compile(dialect=conn.dialect)
    params = [compiled.params[k] for k in compiled.positiontup or ()]
    # The Core select runs on the driver's own cursor, in this transaction: plain tuples, no
    # per-row Row objects. 2,000,000 credentials must load in a few seconds.
    driver = conn.connection.driver_connection
    if driver is None:
        raise StoreError("loading cards: the database connection was closed")
    cursor = driver.execute(str(compiled), params)
    status, key, new, entry = _STATUS, card_key, tuple.__new__, CardEntry
    out: list[tuple[int, CardEntry]] = []
    with _gc_paused():
        while rows := cursor.fetchmany(20_000):
            # tuple.__new__ skips NamedTuple's Python-level __new__ (a third of the time).
            out.extend(
                (
                    key(fmt, fac, num),
                    new(
                        entry,
                        (
                            cid,
                            status[st],
                            gid,
                            None if vf is None else vf / 1e6,
                            None if vu is None else vu / 1e6,
                            ph,
                        ),
                    ),
                )
                for cid, fmt, fac, num, st, gid, vf, vu, ph in rows
            )
    return out
