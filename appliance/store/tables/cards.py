"""Credential writes: issue, edit, change status, set a PIN. Credentials are never deleted."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appliance.core.model import Status
from appliance.core.pins import hash_pin, validate_pin
from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.fleet import district
from appliance.store.rows import UNSET, Unset, credential_text
from appliance.store.schema.box import NO_FACILITY, Credential, Group, Holder
from appliance.store.tables.events import bump_rev, log_change
from appliance.store.tables.groups import STAFF, group_id
from appliance.store.tables.holders import find_holder, get_or_create_holder, holder_name
from appliance.wiegand.formats import Credential as Card

SERIAL_MAX = 64
REASON_MAX = 500
AGENCY_MAX = 200
CardSelector = tuple[str, int | None, int]
When = datetime | float | None


def serial_text(value: object) -> str | None:
    """A serial (the number printed on the fob), or None if empty."""
    return v.text(value, "serial", max_len=SERIAL_MAX, required=False)


def describe(s: Session, cred: Credential, *, with_card: bool = True) -> str:
    """A credential, its holder and status in words, for conflict messages."""
    holder = s.get(Holder, cred.holder_id)
    serial = f", serial {cred.serial!r}" if cred.serial else ""
    name = holder.name if holder is not None else "?"
    text = credential_text(cred.format, cred.facility, cred.number) + " " if with_card else ""
    return f"{text}(holder {name!r}{serial}, {cred.status})"


def find_by_card(s: Session, card: Card) -> Credential | None:
    """The stored credential with this format, facility and number, or None."""
    return s.scalar(
        select(Credential).where(
            Credential.format == card.format,
            func.coalesce(Credential.facility, NO_FACILITY)
            == (NO_FACILITY if card.facility is None else card.facility),
            Credential.number == card.number,
        )
    )


def find_by_serial(s: Session, serial: str) -> Credential | None:
    """The stored credential with this serial, or None."""
    return s.scalar(select(Credential).where(Credential.serial == serial))


def select_one(s: Session, serial: object, credential: CardSelector | None) -> Credential:
    """The credential named by exactly one of serial or (format, facility, number)."""
    if (serial is None) == (credential is None):
        raise StoreError("name the credential by serial or by (format, facility, number), not both")
    if serial is not None:
        clean = serial_text(serial)
        if clean is None:
            raise StoreError("serial must not be empty")
        found = find_by_serial(s, clean)
        if found is None:
            raise StoreError(f"no credential with serial {clean!r}")
        return found
    assert credential is not None
    if not isinstance(credential, Sequence) or len(credential) != 3:
        raise StoreError("credential must be (format, facility, number)")
    card = v.card(*credential)
    found = find_by_card(s, card)
    if found is None:
        raise StoreError(f"no credential {card} on record")
    return found


def _clash(cred: Credential, message: str) -> StoreError:
    """The error for a new credential that clashes with ``cred`` (a district one says so)."""
    return district.conflict(message) if cred.source == district.DISTRICT else StoreError(message)


def check_new(s: Session, card: Card, serial: str | None) -> None:
    """Refuse a credential or serial that is already on record, naming what it conflicts with."""
    existing = find_by_card(s, card)
    if existing is not None:
        on_record = describe(s, existing, with_card=False)
        raise _clash(existing, f"credential {card} is already on record {on_record}")
    if serial is not None:
        other = find_by_serial(s, serial)
        if other is not None:
            raise _clash(other, f"serial {serial!r} is already used by {describe(s, other)}")


def add_credential(
    s: Session,
    now_us: int,
    fmt: str,
    facility: int | None,
    number: int,
    holder: str,
    *,
    serial: str | None = None,
    group: str = STAFF,
    actor: str,
    valid_from: datetime | float | None = None,
    valid_until: datetime | float | None = None,
    pin: str | None = None,
    source: str = "local",
    holder_agency: str | Unset = UNSET,
    holder_on_record: bool = False,
) -> int:
    """Issue a credential to a holder; returns its id.

    By default the holder is created by name if missing (the CLI and CSV way). ``holder_agency``:
    the holder is new, created with this agency (a name on record is refused);
    ``holder_on_record``: the holder must already be on record.
    """
    who = v.actor(actor)
    card = v.card(fmt, facility, number)
    name = holder_name(holder)
    clean_serial = serial_text(serial)
    start, end = v.validity(valid_from, valid_until)
    pin_hash = _pin_hash(pin)
    origin = v.source(source)
    gid = group_id(s, group)
    check_new(s, card, clean_serial)
    if holder_agency is not UNSET:
        person = _new_holder(s, now_us, name, holder_agency, who)
    elif holder_on_record:
        person = _holder_on_record(s, name)
    else:
        person = get_or_create_holder(s, now_us, name)
    rev = bump_rev(s)
    cred = Credential(
        format=card.format,
        facility=card.facility,
        number=card.number,
        serial=clean_serial,
        holder_id=person.id,
        group_id=gid,
        status=Status.ISSUED.value,
        status_reason=None,
        status_changed_at=now_us,
        status_changed_by=who,
        issued_at=now_us,
        issued_by=who,
        valid_from=start,
        valid_until=end,
        pin_hash=pin_hash,
        source=origin,
        rev=rev,
        created_at=now_us,
    )
    s.add(cred)
    s.flush()
    detail: dict[str, Any] = {"group": group.strip(), "source": origin, "pin": pin is not None}
    if start is not None or end is not None:
        detail.update(valid_from_us=start, valid_until_us=end)
    log_change(
        s,
        now_us,
        actor=who,
        action="add_credential",
        credential=str(card),
        holder=name,
        serial=clean_serial,
        detail=detail,
    )
    return cred.id


def _holder_on_record(s: Session, name: str) -> Holder:
    person = find_holder(s, name)
    if person is None:
        raise StoreError(f"no holder named {name!r} is on record")
    return person


def _new_holder(s: Session, now_us: int, name: str, agency: object, who: str) -> Holder:
    """A holder created with their agency (required), recorded as ``add_holder``."""
    clean = v.required_text(agency, "agency", max_len=AGENCY_MAX)
    if find_holder(s, name) is not None:
        raise StoreError(f"holder {name!r} is already on record: choose them, not a new holder")
    person = get_or_create_holder(s, now_us, name, clean)
    log_change(s, now_us, actor=who, action="add_holder", holder=name, detail={"agency": clean})
    return person


def _pin_hash(pin: object) -> str | None:
    if pin is None:
        return None
    if not isinstance(pin, str):
        raise StoreError(f"a PIN must be text, not {type(pin).__name__}")
    try:
        return hash_pin(validate_pin(pin))
    except ValueError as err:
        raise StoreError(str(err)) from None


def _named(cred: Credential) -> str:
    serial = f" (serial {cred.serial!r})" if cred.serial else ""
    return f"credential {credential_text(cred.format, cred.facility, cred.number)}{serial}"


def _holder_of(s: Session, cred: Credential) -> str | None:
    holder = s.get(Holder, cred.holder_id)
    return None if holder is None else holder.name


def _editable(
    s: Session, serial: str | None, credential: CardSelector | None, *, as_district: bool
) -> Credential:
    """The credential an edit names; a district credential only ``as_district``."""
    cred = select_one(s, serial, credential)
    district.check_credential(cred, _named(cred), as_district=as_district)
    return cred


def _changed(
    s: Session,
    now_us: int,
    cred: Credential,
    *,
    actor: str,
    action: str,
    detail: Mapping[str, Any],
    reason: str | None = None,
) -> int:
    """After an edit of ``cred``: a new rev, and the change logged with its card; its id."""
    cred.rev = bump_rev(s)
    s.flush()
    log_change(
        s,
        now_us,
        actor=actor,
        action=action,
        reason=reason,
        credential=credential_text(cred.format, cred.facility, cred.number),
        holder=_holder_of(s, cred),
        serial=cred.serial,
        detail=detail,
    )
    return cred.id


def set_status(
    s: Session,
    now_us: int,
    *,
    serial: str | None = None,
    credential: CardSelector | None = None,
    status: Status | str,
    reason: str | None,
    actor: str,
    as_district: bool = False,
) -> int:
    """Move the credential named by serial or (format, facility, number) to ``status``.

    Returns its id. District credentials only ``as_district``.
    """
    who = v.actor(actor)
    new = v.status(status)
    why = v.text(reason, "reason", max_len=REASON_MAX, required=False, multiline=True)
    cred = _editable(s, serial, credential, as_district=as_district)
    was = cred.status
    cred.status, cred.status_reason = new.value, why
    cred.status_changed_at, cred.status_changed_by = now_us, who
    if new is Status.RETURNED:
        cred.returned_at, cred.returned_by = now_us, who
    elif new is Status.ISSUED and was != Status.ISSUED.value:
        cred.issued_at, cred.issued_by = now_us, who
    return _changed(
        s,
        now_us,
        cred,
        actor=who,
        action="set_status",
        reason=why,
        detail={"status": new.value, "was": was},
    )


def set_pin(
    s: Session,
    now_us: int,
    *,
    serial: str | None = None,
    credential: CardSelector | None = None,
    pin: str | None,
    actor: str,
    as_district: bool = False,
) -> int:
    """Set a credential's PIN (4-12 digits, stored hashed), or clear it with None; its id."""
    who = v.actor(actor)
    pin_hash = _pin_hash(pin)
    cred = _editable(s, serial, credential, as_district=as_district)
    had = cred.pin_hash is not None
    cred.pin_hash = pin_hash
    action = "set_pin" if pin is not None else "clear_pin"
    return _changed(s, now_us, cred, actor=who, action=action, detail={"had_pin": had})


def _bound(value: When | Unset, current: int | None, what: str) -> int | None:
    if value is UNSET:
        return current
    return None if value is None else v.instant(value, what)


def update_credential(
    s: Session,
    now_us: int,
    *,
    serial: str | None = None,
    credential: CardSelector | None = None,
    holder: str | Unset = UNSET,
    holder_agency: str | Unset = UNSET,
    group: str | Unset = UNSET,
    valid_from: When | Unset = UNSET,
    valid_until: When | Unset = UNSET,
    pin: str | Unset | None = UNSET,
    actor: str,
    as_district: bool = False,
) -> int:
    """Change a credential's holder, group, validity or PIN; UNSET leaves one, None clears it.

    The holder is one on record, or with ``holder_agency`` a new one created with that agency.
    One ``update_credential`` event lists what changed (a PIN only as set or cleared); an edit
    that changes nothing records nothing. Returns the credential's id.
    """
    who = v.actor(actor)
    cred = _editable(s, serial, credential, as_district=as_district)
    changes: dict[str, Any] = {}
    if holder is not UNSET:
        name = holder_name(holder)
        if holder_agency is UNSET:
            person = _holder_on_record(s, name)
        else:
            person = _new_holder(s, now_us, name, holder_agency, who)
        if person.id != cred.holder_id:
            changes["holder"] = {"from": _holder_of(s, cred), "to": person.name}
            cred.holder_id = person.id
    elif holder_agency is not UNSET:
        raise StoreError("an agency is given only with a new holder")
    if group is not UNSET:
        gid = group_id(s, group)
        if gid != cred.group_id:
            was = s.get(Group, cred.group_id)
            now = s.get(Group, gid)
            changes["group"] = {
                "from": None if was is None else was.name,
                "to": None if now is None else now.name,
            }
            cred.group_id = gid
    start = _bound(valid_from, cred.valid_from, "valid_from")
    end = _bound(valid_until, cred.valid_until, "valid_until")
    if start is not None and end is not None and end <= start:
        raise StoreError("valid_until must be later than valid_from")
    for key, old, new in (
        ("valid_from", cred.valid_from, start),
        ("valid_until", cred.valid_until, end),
    ):
        if old != new:
            changes[f"{key}_us"] = {"from": old, "to": new}
    cred.valid_from, cred.valid_until = start, end
    if pin is not UNSET:
        pin_hash = _pin_hash(pin)
        if pin_hash is not None or cred.pin_hash is not None:
            changes["pin"] = "set" if pin_hash is not None else "cleared"
        cred.pin_hash = pin_hash
    if not changes:
        return cred.id  # nothing to record: an edit that changes nothing leaves no trace
    return _changed(s, now_us, cred, actor=who, action="update_credential", detail=changes)
