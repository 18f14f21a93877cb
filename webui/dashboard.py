"""The dashboard: the door now (from the controller, or the stored mode), and the latest events."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from appliance.controller.control import ControlError
from appliance.core.describe import sentence
from appliance.store import EventRow, StoreError
from webui import fleet
from webui.auth import ANY_ROLE, require_role
from webui.state import state

bp = Blueprint("dashboard", __name__)
RECENT = 20
MAX_POLL = 50


def door_now() -> dict[str, Any]:
    """The controller's status with ``running`` True, or the stored mode and why there is none."""
    st = state()
    try:
        status = dict(st.control("status")["status"])
    except ControlError as exc:
        mode, reason = st.store.door_mode()
        return {"running": False, "error": str(exc), "mode": mode.value, "mode_reason": reason}
    except (KeyError, TypeError):
        mode, reason = st.store.door_mode()
        return {
            "running": False,
            "error": "the controller sent a status this page does not understand",
            "mode": mode.value,
            "mode_reason": reason,
        }
    status["running"] = True
    status["clock"] = clock_text(status.get("clock_synchronised"))
    return status


def clock_text(synchronised: object) -> str:
    """The controller's clock for people (a Pi has no RTC: until NTP answers, time is a guess)."""
    if synchronised is not False:
        return "synchronised"
    if state().config.clock.unsynced_policy == "allow":
        then = "schedules follow it anyway"
    else:
        then = "scheduled groups are refused until it is"
    return f"not synchronised yet (no time server has answered): {then}; responders always open"


def event_json(event: EventRow) -> dict[str, Any]:
    """An event as the page shows it (text only: the page inserts it with textContent)."""
    return {
        "id": event.id,
        "time": event.ts.isoformat(timespec="seconds"),
        "kind": event.kind,
        "reason": event.reason or "",
        "credential": event.credential or "",
        "holder": event.holder or "",
        "serial": event.serial or "",
        "actor": event.actor or "",
        "text": sentence(event),
    }


@bp.route("/")
@require_role(*ANY_ROLE)
def index() -> str:
    """The door now, the link to the district in one line, and the last events."""
    events = state().store.query_events(limit=RECENT)
    return render_template(
        "dashboard/index.html", door=door_now(), events=events, fleet=fleet.summary()
    )


@bp.route("/dashboard/live.json")
@require_role(*ANY_ROLE)
def live() -> dict[str, Any]:
    """Events after ``after`` (oldest first) and the door now: the page polls this every 2 s."""
    raw = request.args.get("after", "0")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        abort(400, description="'after' must be an event id (a whole number)")
    try:
        events = state().store.query_events(after_id=int(raw), limit=MAX_POLL, newest_first=False)
    except StoreError as exc:
        abort(503, description=str(exc))
    return {"events": [event_json(e) for e in events], "door": door_now()}
