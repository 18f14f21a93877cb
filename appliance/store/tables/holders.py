"""Holders: the people credentials are issued to. Never deleted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.fleet import district
from appliance.store.rows import UNSET, Unset
from appliance.store.schema.box import Holder
from appliance.store.tables.events import bump_rev, log_change

NAME_MAX = 200
_CHUNK = 500  # well under SQLite's bound-parameter limit


def holder_name(value: object) -> str:
    """A holder's name: required, one line."""
    return v.required_text(value, "holder name", max_len=NAME_MAX)


def _fields(
    agency: object, badge: object, contact: object, notes: object
) -> dict[str, str | Unset | None]:
    """Validated optional holder fields; UNSET ones stay UNSET."""
    out: dict[str, str | Unset | None] = {}
    for key, value, limit, multiline in (
        ("agency", agency, 200, False),
        ("badge", badge, 64, False),
        ("contact", contact, 200, False),
        ("notes", notes, 2000, True),
    ):
        out[key] = (
            UNSET
            if value is UNSET
            else v.text(value, key, max_len=limit, required=False, multiline=multiline)
        )
    return out


def find_holder(s: Session, name: str) -> Holder | None:
    """The holder with exactly this name, or None."""
    return s.scalar(select(Holder).where(Holder.name == name))


def get_or_create_holder(s: Session, now_us: int, name: str, agency: str | None = None) -> Holder:
    """The holder named ``name``, created (with ``agency``) if missing; names are validated."""
    holder = find_holder(s, name)
    if holder is None:
        holder = Holder(name=name, agency=agency, created_at=now_us)
        s.add(holder)
        s.flush()
    return holder


def holder_ids(s: Session, now_us: int, agencies: Mapping[str, str | None]) -> dict[str, int]:
    """Ids of the holders named (keys), creating missing ones (with that agency) in bulk."""
    names = list(agencies)
    ids: dict[str, int] = {}
    conn = s.connection()

    def look_up(wanted: list[str]) -> None:
        for i in range(0, len(wanted), _CHUNK):
            chunk = wanted[i : i + _CHUNK]
            found = conn.execute(select(Holder.id, Holder.name).where(Holder.name.in_(chunk)))
            ids.update((n, i) for i, n in found)

    look_up(names)
    missing = [n for n in names if n not in ids]
    if missing:
        conn.execute(
            insert(Holder),
            [{"name": n, "agency": agencies[n], "created_at": now_us} for n in missing],
        )
        look_up(missing)
    return ids


def add_holder(
    s: Session,
    now_us: int,
    name: str,
    *,
    agency: str | None = None,
    badge: str | None = None,
    contact: str | None = None,
    notes: str | None = None,
    actor: str,
) -> int:
    """Create a holder; a name already on record is refused."""
    who = v.actor(actor)
    clean = holder_name(name)
    fields = _fields(agency, badge, contact, notes)
    if find_holder(s, clean) is not None:
        raise StoreError(f"holder {clean!r} already exists")
    holder = Holder(name=clean, created_at=now_us, **fields)
    s.add(holder)
    s.flush()
    bump_rev(s)
    shown = {k: val for k, val in fields.items() if val is not None}
    log_change(s, now_us, actor=who, action="add_holder", holder=clean, detail=shown)
    return holder.id


def update_holder(
    s: Session,
    now_us: int,
    name: str,
    *,
    new_name: str | Unset = UNSET,
    agency: str | Unset | None = UNSET,
    badge: str | Unset | None = UNSET,
    contact: str | Unset | None = UNSET,
    notes: str | Unset | None = UNSET,
    actor: str,
    as_district: bool = False,
) -> None:
    """Change a holder's fields; UNSET leaves a field alone, None clears it."""
    who = v.actor(actor)
    holder = find_holder(s, holder_name(name))
    if holder is None:
        raise StoreError(f"no holder named {name.strip()!r}")
    if not as_district and district.holder_is_district(s, holder.id):
        raise district.refuse(f"holder {holder.name!r} (who has a district credential)")
    changes: dict[str, Any] = {}
    if new_name is not UNSET:
        renamed = holder_name(new_name)
        if renamed != holder.name:
            if find_holder(s, renamed) is not None:
                raise StoreError(f"holder {renamed!r} already exists")
            changes["name"] = {"from": holder.name, "to": renamed}
            holder.name = renamed
    for key, value in _fields(agency, badge, contact, notes).items():
        if value is UNSET or getattr(holder, key) == value:
            continue
        changes[key] = {"from": getattr(holder, key), "to": value}
        setattr(holder, key, value)
    if not changes:
        return  # nothing to record: an update that changes nothing leaves no trace
    s.flush()
    bump_rev(s)
    log_change(s, now_us, actor=who, action="update_holder", holder=holder.name, detail=changes)
