"""The dashboard: the door now (from the controller, or the stored mode), and the latest events."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, render_template, request

from appliance.core.describe import sentence
from appliance.store import EventRow, StoreError
from webui import banner, fleet, localtime, readable
from webui.auth import ANY_ROLE, require_role
from webui.doorstate import door_now
from webui.state import state

__all__ = ["bp", "door_now", "event_json"]
bp = Blueprint("dashboard", __name__)
# Every page of the app gets the door's name and the banner (lockdown, held unlocked, alarms).
bp.app_context_processor(banner.page_context)
RECENT = 20
MAX_POLL = 50


def event_json(event: EventRow) -> dict[str, Any]:
    """An event as the page shows it (text only: the page inserts it with textContent)."""
    return {
        "id": event.id,
        "time": localtime.show(event.ts),
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
    events = state().store.events.query(limit=RECENT)
    door = door_now()
    return render_template(
        "dashboard/index.html",
        door=door,
        events=events,
        fleet=fleet.summary(),
        show=localtime.show,
        zone=localtime.zone_label(),
        reader=readable.reader_summary(door.get("reader"), door.get("uptime_s")),
        latency=readable.latency_rows(door.get("latency_us")),
    )


@bp.route("/dashboard/live.json")
@require_role(*ANY_ROLE)
def live() -> dict[str, Any]:
    """Events after ``after`` (oldest first), the door now and the banner: polled every 2 s."""
    raw = request.args.get("after", "0")
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        abort(400, description="'after' must be an event id (a whole number)")
    try:
        events = state().store.events.query(after_id=int(raw), limit=MAX_POLL, newest_first=False)
    except StoreError as exc:
        abort(503, description=str(exc))
    return {
        "events": [event_json(e) for e in events],
        "door": door_now(),
        "alerts": banner.alerts_json(),
    }
