"""The banner on every page: a lockdown, a door held unlocked or an alarm, with what ends it."""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any

from flask import url_for

from appliance.store import StoreError
from webui import localtime
from webui.auth import current_user
from webui.doorstate import ALARM_LABELS, StoredMode, door_now, shown_mode, stored_mode
from webui.state import state

MAY_CHANGE_MODE = ("admin", "operator")  # the roles of the door page (webui/door.py)
ALARM_TEXT = {
    "held_open": "The door has stood open longer than its held-open time. It clears when the "
    "door closes.",
    "forced_open": "The door was opened with no grant and no exit request. It clears when the "
    "door closes.",
}


@dataclass(frozen=True, slots=True)
class Alert:
    """One line of the banner: ``level`` is lockdown, held or alarm (its colour)."""

    level: str
    title: str
    text: str
    action: str | None = None
    url: str | None = None


def who(actor: str | None) -> str:
    """Who changed the mode, for people: ``operator (admin page)``."""
    if not actor:
        return "someone (not on record)"
    if actor == "button":
        return "the lockdown button at the door"
    kind, _, name = actor.partition(":")
    where = {"web": "admin page", "cli": "command line", "api": "API"}.get(kind)
    if where and name:
        return f"{name} ({where})"
    if kind == "fleet" and name:
        return f"the district ({name})"
    return actor


def _since(stored: StoredMode) -> str:
    when = f" at {localtime.show(stored.at)}" if stored.at else ""
    why = f": {stored.reason}" if stored.reason else ""
    return f"{who(stored.by)}{when}{why}"


def _lag(live: str | None, wanted: str) -> str:
    if live is None or live == wanted:
        return ""
    return " The controller has not applied it yet (it does within a second)."


def _lockdown(stored: StoredMode | None, live: str | None, can: bool) -> Alert:
    if stored is not None and stored.mode == "lockdown":
        text = f"Only responders can open this door. Started by {_since(stored)}."
        text += _lag(live, "lockdown")
        if can:
            url = url_for("door.index", _anchor="lift")
            return Alert("lockdown", "LOCKDOWN IN FORCE", text, "Lift lockdown", url)
        return Alert("lockdown", "LOCKDOWN IN FORCE", text)
    text = "The controller still holds the lockdown; the change stored reaches it within a second."
    return Alert("lockdown", "LOCKDOWN IN FORCE", text)


def _held(stored: StoredMode | None, live: str | None, can: bool) -> Alert:
    title = "DOOR HELD UNLOCKED"
    if stored is not None and stored.mode == "held_unlocked":
        text = f"Anyone can walk in. Held unlocked by {_since(stored)}."
        text += _lag(live, "held_unlocked")
        if can:
            return Alert("held", title, text, "End the hold", url_for("door.index", _anchor="hold"))
        return Alert("held", title, text)
    text = (
        "Anyone can walk in: the door's unlock schedule holds it open now, and it locks "
        "again when the schedule's window ends."
    )
    if can:
        url = url_for("door.index", _anchor="lockdown")
        return Alert("held", title, text, "Lock it now (lockdown)", url)
    return Alert("held", title, text)


def _sentence(text: object) -> str:
    """A control error as a sentence: ``No controller is running for … .``."""
    words = str(text or "no reason given").rstrip(".")
    return f"{words[:1].upper()}{words[1:]}."


def _alarms(door: dict[str, Any]) -> list[Alert]:
    out: list[Alert] = []
    if not door.get("running"):
        if door.get("stopped"):
            text = f"No fob opens this door until it runs again. {_sentence(door.get('error'))}"
            out.append(Alert("alarm", "DOOR CONTROLLER NOT RUNNING", text))
        else:
            text = f"The mode shown is the stored one. {_sentence(door.get('error'))}"
            out.append(Alert("alarm", "DOOR CONTROLLER NOT ANSWERING", text))
        return out
    alarms = door.get("alarms")
    for name in alarms if isinstance(alarms, list) else []:
        title = ALARM_LABELS.get(str(name), str(name).replace("_", " ")).upper()
        out.append(Alert("alarm", title, ALARM_TEXT.get(str(name), "An alarm from the door.")))
    if door.get("degraded"):
        text = (
            "The controller cannot read the database: it decides from its last view of the "
            "cards, and changes made here do not reach the door until it can read it again."
        )
        out.append(Alert("alarm", "DATABASE UNREADABLE", text))
    reader = door.get("reader")
    faults = reader.get("wiring_faults") if isinstance(reader, dict) else None
    if isinstance(faults, int) and faults > 0:
        last = reader.get("last_fault") if isinstance(reader, dict) else None
        text = (
            f"{faults:,} since the controller started (last: {last or 'not described'}). "
            "Cards may not read: check the reader's D0/D1 wiring."
        )
        out.append(Alert("alarm", "READER WIRING FAULT", text))
    return out


def alerts(*, ask: bool = True) -> list[Alert]:
    """What the banner shows now (nothing in normal mode with no alarm).

    ``ask=False`` (error pages): from the store alone, without asking the controller.
    """
    user = current_user()
    can = user is not None and user.role in MAY_CHANGE_MODE
    out: list[Alert] = []
    stored: StoredMode | None
    try:
        stored = stored_mode()
    except StoreError as exc:
        stored = None
        text = f"This page cannot read the door's stored mode: {exc}"
        out.append(Alert("alarm", "DATABASE UNREADABLE", text))
    door: dict[str, Any] | None = None
    # No controller and no store either: the alert above says what is known.
    with contextlib.suppress(StoreError):
        door = door_now() if ask else None
    live = str(door.get("mode")) if door and door.get("running") else None
    shown = shown_mode(stored.mode if stored else None, live)
    if shown == "lockdown":
        out.insert(0, _lockdown(stored, live, can))
    elif shown == "held_unlocked":
        out.insert(0, _held(stored, live, can))
    if door is not None:
        out.extend(_alarms(door))
    return out


def page_alerts(*, ask: bool = True) -> list[Alert]:
    """The banner of the page being drawn: for a signed-in account only."""
    return alerts(ask=ask) if current_user() else []


def page_context() -> dict[str, Any]:
    """Every page's door name, and the banner as a function base.html calls once."""
    return {"door_name": state().config.door.name, "door_alerts": page_alerts}


def alerts_json() -> list[dict[str, Any]]:
    """The banner as data, for the dashboard's poll."""
    return [asdict(a) for a in alerts()]
