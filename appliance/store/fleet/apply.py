"""The box's side of the district list: apply a snapshot or a run of changes in one transaction.

District credentials (``source = 'district'``) are written here, never through the Store's
guarded methods. Local credentials are never touched: a district card that collides with a local
one is skipped and reported. A snapshot revokes district cards it no longer lists ("removed from
district list"); nothing is deleted. The applied version, the outbox cursor and the district's
last lockdown word for this school live in the meta table (they do not bump ``rev``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from appliance.core.model import Mode, Status
from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import credential_text
from appliance.store.schema.box import NO_FACILITY, Credential, Event, Group
from appliance.store.store import Store
from appliance.store.tables import groups as g
from appliance.store.tables.csvio import _insert_many
from appliance.store.tables.events import bump_rev, door_name, log_change
from appliance.store.tables.holders import holder_ids
from appliance.store.tables.meta import meta_get, meta_set

APPLIED_VERSION = "fleet.list_version"
APPLIED_AT = "fleet.list_applied_at"
SHIPPED_EVENT_ID = "fleet.shipped_event_id"
LOCKDOWN = "fleet.lockdown"
REMOVED = "removed from district list"
_CHUNK = 500
CardKey = tuple[str, int, int]
_FIELDS = (
    "serial",
    "holder_id",
    "group_id",
    "status",
    "status_reason",
    "valid_from",
    "valid_until",
    "pin_hash",
)


@dataclass
class Applied:
    """What one apply did."""

    version: int
    added: int = 0
    updated: int = 0
    removed: int = 0
    conflicts: list[str] = field(default_factory=list)
    mode: str | None = None


class FleetApply:
    """The box store as the fleet agent writes it: each method is one transaction."""

    def __init__(self, store: Store, *, school: str, actor: str) -> None:
        self._db = store.db
        self.school = school.strip().casefold()
        self.actor = v.actor(actor)

    @contextmanager
    def _write(self, what: str) -> Iterator[Session]:
        with self._db.write(what) as s:
            yield s

    def applied_version(self) -> int:
        """The list version this box holds (0: none yet)."""
        with self._db.read("reading the list version") as s:
            return int(meta_get(s, APPLIED_VERSION) or 0)

    def applied_at(self) -> float | None:
        """When the list version was applied (Unix seconds), or None."""
        with self._db.read("reading the list version") as s:
            raw = meta_get(s, APPLIED_AT)
            return None if raw is None else int(raw) / 1_000_000

    def shipped_event_id(self) -> int:
        """The outbox cursor: every event up to this id is at the broker."""
        with self._db.read("reading the outbox cursor") as s:
            return int(meta_get(s, SHIPPED_EVENT_ID) or 0)

    def set_shipped_event_id(self, event_id: int) -> None:
        """Advance the outbox cursor (never backwards)."""
        with self._write("advancing the outbox cursor") as s:
            if event_id > int(meta_get(s, SHIPPED_EVENT_ID) or 0):
                meta_set(s, SHIPPED_EVENT_ID, str(event_id))

    def rewind_shipped_event_id(self, event_id: int) -> bool:
        """Move the outbox cursor back to ``event_id`` (the console lacks later ones)."""
        with self._write("rewinding the outbox cursor") as s:
            if event_id < int(meta_get(s, SHIPPED_EVENT_ID) or 0):
                meta_set(s, SHIPPED_EVENT_ID, str(max(0, event_id)))
                return True
            return False

    def newest_event_id(self) -> int:
        """The id of the newest event in the audit log (0: none)."""
        with self._db.read("reading the newest event") as s:
            return int(s.scalar(select(func.max(Event.id))) or 0)

    def apply_snapshot(
        self,
        version: int,
        groups: Sequence[Mapping[str, Any]],
        credentials: Sequence[Mapping[str, Any]],
        lockdown_all: bool,
        lockdown_schools: Sequence[str],
    ) -> Applied:
        """Make the district part of the store what the snapshot says, at ``version``."""
        with self._write("applying the district snapshot") as s:
            now = self._db.now_us()
            have = int(meta_get(s, APPLIED_VERSION) or 0)
            if version <= have:
                raise StoreError(f"snapshot {version} is not newer than list version {have}")
            done = Applied(version)
            self._groups(s, now, groups)
            listed = self._credentials(s, now, credentials, done)
            done.removed = self._remove_unlisted(s, now, listed)
            on = lockdown_all or self.school in {x.strip().casefold() for x in lockdown_schools}
            last = meta_get(s, LOCKDOWN)
            if (last is None and on) or (last is not None and last != ("on" if on else "off")):
                done.mode = self._lockdown(s, now, on, "district lockdown (snapshot)")
            self._finish(s, now, done, "apply_snapshot")
            return done

    def apply_changes(self, changes: Sequence[Mapping[str, Any]]) -> Applied:
        """Apply consecutive changes (each a dict with version, groups, credentials, lockdown)."""
        with self._write("applying district changes") as s:
            now = self._db.now_us()
            have = int(meta_get(s, APPLIED_VERSION) or 0)
            done = Applied(have)
            # A run's credentials collapse to the last word on each card: one pass, one rev.
            latest: dict[tuple[object, object, object], Mapping[str, Any]] = {}
            for change in changes:
                version = change["version"]
                if version != done.version + 1:
                    raise StoreError(f"change {version} does not follow list version {have}")
                if change.get("groups") is not None:
                    self._credentials(s, now, list(latest.values()), done)  # before new groups
                    latest.clear()
                    self._groups(s, now, change["groups"])
                for item in change["credentials"]:
                    latest.pop(_item_key(item), None)  # re-inserted: keeps the run's order
                    latest[_item_key(item)] = item
                command = change.get("lockdown")
                if command is not None:
                    school = command.get("school")
                    if school is None or school.strip().casefold() == self.school:
                        why = command.get("reason") or "district lockdown"
                        done.mode = self._lockdown(s, now, bool(command["on"]), why)
                done.version = version
            self._credentials(s, now, list(latest.values()), done)
            self._finish(s, now, done, "apply_changes")
            return done

    # -- parts of one transaction ---------------------------------------------------------
    def _finish(self, s: Session, now: int, done: Applied, action: str) -> None:
        meta_set(s, APPLIED_VERSION, str(done.version))
        meta_set(s, APPLIED_AT, str(now))
        detail = {
            "version": done.version,
            "added": done.added,
            "updated": done.updated,
            "removed": done.removed,
            "conflicts": done.conflicts[:20],
        }
        log_change(s, now, actor=self.actor, action=action, kind="fleet", detail=detail)

    def _groups(self, s: Session, now: int, items: Sequence[Mapping[str, Any]]) -> None:
        builtin = set(s.scalars(select(Group.name).where(Group.builtin)))
        known = g.group_ids(s)
        for item in items:
            name = g.group_name(item["name"])
            if name in builtin:
                continue  # responders and staff mean the same on every box: the box's own
            settings = {
                "doors": None if item["all_doors"] else list(item["doors"]),
                "always": item["always"],
                "schedule": [dict(w) for w in item["schedule"]] or None,
                "holidays": list(item["holidays"]),
                "lockdown_immune": item["lockdown_immune"],
                "pin_required": item["pin_required"],
            }
            if name in known:
                g.update_group(s, now, name, actor=self.actor, as_district=True, **settings)
            else:
                g.add_group(s, now, name, actor=self.actor, **settings)

    def _credentials(
        self, s: Session, now: int, items: Sequence[Mapping[str, Any]], done: Applied
    ) -> set[CardKey]:
        """Insert or update district credentials; returns the cards the items name."""
        if not items:
            return set()
        group_by_name = g.group_ids(s)
        rows: list[tuple[Any, dict[str, Any], str, str | None]] = []
        agencies: dict[str, str | None] = {}
        for item in items:
            card = v.card(item["format"], item["facility"], item["number"])
            group = item["group"]
            if group not in group_by_name:
                raise g.unknown_group(group, group_by_name)
            start, end = v.validity(_us(item.get("valid_from_us")), _us(item.get("valid_until_us")))
            holder = v.required_text(item["holder"], "holder", max_len=200)
            agencies.setdefault(holder, item.get("agency"))
            wanted = {
                "serial": v.text(item.get("serial"), "serial", max_len=64, required=False),
                "group_id": group_by_name[group],
                "status": v.status(item["status"]).value,
                "status_reason": v.text(
                    item.get("reason"), "reason", max_len=2000, required=False, multiline=True
                ),
                "valid_from": start,
                "valid_until": end,
                "pin_hash": item.get("pin_hash"),
            }
            rows.append((card, wanted, holder, item.get("agency")))
        holders = holder_ids(s, now, agencies)
        existing = _existing(s, [r[0] for r in rows])
        serials = _serial_owners(s, [r[1]["serial"] for r in rows if r[1]["serial"]])
        rev = bump_rev(s)
        door = door_name(s)
        listed: set[CardKey] = set()
        new_rows: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        for card, wanted, holder, _agency in rows:
            wanted["holder_id"] = holders[holder]
            text = str(card)
            key = _key(card.format, card.facility, card.number)
            listed.add(key)
            cred = existing.get(key)
            if cred is not None and cred.source != "district":
                done.conflicts.append(f"{text} is a local card on this box: left as it is")
                continue
            serial = wanted["serial"]
            owner = serials.get(serial) if serial else None
            if owner is not None and (cred is None or owner != cred.id):
                done.conflicts.append(f"{text}: serial {serial!r} belongs to another card here")
                wanted["serial"] = None
            if cred is None:
                new_rows.append(_new_row(card, wanted, now, self.actor, rev))
                done.added += 1
                change = {"status": wanted["status"]}
            else:
                change = {k: wanted[k] for k in _FIELDS if getattr(cred, k) != wanted[k]}
                if not change:
                    continue
                self._update(cred, wanted, now, rev)
                done.updated += 1
            if serial:
                serials[serial] = cred.id if cred is not None else -1
            events.append(_event(now, self.actor, door, text, holder, wanted, change))
        s.flush()
        conn = s.connection()
        _insert_many(conn, insert(Credential), new_rows)
        _insert_many(conn, insert(Event), events)
        return listed

    def _update(self, cred: Credential, wanted: dict[str, Any], now: int, rev: int) -> None:
        was = cred.status
        for key in _FIELDS:
            setattr(cred, key, wanted[key])
        if was != cred.status:
            cred.status_changed_at, cred.status_changed_by = now, self.actor
            if cred.status == Status.RETURNED.value:
                cred.returned_at, cred.returned_by = now, self.actor
            elif cred.status == Status.ISSUED.value:
                cred.issued_at, cred.issued_by = now, self.actor
        cred.rev = rev

    def _remove_unlisted(self, s: Session, now: int, listed: set[CardKey]) -> int:
        stale = [
            c
            for c in s.scalars(
                select(Credential).where(
                    Credential.source == "district", Credential.status != Status.REVOKED.value
                )
            )
            if _key(c.format, c.facility, c.number) not in listed
        ]
        if not stale:
            return 0
        rev = bump_rev(s)
        for cred in stale:
            was = cred.status
            cred.status, cred.status_reason = Status.REVOKED.value, REMOVED
            cred.status_changed_at, cred.status_changed_by = now, self.actor
            cred.rev = rev
            log_change(
                s,
                now,
                actor=self.actor,
                action="fleet_remove",
                reason=REMOVED,
                credential=credential_text(cred.format, cred.facility, cred.number),
                serial=cred.serial,
                detail={"status": Status.REVOKED.value, "was": was},
            )
        return len(stale)

    def _lockdown(self, s: Session, now: int, on: bool, reason: str) -> str | None:
        meta_set(s, LOCKDOWN, "on" if on else "off")
        mode, _ = g.door_mode(s)
        if on and mode != Mode.LOCKDOWN:
            g.set_mode(s, now, Mode.LOCKDOWN, reason=reason, actor=self.actor)
            return Mode.LOCKDOWN.value
        if not on and mode == Mode.LOCKDOWN:
            g.set_mode(s, now, Mode.NORMAL, reason=reason, actor=self.actor)
            return Mode.NORMAL.value
        return None


# -- helpers ------------------------------------------------------------------------------


def _us(value: object) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise StoreError(f"a validity bound must be whole microseconds, not {v.show(value)}")
    return value / 1_000_000


def _key(fmt: str, facility: int | None, number: int) -> CardKey:
    return fmt, NO_FACILITY if facility is None else facility, number


def _item_key(item: Mapping[str, Any]) -> tuple[object, object, object]:
    return item["format"], item["facility"], item["number"]


def _existing(s: Session, cards: Sequence[Any]) -> dict[CardKey, Credential]:
    """The stored credentials for these cards, by (format, facility, number)."""
    by_field: dict[tuple[str, int], list[int]] = {}
    for card in cards:
        fmt, fac, num = _key(card.format, card.facility, card.number)
        by_field.setdefault((fmt, fac), []).append(num)
    found: dict[CardKey, Credential] = {}
    for (fmt, fac), numbers in by_field.items():
        for i in range(0, len(numbers), _CHUNK):
            stmt = select(Credential).where(
                Credential.format == fmt,
                func.coalesce(Credential.facility, NO_FACILITY) == fac,
                Credential.number.in_(numbers[i : i + _CHUNK]),
            )
            for cred in s.scalars(stmt):
                found[_key(cred.format, cred.facility, cred.number)] = cred
    return found


def _serial_owners(s: Session, serials: list[str]) -> dict[str, int]:
    owners: dict[str, int] = {}
    for i in range(0, len(serials), _CHUNK):
        stmt = select(Credential.serial, Credential.id).where(
            Credential.serial.in_(serials[i : i + _CHUNK])
        )
        owners.update((serial, cid) for serial, cid in s.execute(stmt) if serial is not None)
    return owners


def _new_row(card: Any, wanted: dict[str, Any], now: int, actor: str, rev: int) -> dict[str, Any]:
    returned = wanted["status"] == Status.RETURNED.value
    return {
        "format": card.format,
        "facility": card.facility,
        "number": card.number,
        **wanted,
        "status_changed_at": now,
        "status_changed_by": actor,
        "issued_at": now,
        "issued_by": actor,
        "returned_at": now if returned else None,
        "returned_by": actor if returned else None,
        "source": "district",
        "rev": rev,
        "created_at": now,
    }


def _event(
    now: int,
    actor: str,
    door: str | None,
    credential: str,
    holder: str,
    wanted: dict[str, Any],
    change: dict[str, Any],
) -> dict[str, Any]:
    shown = {k: val for k, val in change.items() if k not in ("pin_hash", "holder_id", "group_id")}
    return {
        "ts_us": now,
        "kind": "admin",
        "reason": wanted["status_reason"],
        "credential": credential,
        "holder": holder,
        "serial": wanted["serial"],
        "door": door,
        "actor": actor,
        "detail": json.dumps({"action": "fleet_credential", **shown}),
        "source_key": None,
    }
