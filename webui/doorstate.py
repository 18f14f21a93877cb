"""The door now for every page: the controller's status (never waited on for long), the stored mode.

A page must never hang on the controller: it asks with a short timeout, and after a timeout it
stops asking for a while and shows the mode the store holds, which is the mode the door applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app, g

from appliance.control import BANNER_TIMEOUT, NOT_RUNNING, ControlError
from appliance.store import StoreError
from webui.state import state

STATUS_TIMEOUT = BANNER_TIMEOUT  # seconds a page waits for the controller's status
QUIET_SECONDS = 10.0  # after a timeout, pages stop asking for this long
MODE_LABELS = {"normal": "Normal", "lockdown": "Lockdown", "held_unlocked": "Held unlocked"}
MODE_NOTES = {
    "normal": "fobs open the door by their group and its schedule",
    "lockdown": "only responders (lockdown-immune groups) can open the door",
    "held_unlocked": "the door is unlocked: anyone can walk in",
}
ALARM_LABELS = {"held_open": "door held open", "forced_open": "door forced open"}


@dataclass(frozen=True, slots=True)
class StoredMode:
    """The mode the store holds, and who set it, when and why (from its ``mode`` event)."""

    mode: str
    reason: str | None
    by: str | None
    at: datetime | None


def mode_label(mode: object) -> str:
    """A mode as people read it: ``Held unlocked``."""
    return MODE_LABELS.get(str(mode), str(mode).replace("_", " ").capitalize())


def alarm_text(alarms: object) -> str:
    """The controller's alarm names in words, or ``none``."""
    if not isinstance(alarms, list | tuple) or not alarms:
        return "none"
    return ", ".join(ALARM_LABELS.get(str(a), str(a).replace("_", " ")) for a in alarms)


def door_now() -> dict[str, Any]:
    """The controller's status with ``running`` True, or the stored mode and why there is none.

    Asked once per request: the dashboard, the door page and every page's banner share it.
    """
    found: dict[str, Any] | None = g.get("doorward_door_now")
    if found is None:
        found = _ask()
        found.update(_shown(found))
        found["alarm_text"] = alarm_text(found.get("alarms"))
        g.doorward_door_now = found
    return found


def shown_mode(stored: str | None, live: str | None) -> str:
    """The mode people are shown: a lockdown or a hold that either side holds wins."""
    modes = {stored, live}
    for mode in ("lockdown", "held_unlocked"):
        if mode in modes:
            return mode
    return str(live or stored)


def _shown(door: dict[str, Any]) -> dict[str, str]:
    """The big mode on the page, with a note when the controller and the store differ."""
    live = str(door.get("mode"))
    if not door.get("running"):
        return {
            "shown_mode": live,
            "mode_label": mode_label(live),
            "mode_note": MODE_NOTES.get(live, ""),
        }
    try:
        stored = stored_mode().mode
    except StoreError:
        stored = live
    shown = shown_mode(stored, live)
    note = MODE_NOTES.get(shown, "")
    if stored == "normal" and live == "held_unlocked":
        note += " (held by the door's unlock schedule)"
    elif stored != live:
        note += (
            f" (stored: {mode_label(stored).lower()}; the controller is "
            f"{mode_label(live).lower()} until it applies it, within a second)"
        )
    return {"shown_mode": shown, "mode_label": mode_label(shown), "mode_note": note}


def stored_mode() -> StoredMode:
    """The stored mode, with the event that set it unless it is normal; raises StoreError."""
    found: StoredMode | None = g.get("doorward_stored_mode")
    if found is None:
        store = state().store
        mode, reason = store.door.mode()
        by = at = None
        if mode.value != "normal":
            last = store.events.query(limit=1, kinds=["mode"])
            if last:
                by, at = last[0].actor, last[0].ts
        found = g.doorward_stored_mode = StoredMode(mode.value, reason, by, at)
    return found


def _ask() -> dict[str, Any]:
    st = state()
    now = st.clock()
    if now < st.quiet_until:
        return _stored(
            "the controller did not answer in time a moment ago; this page asks again shortly",
            stopped=False,
        )
    timeout = float(current_app.config.get("STATUS_TIMEOUT", STATUS_TIMEOUT))
    try:
        status = dict(st.status(timeout=timeout))
    except ControlError as exc:
        stopped = str(exc).startswith(NOT_RUNNING)
        if not stopped:  # it timed out or answered nonsense: do not make every page wait
            st.quiet_until = now + QUIET_SECONDS
        return _stored(str(exc), stopped=stopped)
    except (KeyError, TypeError, ValueError):
        return _stored("the controller sent a status this page does not understand", stopped=False)
    status["running"] = True
    status["clock"] = clock_text(status.get("clock_synchronised"))
    return status


def _stored(error: str, *, stopped: bool) -> dict[str, Any]:
    mode, reason = state().store.door.mode()
    return {
        "running": False,
        "stopped": stopped,
        "error": error,
        "mode": mode.value,
        "mode_reason": reason,
    }


def clock_text(synchronised: object) -> str:
    """The controller's clock for people (a Pi has no RTC: until NTP answers, time is a guess)."""
    if synchronised is not False:
        return "synchronised"
    if state().config.clock.unsynced_policy == "allow":
        then = "schedules follow it anyway"
    else:
        then = "scheduled groups are refused until it is"
    return f"not synchronised yet (no time server has answered): {then}; responders always open"
