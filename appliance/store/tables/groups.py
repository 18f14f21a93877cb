"""Access groups, the door's stored mode and its settings."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.core.model import GroupPolicy, Mode
from appliance.store import validate as v
from appliance.store.errors import ModeChanged, StoreError
from appliance.store.fleet import district
from appliance.store.rows import UNSET, GroupRow, ScheduleWindow, Unset
from appliance.store.schema.box import Door, DoorSetting, Group
from appliance.store.tables.events import bump_rev, log_change

LOG = logging.getLogger(__name__)

RESPONDERS = "responders"
STAFF = "staff"
NAME_MAX = 64


def group_name(value: object) -> str:
    """A group's name: required, one line."""
    return v.required_text(value, "group name", max_len=NAME_MAX)


def group_ids(s: Session) -> dict[str, int]:
    """Every group's id by name."""
    return {name: gid for gid, name in s.execute(select(Group.id, Group.name))}


def unknown_group(name: str, known: Iterable[str]) -> StoreError:
    """The error for a group name that is not on record."""
    return StoreError(f"unknown group {name!r} (known: {', '.join(sorted(known))})")


def group_id(s: Session, name: object) -> int:
    """The id of the group named ``name``; StoreError listing the known ones if none."""
    clean = group_name(name)
    ids = group_ids(s)
    if clean not in ids:
        raise unknown_group(clean, ids)
    return ids[clean]


def _windows(g: Group) -> tuple[ScheduleWindow, ...]:
    return tuple(ScheduleWindow(tuple(w["days"]), w["start"], w["end"]) for w in g.schedule)


def _row(g: Group) -> GroupRow:
    return GroupRow(
        id=g.id,
        name=g.name,
        all_doors=g.all_doors,
        doors=tuple(g.doors),
        always=g.always,
        schedule=_windows(g),
        holidays=tuple(date.fromisoformat(d) for d in g.holidays),
        lockdown_immune=g.lockdown_immune,
        pin_required=g.pin_required,
        builtin=g.builtin,
    )


def list_groups(s: Session) -> list[GroupRow]:
    """Every group, by name."""
    return [_row(g) for g in s.scalars(select(Group).order_by(Group.name))]


def load_groups(s: Session) -> dict[int, GroupPolicy]:
    """Every group as the core's GroupPolicy, by id."""
    out: dict[int, GroupPolicy] = {}
    for g in s.scalars(select(Group)):
        row = _row(g)
        out[g.id] = GroupPolicy(
            id=g.id,
            name=g.name,
            all_doors=g.all_doors,
            doors=frozenset(g.doors),
            always=g.always,
            windows=tuple(v.to_window(w) for w in row.schedule),
            holidays=frozenset(row.holidays),
            lockdown_immune=g.lockdown_immune,
            pin_required=g.pin_required,
        )
    return out


def _check_consistent(always: bool, windows: tuple[ScheduleWindow, ...]) -> None:
    if always and windows:
        raise StoreError("a group allowed at all times (always=True) takes no schedule")
    if not always and not windows:
        raise StoreError("a group not allowed at all times (always=False) needs a schedule")


def _json_state(g: Group) -> dict[str, Any]:
    """A group's settings as plain JSON, for the record of a change."""
    return {
        "all_doors": g.all_doors,
        "doors": list(g.doors),
        "always": g.always,
        "schedule": list(g.schedule),
        "holidays": list(g.holidays),
        "lockdown_immune": g.lockdown_immune,
        "pin_required": g.pin_required,
    }


def add_group(
    s: Session,
    now_us: int,
    name: str,
    *,
    doors: Iterable[str] | None = None,
    always: bool = True,
    schedule: Iterable[Mapping[str, Any] | ScheduleWindow] | None = None,
    holidays: Iterable[date | str] = (),
    lockdown_immune: bool = False,
    pin_required: bool = False,
    actor: str,
    builtin: bool = False,
) -> int:
    """Create a group; returns its id. ``doors`` None: every door; a schedule only if not always."""
    who = v.actor(actor)
    clean = group_name(name)
    door_names = v.doors(doors)
    windows = v.schedule(schedule)
    always = v.flag(always, "always")
    _check_consistent(always, windows)
    group = Group(
        name=clean,
        all_doors=door_names is None,
        doors=list(door_names or ()),
        always=always,
        schedule=[w.as_json() for w in windows],
        holidays=[d.isoformat() for d in v.holidays(holidays)],
        lockdown_immune=v.flag(lockdown_immune, "lockdown_immune"),
        pin_required=v.flag(pin_required, "pin_required"),
        builtin=builtin,
    )
    if clean in group_ids(s):
        raise StoreError(f"group {clean!r} already exists")
    s.add(group)
    s.flush()
    bump_rev(s)
    detail = {"group": clean, **_json_state(group)}
    log_change(s, now_us, actor=who, action="add_group", detail=detail)
    return group.id


def update_group(
    s: Session,
    now_us: int,
    name: str,
    *,
    doors: Iterable[str] | Unset | None = UNSET,
    always: bool | Unset = UNSET,
    schedule: Iterable[Mapping[str, Any] | ScheduleWindow] | Unset | None = UNSET,
    holidays: Iterable[date | str] | Unset = UNSET,
    lockdown_immune: bool | Unset = UNSET,
    pin_required: bool | Unset = UNSET,
    actor: str,
    as_district: bool = False,
) -> None:
    """Change a group's settings; UNSET leaves a setting alone. Responders cannot be changed."""
    who = v.actor(actor)
    group = s.scalar(select(Group).where(Group.name == group_name(name)))
    if group is None:
        raise unknown_group(group_name(name), group_ids(s))
    if group.name == RESPONDERS and group.builtin:
        raise StoreError(
            "the built-in responders group cannot be changed: responders open every door "
            "at all times, lockdown included"
        )
    if not as_district and district.group_is_district(s, group.id):
        raise district.refuse(f"group {group.name!r} (which has district credentials)")
    before = _json_state(group)
    if doors is not UNSET:
        door_names = v.doors(doors)
        group.all_doors = door_names is None
        group.doors = list(door_names or ())
    windows = _windows(group) if schedule is UNSET else v.schedule(schedule)
    if always is not UNSET:
        group.always = v.flag(always, "always")
        if group.always and schedule is UNSET:
            windows = ()  # switching to always drops the old schedule rather than refusing
    _check_consistent(group.always, windows)
    group.schedule = [w.as_json() for w in windows]
    if holidays is not UNSET:
        group.holidays = [d.isoformat() for d in v.holidays(holidays)]
    if lockdown_immune is not UNSET:
        group.lockdown_immune = v.flag(lockdown_immune, "lockdown_immune")
    if pin_required is not UNSET:
        group.pin_required = v.flag(pin_required, "pin_required")
    after = _json_state(group)
    changes = {k: {"from": before[k], "to": after[k]} for k in after if after[k] != before[k]}
    if not changes:
        return
    s.flush()
    bump_rev(s)
    log_change(s, now_us, actor=who, action="update_group", detail={"group": group.name, **changes})


def ensure_builtin(s: Session, now_us: int, door: str, actor: str) -> bool:
    """Create the door row and the built-in groups if missing; True if anything was created."""
    created = False
    row = s.get(Door, 1)
    if row is None:
        s.add(
            Door(
                id=1,
                name=door,
                mode=Mode.NORMAL.value,
                mode_changed_at=now_us,
                mode_changed_by=actor,
            )
        )
        s.flush()
        created = True
    elif row.name != door:
        LOG.warning("door is already named %r; init keeps it (asked for %r)", row.name, door)
    known = group_ids(s)
    builtins: list[tuple[str, list[str] | None, bool]] = [
        (RESPONDERS, None, True),
        (STAFF, [door], False),
    ]
    for name, doors, immune in builtins:
        if name in known:
            continue
        add_group(
            s,
            now_us,
            name,
            doors=doors,
            always=True,
            schedule=None,
            holidays=(),
            lockdown_immune=immune,
            pin_required=False,
            actor=actor,
            builtin=True,
        )
        created = True
    return created


def door_mode(s: Session) -> tuple[Mode, str | None]:
    """The stored mode and its reason."""
    row = s.get(Door, 1)
    if row is None:
        raise StoreError("database is not initialised: run `doorward init` first")
    return Mode(row.mode), row.mode_reason


def set_mode(
    s: Session,
    now_us: int,
    mode: Mode | str,
    *,
    reason: str | None,
    actor: str,
    only_from: Collection[str] | None = None,
) -> None:
    """Store the door's mode; recorded as a ``mode`` event. ``only_from``: the modes it may change
    from, checked in the same transaction (a page's action must not undo a lockdown begun since)."""
    who = v.actor(actor)
    new = v.mode(mode)
    why = v.text(reason, "reason", max_len=500, required=False)
    row = s.get(Door, 1)
    if row is None:
        raise StoreError("database is not initialised: run `doorward init` first")
    was = row.mode
    if only_from is not None and was not in only_from:
        raise ModeChanged(f"the door's mode is now {was.replace('_', ' ')}: nothing was changed")
    row.mode, row.mode_reason = new.value, why
    row.mode_changed_at, row.mode_changed_by = now_us, who
    s.flush()
    bump_rev(s)
    log_change(
        s,
        now_us,
        actor=who,
        action="set_mode",
        kind="mode",
        reason=why,
        detail={"mode": new.value, "was": was},
    )


def settings(s: Session) -> dict[str, Any]:
    """Every door setting by key."""
    return {row.key: row.value for row in s.scalars(select(DoorSetting))}


def set_setting(s: Session, now_us: int, key: str, value: Any, *, actor: str) -> None:
    """Store one JSON door setting."""
    who = v.actor(actor)
    clean = v.required_text(key, "setting name", max_len=64)
    try:
        size = len(json.dumps(value))
    except (TypeError, ValueError) as err:
        raise StoreError(f"setting {clean!r} is not JSON ({err})") from None
    if size > 20_000:
        raise StoreError(f"setting {clean!r} is {size} characters of JSON; the limit is 20000")
    row = s.get(DoorSetting, clean)
    was = None if row is None else row.value
    if row is None:
        s.add(DoorSetting(key=clean, value=value))
    else:
        row.value = value
    s.flush()
    bump_rev(s)
    detail = {"key": clean, "from": was, "to": value}
    log_change(s, now_us, actor=who, action="set_setting", detail=detail)
