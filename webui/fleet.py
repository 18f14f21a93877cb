"""Fleet: this box's link to the district, as the fleet agent (a separate process) last wrote it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from flask import Blueprint, render_template

from webui import localtime
from webui.auth import ANY_ROLE, require_role
from webui.state import state

bp = Blueprint("fleet", __name__, url_prefix="/fleet")
NOT_A_MEMBER = "Not part of a fleet: this box's config has no [fleet] section."
NOT_REPORTED = "the fleet agent has not reported yet (is doorward fleet-agent running?)"
# What the agent writes (appliance/store/fleet/link.py), in the order the page shows it.
LABELS = {
    "connected": "Link to the broker",
    "broker": "Broker",
    "district": "District",
    "box_id": "Box id",
    "school": "School",
    "door": "Door",
    "list_version": "Card list version",
    "list_applied_at": "Card list applied",
    "last_message_at": "Last message from the district",
    "outbox_pending": "Events waiting to go home",
    "shipped_event_id": "Last event shipped home (id)",
    "held_changes": "Changes held until the ones before them arrive",
    "rejections": "Messages rejected",
    "last_rejection": "Last rejection",
    "conflicts": "Conflicts with local cards",
    "mode": "Door mode (as the agent saw it)",
    "alarms": "Alarms (as the agent saw them)",
    "software": "Software version",
    "at": "Reported by the agent",
    "updated_at": "Reported by the agent",
}
SINCE = ("since", "connected_since")  # when the link last went up or down, if the agent says
HIDDEN = {*SINCE, "online"}  # shown as part of "connected"
TIMES = {"at", "since", "connected_since"}  # besides every key ending in _at
SHOWN_LINES = 5
CONFIG_KEYS = ("broker", "district", "box_id", "school")


def fleet_config() -> Any | None:
    """The config's ``[fleet]`` section, or None when the box is not part of a fleet."""
    return getattr(state().config, "fleet", None)


def public_broker(url: object) -> str:
    """A broker URL without any password in it (it is shown to every signed-in role)."""
    text = str(url)
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(unreadable URL)"
    if parts.password is None and parts.username is None:
        return text
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, f"{user}{host}{port}", parts.path, parts.query, ""))


def _time(value: object) -> str:
    """An ISO 8601 time with an offset, or Unix seconds, in the box's zone; anything else as is."""
    when: datetime | None = None
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
        if when.utcoffset() is None:
            return value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            when = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return str(value)
    return _plain(value) if when is None else localtime.show(when)


def _plain(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _lines(value: object) -> str:
    if not isinstance(value, list) or not value:
        return _plain(value)
    more = len(value) - SHOWN_LINES
    return "; ".join(_plain(v) for v in value[:SHOWN_LINES]) + (
        f" (and {more} more)" if more > 0 else ""
    )


def _show(key: str, value: object, status: dict[str, Any]) -> str:
    if key == "connected":
        word = "connected" if value is True else "not connected"
        since = next((status[k] for k in SINCE if k in status), None)
        return word if since is None else f"{word} since {_time(since)}"
    if key == "broker":
        return public_broker(value)
    if key == "last_rejection" and isinstance(value, dict):
        at = _time(value["at"]) + " " if "at" in value else ""
        topic = f"on {value['topic']}: " if value.get("topic") else ""
        detail = f" ({_plain(value['detail'])})" if value.get("detail") else ""
        return f"{at}{topic}{_plain(value.get('reason'))}{detail}"
    if key == "conflicts":
        return _lines(value)
    if key.endswith("_at") or key in TIMES:
        return _time(value)
    return _plain(value)


def facts(status: dict[str, Any], config: Any | None) -> list[tuple[str, str]]:
    """(label, text) for every fact the agent reported, known ones first; config fills gaps."""
    merged = {k: getattr(config, k, None) for k in CONFIG_KEYS if config is not None}
    merged = {k: val for k, val in merged.items() if val is not None}
    merged.update(status)
    known = [(LABELS[k], _show(k, merged[k], merged)) for k in LABELS if k in merged]
    if "connected" not in merged and config is not None:
        known.insert(0, (LABELS["connected"], NOT_REPORTED))
    rest = sorted(k for k in merged if k not in LABELS and k not in HIDDEN)
    return known + [(k.replace("_", " ").capitalize(), _show(k, merged[k], merged)) for k in rest]


def summary() -> str:
    """One line for the dashboard: the link, the card list version, what is waiting to go home."""
    config = fleet_config()
    if config is None:
        return NOT_A_MEMBER
    status = state().store.fleet.status()
    if "connected" not in status:
        return f"Fleet: {NOT_REPORTED}."
    parts = [_show("connected", status["connected"], status)]
    if "list_version" in status:
        parts.append(f"card list version {_plain(status['list_version'])}")
    if "outbox_pending" in status:
        parts.append(f"{_plain(status['outbox_pending'])} event(s) waiting to go home")
    if status.get("rejections"):
        parts.append(f"{_plain(status['rejections'])} message(s) rejected")
    return "Fleet: " + ", ".join(parts) + "."


@bp.route("")
@require_role(*ANY_ROLE)
def index() -> str:
    """The link to the district: connected or not, the card list applied, the event backlog."""
    config = fleet_config()
    status = state().store.fleet.status()
    return render_template(
        "fleet/index.html",
        member=config is not None,
        facts=facts(status, config),
        not_a_member=NOT_A_MEMBER,
        reported=bool(status),
    )
