"""The district's fob register: agencies, their officers, and every fob's chain of custody.

Each operation is one transaction on the console's Store that records the custody row and
changes the credential through the store's session-level functions (so ``rev`` and the audit
log are kept); the caller then stages and publishes the change to every box, as the card
commands do. A fob in stock is held by its agency's property room (a holder of its own, never an
officer); a fob that leaves the register's hands (lost, stolen, revoked, destroyed) stops working.

The chain of custody is append-only (triggers refuse UPDATE and DELETE) and each row's SHA-256
digest covers its fields and the fob's previous digest, so ``history`` says whether it is intact.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appliance.core.model import Status
from appliance.district.schema import (
    AGENCY_KINDS,
    OFFICER_STATUSES,
    DistrictAgency,
    DistrictCustody,
    DistrictOfficer,
)
from appliance.store import validate as v
from appliance.store.errors import ImportRejected, StoreError
from appliance.store.rows import credential_text, us_to_datetime
from appliance.store.schema.box import Credential, Group, Holder
from appliance.store.store import Store
from appliance.store.tables import cards as c
from appliance.store.tables import csvparse
from appliance.store.tables.csvcell import SafeWriter, restore_cell
from appliance.store.tables.events import bump_rev, log_change
from appliance.store.tables.holders import (
    add_holder,
    find_holder,
    get_or_create_holder,
    holder_name,
)
from appliance.wiegand.formats import WiegandError, canonical_format

AGENCY_MAX = 150  # leaves room for " property room" in a holder's name (200)
BADGE_MAX = 64
WITNESS_MAX = 200
RESPONDERS = "responders"
PROPERTY_ROOM = " property room"
IMPORT_COLUMNS = ("format", "facility", "number", "serial", "agency", "group")
EXPORT_COLUMNS = (
    "format",
    "facility",
    "number",
    "serial",
    "agency",
    "group",
    "status",
    "custodian",
    "badge",
    "since",
)
HOLDING = (Status.ISSUED.value, Status.REVOKED.value)  # an officer may hold a revoked fob


@dataclass(frozen=True, slots=True)
class AgencyRow:
    name: str
    kind: str
    officers: int
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class OfficerRow:
    name: str
    agency: str
    badge: str
    status: str
    fobs: int  # fobs they hold that open doors
    status_changed_at: datetime
    status_reason: str | None


@dataclass(frozen=True, slots=True)
class FobRow:
    serial: str
    credential: str
    agency: str | None
    group: str | None
    status: str
    custodian: str | None  # None: the property room
    badge: str | None
    since: datetime  # the last custody change
    destroyed: bool


@dataclass(frozen=True, slots=True)
class CustodyRow:
    at: datetime
    action: str
    before: str | None
    after: str | None
    acknowledgement: str | None
    actor: str
    reason: str | None
    witness: str | None
    digest: str
    intact: bool  # this row's digest and its link to the previous row both check out


@dataclass(frozen=True, slots=True)
class History:
    serial: str
    credential: str
    rows: tuple[CustodyRow, ...]
    tail_matches: bool  # the last link's custodian is the fob's holder now (no tail cut off)

    @property
    def intact(self) -> bool:
        return self.tail_matches and all(r.intact for r in self.rows)


def digest(fields: Mapping[str, Any], prev: str) -> str:
    """SHA-256 over a custody row's fields and the fob's previous digest."""
    body = json.dumps({**fields, "prev_digest": prev}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


_DIGESTED = (
    "credential_id",
    "serial",
    "action",
    "custodian_before",
    "custodian_after",
    "acknowledgement",
    "at",
    "actor",
    "reason",
    "witness",
)


def _reason(value: object) -> str | None:
    return v.text(value, "reason", max_len=c.REASON_MAX, required=False, multiline=True)


def _witness(value: object) -> str | None:
    return v.text(value, "witness", max_len=WITNESS_MAX, required=False)


def agency_name(value: object) -> str:
    return v.required_text(value, "agency", max_len=AGENCY_MAX)


class Register:
    """The fob register over the district console's Store; each method is one transaction."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._db = store.db

    @contextmanager
    def _write(self, what: str) -> Iterator[tuple[Session, int]]:
        with self._db.write(what) as s:
            yield s, self._db.now_us()

    # -- agencies -----------------------------------------------------------------------------
    def add_agency(self, name: str, kind: str, *, actor: str) -> AgencyRow:
        """Add an agency (police, sheriff, fire, ems, other); a name on record is refused."""
        who = v.actor(actor)
        clean = agency_name(name)
        if kind not in AGENCY_KINDS:
            raise StoreError(f"agency kind {v.show(kind)} is not one of {', '.join(AGENCY_KINDS)}")
        with self._write("adding an agency") as (s, now):
            if _agency(s, clean) is not None:
                raise StoreError(f"agency {clean!r} is already on record")
            s.add(DistrictAgency(name=clean, kind=kind, created_at=now, created_by=who))
            s.flush()
            log_change(
                s, now, actor=who, action="add_agency", detail={"agency": clean, "kind": kind}
            )
            return AgencyRow(clean, kind, 0, us_to_datetime(now), who)

    def agencies(self) -> list[AgencyRow]:
        """Every agency, by name, with how many officers it has."""
        with self._db.read("listing agencies") as s:
            count = (
                select(func.count(DistrictOfficer.id))
                .where(DistrictOfficer.agency_id == DistrictAgency.id)
                .scalar_subquery()
            )
            stmt = select(DistrictAgency, count).order_by(DistrictAgency.name)
            return [
                AgencyRow(a.name, a.kind, n, us_to_datetime(a.created_at), a.created_by)
                for a, n in s.execute(stmt)
            ]

    # -- officers -----------------------------------------------------------------------------
    def add_officer(
        self, name: str, *, agency: str, badge: str, actor: str, contact: str | None = None
    ) -> OfficerRow:
        """Add an officer of an agency: a new holder of the master list, active."""
        who = v.actor(actor)
        clean = holder_name(name)
        badge_no = v.required_text(badge, "badge", max_len=BADGE_MAX)
        with self._write("adding an officer") as (s, now):
            found = _known_agency(s, agency_name(agency))
            taken = s.scalar(
                select(Holder.name)
                .join(DistrictOfficer, DistrictOfficer.holder_id == Holder.id)
                .where(DistrictOfficer.agency_id == found.id, DistrictOfficer.badge == badge_no)
            )
            if taken is not None:
                raise StoreError(f"badge {badge_no!r} of {found.name} is already used by {taken!r}")
            holder_id = add_holder(
                s, now, clean, agency=found.name, badge=badge_no, contact=contact, actor=who
            )
            officer = DistrictOfficer(
                holder_id=holder_id,
                agency_id=found.id,
                badge=badge_no,
                status="active",
                status_changed_at=now,
                status_changed_by=who,
                status_reason=None,
            )
            s.add(officer)
            s.flush()
            return _officer_row(s, officer)

    def officers(
        self, *, agency: str | None = None, status: str | None = None, search: str | None = None
    ) -> list[OfficerRow]:
        """Officers by name, filtered by agency, status, or a part of the name or badge."""
        where: list[Any] = []
        with self._db.read("listing officers") as s:
            if agency is not None:
                where.append(DistrictOfficer.agency_id == _known_agency(s, agency_name(agency)).id)
            if status is not None:
                where.append(DistrictOfficer.status == _officer_status(status))
            if search is not None:
                term = v.contains_pattern(v.required_text(search, "search", max_len=200))
                where.append(
                    Holder.name.ilike(term, escape="\\")
                    | DistrictOfficer.badge.ilike(term, escape="\\")
                )
            stmt = (
                select(DistrictOfficer)
                .join(Holder, DistrictOfficer.holder_id == Holder.id)
                .where(*where)
                .order_by(Holder.name)
            )
            return [_officer_row(s, o) for o in s.scalars(stmt)]

    def set_officer_status(
        self, name: str, status: str, *, reason: str | None = None, actor: str
    ) -> OfficerRow:
        """Mark an officer active or on leave (separating one is ``separate``)."""
        who = v.actor(actor)
        new = _officer_status(status)
        if new == "separated":
            raise StoreError("an officer is separated with 'separate': it revokes their fobs")
        why = _reason(reason)
        with self._write("changing an officer's status") as (s, now):
            officer = _officer(s, name)
            _status(s, now, officer, new, why, who)
            return _officer_row(s, officer)

    def separate(self, name: str, *, reason: str | None = None, actor: str) -> int:
        """Mark an officer separated and revoke every working fob they hold; how many."""
        who = v.actor(actor)
        why = _reason(reason) or "officer separated"
        with self._write("separating an officer") as (s, now):
            officer = _officer(s, name)
            if officer.status == "separated":
                raise StoreError(f"officer {_name(s, officer)!r} is already separated")
            _status(s, now, officer, "separated", why, who)
            held = s.scalars(
                select(Credential)
                .where(
                    Credential.holder_id == officer.holder_id,
                    Credential.status == Status.ISSUED.value,
                )
                .order_by(Credential.id)
            ).all()
            for cred in held:
                c.set_status(
                    s, now, credential=_selector(cred), status=Status.REVOKED, reason=why, actor=who
                )
                if _last(s, cred) is not None:  # a fob of the register: the chain says so
                    _append(s, now, cred, "revoked", officer.id, officer.id, actor=who, reason=why)
            return len(held)

    # -- fobs ---------------------------------------------------------------------------------
    def register_fob(
        self,
        fmt: str,
        facility: int | None,
        number: int,
        *,
        serial: str,
        agency: str,
        group: str = RESPONDERS,
        actor: str,
        reason: str | None = None,
    ) -> FobRow:
        """Put a new fob into an agency's property room (in stock: it opens nothing)."""
        who = v.actor(actor)
        with self._write("registering a fob") as (s, now):
            cred = _register(s, now, fmt, facility, number, serial, agency, group, who, reason)
            return _fob_row(s, cred)

    def issue(
        self,
        serial: str,
        officer: str,
        *,
        acknowledgement: str,
        actor: str,
        reason: str | None = None,
        witness: str | None = None,
        reassign: bool = False,
    ) -> FobRow:
        """Issue a fob in stock (or ``reassign`` an issued one) to an active officer of its
        agency, who types their name to acknowledge it."""
        return self._hand_over(
            serial, officer, acknowledgement, actor, reason, witness, reassign=reassign
        )

    def reassign(self, serial: str, officer: str, **kwargs: Any) -> FobRow:
        """Hand an issued fob to another active officer of its agency, as ``issue`` does."""
        return self.issue(serial, officer, reassign=True, **kwargs)

    def _hand_over(
        self,
        serial: str,
        officer: str,
        acknowledgement: str,
        actor: str,
        reason: str | None,
        witness: str | None,
        *,
        reassign: bool,
    ) -> FobRow:
        who = v.actor(actor)
        why, seen_by = _reason(reason), _witness(witness)
        typed = v.required_text(acknowledgement, "acknowledgement", max_len=200)
        with self._write("handing a fob over") as (s, now):
            cred = _fob(s, serial)
            to = _officer(s, officer)
            to_name = _name(s, to)
            current = _custodian(s, cred)
            if reassign:
                if cred.status != Status.ISSUED.value or current is None:
                    raise StoreError(
                        f"fob {cred.serial!r} is {_where(s, cred)}: only an issued "
                        "fob is reassigned (issue one in stock)"
                    )
                if current.id == to.id:
                    raise StoreError(f"fob {cred.serial!r} is already held by {to_name!r}")
            elif cred.status != Status.RETURNED.value or current is not None:
                raise StoreError(
                    f"fob {cred.serial!r} is {_where(s, cred)}: only a fob in the "
                    "property room is issued (reassign or return it)"
                )
            if to.status != "active":
                raise StoreError(
                    f"officer {to_name!r} is {to.status.replace('_', ' ')}: "
                    "fobs are issued only to active officers"
                )
            fob_agency = _fob_agency(s, cred)
            to_agency = s.get(DistrictAgency, to.agency_id)
            assert to_agency is not None
            if fob_agency != to_agency.name:
                raise StoreError(
                    f"fob {cred.serial!r} belongs to {fob_agency}; officer "
                    f"{to_name!r} is of {to_agency.name}"
                )
            if typed.casefold() != to_name.casefold():
                raise StoreError(
                    f"the acknowledgement must be the officer's name typed exactly "
                    f"({to_name!r}), not {typed!r}"
                )
            c.update_credential(s, now, credential=_selector(cred), holder=to_name, actor=who)
            if not reassign:
                c.set_status(
                    s, now, credential=_selector(cred), status=Status.ISSUED, reason=why, actor=who
                )
            link = "reassigned" if reassign else "issued"
            before = None if current is None else current.id
            _append(
                s,
                now,
                cred,
                link,
                before,
                to.id,
                actor=who,
                ack=typed,
                reason=why,
                witness=seen_by,
            )
            return _fob_row(s, cred)

    def return_fob(
        self, serial: str, *, actor: str, reason: str | None = None, witness: str | None = None
    ) -> FobRow:
        """An officer hands a fob back to the property room (it stops working)."""
        return self._to_stock(serial, "returned", actor, reason, witness)

    def found(
        self, serial: str, *, actor: str, reason: str | None = None, witness: str | None = None
    ) -> FobRow:
        """A lost or stolen fob is back: into the property room's stock."""
        return self._to_stock(serial, "found", actor, reason, witness)

    def _to_stock(
        self, serial: str, action: str, actor: str, reason: str | None, witness: str | None
    ) -> FobRow:
        """Into the property room: returned, found (in stock again) or destroyed (for good)."""
        who = v.actor(actor)
        why, seen_by = _reason(reason), _witness(witness)
        with self._write(f"recording a fob {action}") as (s, now):
            cred = _fob(s, serial)
            current = _custodian(s, cred)
            if action == "returned" and (cred.status not in HOLDING or current is None):
                raise StoreError(
                    f"fob {cred.serial!r} is {_where(s, cred)}: only a fob an "
                    "officer holds is returned ('found' for a lost one)"
                )
            if action == "found" and cred.status not in (Status.LOST.value, Status.STOLEN.value):
                raise StoreError(
                    f"fob {cred.serial!r} is {_where(s, cred)}: only a lost or stolen fob is found"
                )
            _to_property_room(s, now, cred, who)
            status = Status.REVOKED if action == "destroyed" else Status.RETURNED
            c.set_status(s, now, credential=_selector(cred), status=status, reason=why, actor=who)
            before = None if current is None else current.id
            _append(s, now, cred, action, before, None, actor=who, reason=why, witness=seen_by)
            return _fob_row(s, cred)

    def lost(self, serial: str, *, actor: str, reason: str | None = None) -> FobRow:
        """Report a fob lost: it is refused at every box once published."""
        return self._gone(serial, Status.LOST, actor, reason)

    def stolen(self, serial: str, *, actor: str, reason: str | None = None) -> FobRow:
        """Report a fob stolen: it is refused at every box once published."""
        return self._gone(serial, Status.STOLEN, actor, reason)

    def _gone(self, serial: str, status: Status, actor: str, reason: str | None) -> FobRow:
        who = v.actor(actor)
        why = _reason(reason)
        with self._write(f"reporting a fob {status.value}") as (s, now):
            cred = _fob(s, serial)
            if cred.status in (Status.LOST.value, Status.STOLEN.value):
                raise StoreError(f"fob {cred.serial!r} is already reported {cred.status}")
            current = _custodian(s, cred)
            c.set_status(s, now, credential=_selector(cred), status=status, reason=why, actor=who)
            held = None if current is None else current.id
            _append(s, now, cred, status.value, held, held, actor=who, reason=why)
            return _fob_row(s, cred)

    def destroy(
        self, serial: str, *, actor: str, reason: str | None = None, witness: str | None = None
    ) -> FobRow:
        """Destroy a fob: revoked for good, never issued again."""
        return self._to_stock(serial, "destroyed", actor, reason, witness)

    def history(self, serial: str) -> History:
        """A fob's chain of custody, oldest first, each row checked against its digest."""
        with self._db.read("reading a fob's history") as s:
            cred = _fob(s, serial, allow_destroyed=True)
            rows: list[CustodyRow] = []
            prev = ""
            for r in s.scalars(
                select(DistrictCustody)
                .where(DistrictCustody.credential_id == cred.id)
                .order_by(DistrictCustody.id)
            ):
                fields = {k: getattr(r, k) for k in _DIGESTED}
                ok = r.prev_digest == prev and r.digest == digest(fields, r.prev_digest)
                prev = r.digest
                rows.append(
                    CustodyRow(
                        at=us_to_datetime(r.at),
                        action=r.action,
                        before=_officer_name(s, r.custodian_before),
                        after=_officer_name(s, r.custodian_after),
                        acknowledgement=r.acknowledgement,
                        actor=r.actor,
                        reason=r.reason,
                        witness=r.witness,
                        digest=r.digest,
                        intact=ok,
                    )
                )
            text = credential_text(cred.format, cred.facility, cred.number)
            held = _custodian(s, cred)
            last = _last(s, cred)
            tail = last is not None and last.custodian_after == (None if held is None else held.id)
            return History(cred.serial or "", text, tuple(rows), tail)

    def fobs(
        self,
        *,
        serial: str | None = None,
        officer: str | None = None,
        agency: str | None = None,
        status: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[FobRow]:
        """Fobs of the register by serial, filtered by a part of the serial, the officer who
        holds them, their agency and their status."""
        count, skip = v.page(limit, offset)
        with self._db.read("listing fobs") as s:
            registered = select(DistrictCustody.credential_id).distinct()
            where: list[Any] = [Credential.id.in_(registered)]
            if serial is not None:
                term = v.contains_pattern(v.required_text(serial, "serial", max_len=c.SERIAL_MAX))
                where.append(Credential.serial.ilike(term, escape="\\"))
            if officer is not None:
                where.append(Credential.holder_id == _officer(s, officer).holder_id)
            if agency is not None:
                where.append(Holder.agency == _known_agency(s, agency_name(agency)).name)
            if status is not None:
                where.append(Credential.status == v.status(status).value)
            stmt = (
                select(Credential)
                .join(Holder, Credential.holder_id == Holder.id)
                .where(*where)
                .order_by(Credential.serial)
                .limit(count)
                .offset(skip)
            )
            return [_fob_row(s, cred) for cred in s.scalars(stmt)]

    # -- CSV ----------------------------------------------------------------------------------
    def import_csv(self, source: Path | str, *, actor: str) -> int:
        """Register every fob of a CSV file (format, facility, number, serial, agency[, group]),
        or none: ImportRejected names every bad row by line."""
        who = v.actor(actor)
        errors: list[tuple[int, str]] = []
        rows = _parse_fobs(csvparse.read_text(source), errors)
        if errors:
            raise ImportRejected(errors)
        with self._write("importing fobs") as (s, now):
            for line, f in rows:
                try:
                    _register(
                        s, now, f["format"], f["facility"], f["number"], f["serial"],
                        f["agency"], f["group"] or RESPONDERS, who, "imported",
                    )  # fmt: skip
                except (StoreError, WiegandError) as err:
                    errors.append((line, str(err)))
            if errors:
                raise ImportRejected(errors)  # rolls the whole import back
        return len(rows)

    def export_csv(self, out: TextIO) -> int:
        """Every fob of the register as CSV (CSV-injection safe); how many rows."""
        writer = SafeWriter(out)
        writer.writerow(EXPORT_COLUMNS)
        n = 0
        offset = 0
        while True:
            page = self.fobs(limit=1000, offset=offset)
            if not page:
                return n
            with self._db.read("exporting fobs") as s:
                for row in page:
                    cred = _fob(s, row.serial, allow_destroyed=True)
                    writer.writerow(
                        (
                            cred.format,
                            cred.facility,
                            cred.number,
                            row.serial,
                            row.agency,
                            row.group,
                            "destroyed" if row.destroyed else row.status,
                            row.custodian,
                            row.badge,
                            row.since.isoformat(),
                        )
                    )
                    n += 1
            offset += len(page)


# -- inside a transaction ---------------------------------------------------------------------


def _agency(s: Session, name: str) -> DistrictAgency | None:
    return s.scalar(select(DistrictAgency).where(func.lower(DistrictAgency.name) == name.lower()))


def _known_agency(s: Session, name: str) -> DistrictAgency:
    found = _agency(s, name)
    if found is None:
        raise StoreError(f"no agency named {name!r} (add it with 'agency add')")
    return found


def _officer_status(value: object) -> str:
    if value not in OFFICER_STATUSES:
        raise StoreError(f"status {v.show(value)} is not one of {', '.join(OFFICER_STATUSES)}")
    return str(value)


def _officer(s: Session, name: str) -> DistrictOfficer:
    clean = holder_name(name)
    person = find_holder(s, clean)
    officer = None
    if person is not None:
        officer = s.scalar(select(DistrictOfficer).where(DistrictOfficer.holder_id == person.id))
    if officer is None:
        raise StoreError(f"no officer named {clean!r} (add them with 'officer add')")
    return officer


def _name(s: Session, officer: DistrictOfficer) -> str:
    person = s.get(Holder, officer.holder_id)
    assert person is not None
    return person.name


def _officer_name(s: Session, officer_id: int | None) -> str | None:
    if officer_id is None:
        return None
    officer = s.get(DistrictOfficer, officer_id)
    return None if officer is None else _name(s, officer)


def _officer_row(s: Session, o: DistrictOfficer) -> OfficerRow:
    agency = s.get(DistrictAgency, o.agency_id)
    assert agency is not None
    fobs = s.scalar(
        select(func.count(Credential.id)).where(
            Credential.holder_id == o.holder_id, Credential.status == Status.ISSUED.value
        )
    )
    return OfficerRow(
        _name(s, o),
        agency.name,
        o.badge,
        o.status,
        int(fobs or 0),
        us_to_datetime(o.status_changed_at),
        o.status_reason,
    )


def _status(
    s: Session, now: int, officer: DistrictOfficer, new: str, why: str | None, who: str
) -> None:
    was = officer.status
    officer.status, officer.status_reason = new, why
    officer.status_changed_at, officer.status_changed_by = now, who
    s.flush()
    bump_rev(s)
    log_change(
        s,
        now,
        actor=who,
        action="officer_status",
        reason=why,
        holder=_name(s, officer),
        detail={"status": new, "was": was},
    )


def _selector(cred: Credential) -> c.CardSelector:
    return (cred.format, cred.facility, cred.number)


def _last(s: Session, cred: Credential) -> DistrictCustody | None:
    return s.scalar(
        select(DistrictCustody)
        .where(DistrictCustody.credential_id == cred.id)
        .order_by(DistrictCustody.id.desc())
        .limit(1)
    )


def _fob(s: Session, serial: object, *, allow_destroyed: bool = False) -> Credential:
    clean = c.serial_text(serial)
    if clean is None:
        raise StoreError("serial must not be empty")
    cred = c.find_by_serial(s, clean)
    last = None if cred is None else _last(s, cred)
    if cred is None or last is None:
        raise StoreError(f"no fob with serial {clean!r} in the register")
    if last.action == "destroyed" and not allow_destroyed:
        when = us_to_datetime(last.at).date().isoformat()
        raise StoreError(f"fob {clean!r} was destroyed on {when}: it is never used again")
    return cred


def _custodian(s: Session, cred: Credential) -> DistrictOfficer | None:
    """The officer who holds the fob, or None: the property room."""
    return s.scalar(select(DistrictOfficer).where(DistrictOfficer.holder_id == cred.holder_id))


def _where(s: Session, cred: Credential) -> str:
    held = _custodian(s, cred)
    place = "in the property room" if held is None else f"held by {_name(s, held)!r}"
    return f"{cred.status}, {place}"


def _fob_agency(s: Session, cred: Credential) -> str | None:
    person = s.get(Holder, cred.holder_id)
    return None if person is None else person.agency


def _property_room(s: Session, now: int, agency: str) -> str:
    """The holder name of an agency's property room (created if new)."""
    name = agency + PROPERTY_ROOM
    person = get_or_create_holder(s, now, name, agency)
    if _custodian_of_holder(s, person.id):
        raise StoreError(f"{name!r} is an officer's name, not a property room")
    return name


def _custodian_of_holder(s: Session, holder_id: int) -> bool:
    return (
        s.scalar(select(DistrictOfficer.id).where(DistrictOfficer.holder_id == holder_id))
        is not None
    )


def _to_property_room(s: Session, now: int, cred: Credential, who: str) -> None:
    agency = _fob_agency(s, cred)
    if agency is None:
        raise StoreError(f"fob {cred.serial!r} has no agency")
    room = _property_room(s, now, agency)
    c.update_credential(s, now, credential=_selector(cred), holder=room, actor=who)


def _register(
    s: Session,
    now: int,
    fmt: str,
    facility: int | None,
    number: int,
    serial: object,
    agency: str,
    group: str,
    who: str,
    reason: str | None,
) -> Credential:
    clean = c.serial_text(serial)
    if clean is None:
        raise StoreError("a fob of the register needs a serial")
    why = _reason(reason)
    found = _known_agency(s, agency_name(agency))
    room = _property_room(s, now, found.name)
    cid = c.add_credential(
        s, now, fmt, facility, number, room, serial=clean, group=group, actor=who
    )
    cred = s.get(Credential, cid)
    assert cred is not None
    c.set_status(s, now, credential=_selector(cred), status=Status.RETURNED, reason=why, actor=who)
    _append(s, now, cred, "registered", None, None, actor=who, reason=why)
    return cred


def _append(
    s: Session,
    now: int,
    cred: Credential,
    action: str,
    before: int | None,
    after: int | None,
    *,
    actor: str,
    ack: str | None = None,
    reason: str | None = None,
    witness: str | None = None,
) -> None:
    """Add a link to the fob's chain of custody."""
    last = _last(s, cred)
    prev = "" if last is None else last.digest
    fields: dict[str, Any] = {
        "credential_id": cred.id,
        "serial": cred.serial,
        "action": action,
        "custodian_before": before,
        "custodian_after": after,
        "acknowledgement": ack,
        "at": now,
        "actor": actor,
        "reason": reason,
        "witness": witness,
    }
    s.add(DistrictCustody(**fields, prev_digest=prev, digest=digest(fields, prev)))
    s.flush()


def _fob_row(s: Session, cred: Credential) -> FobRow:
    held = _custodian(s, cred)
    last = _last(s, cred)
    assert last is not None
    g = s.get(Group, cred.group_id)
    return FobRow(
        serial=cred.serial or "",
        credential=credential_text(cred.format, cred.facility, cred.number),
        agency=_fob_agency(s, cred),
        group=None if g is None else g.name,
        status=cred.status,
        custodian=None if held is None else _name(s, held),
        badge=None if held is None else held.badge,
        since=us_to_datetime(last.at),
        destroyed=last.action == "destroyed",
    )


# -- CSV parsing ------------------------------------------------------------------------------


def _parse_fobs(text: str, errors: list[tuple[int, str]]) -> list[tuple[int, dict[str, Any]]]:
    """(line, checked fields) of every data row; every problem goes into ``errors``."""
    records = csvparse._records(text, errors)
    first = next(records, None)
    if first is None:
        errors.append((1, "the file is empty: expected a header row"))
        return []
    header = [h.strip().lower() for h in first[1]]
    missing = [col for col in IMPORT_COLUMNS[:-1] if col not in header and col != "facility"]
    if missing:
        errors.append((1, f"missing column(s) {', '.join(missing)}"))
        return []
    where = {col: header.index(col) for col in IMPORT_COLUMNS if col in header}
    rows: list[tuple[int, dict[str, Any]]] = []
    serials: dict[str, int] = {}
    for line, fields in records:
        if not any(f.strip() for f in fields):
            continue
        raw = {
            col: restore_cell(fields[i].strip()) if i < len(fields) else ""
            for col, i in where.items()
        }
        raw.setdefault("facility", "")
        raw.setdefault("group", "")
        problems: list[str] = []
        out: dict[str, Any] = dict(raw)
        for col, check in (
            ("format", canonical_format),
            ("number", lambda t: csvparse._int_field(t, "number")),
            ("facility", lambda t: csvparse._int_field(t, "facility") if t else None),
            ("serial", lambda t: c.serial_text(t) or _empty("serial")),
            ("agency", agency_name),
        ):
            try:
                out[col] = check(raw[col])
            except (StoreError, WiegandError) as err:
                problems.append(str(err))
        if not problems:
            try:
                v.card(out["format"], out["facility"], out["number"])
            except StoreError as err:
                problems.append(str(err))
            if out["serial"] in serials:
                problems.append(
                    f"serial {out['serial']!r} is also on line {serials[out['serial']]}"
                )
            serials.setdefault(out["serial"], line)
        errors.extend((line, p) for p in problems)
        if not problems:
            rows.append((line, out))
    return rows


def _empty(what: str) -> str:
    raise StoreError(f"{what} is empty")


__all__ = ["AgencyRow", "CustodyRow", "FobRow", "History", "OfficerRow", "Register"]
