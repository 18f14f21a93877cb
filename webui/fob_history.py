"""A fob's history on its page: its events as readable lines, newest first, a page at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from appliance.store import EventRow
from appliance.store.rows import opt_us_to_datetime
from webui import localtime
from webui.events import describe
from webui.state import state

PAGE_SIZE = 50
_FIELDS = {"holder": "holder", "group": "group"}
_BOUNDS = {"valid_from_us": "valid from", "valid_until_us": "valid until"}


def _bound(us: object) -> str:
    if not isinstance(us, int) or isinstance(us, bool):
        return "none"
    return localtime.show(opt_us_to_datetime(us))


def _edit(detail: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for key, label in _FIELDS.items():
        change = detail.get(key)
        if isinstance(change, Mapping):
            parts.append(f"{label} {change.get('from')} → {change.get('to')}")
    for key, label in _BOUNDS.items():
        change = detail.get(key)
        if isinstance(change, Mapping):
            parts.append(f"{label} {_bound(change.get('from'))} → {_bound(change.get('to'))}")
    if detail.get("pin") in ("set", "cleared"):
        parts.append(f"PIN {detail['pin']}")
    return "edited: " + ("; ".join(parts) or "no change")


def sentence(event: EventRow) -> str:
    """What an event of this fob says, in words: short for the fob's own page, else the sentence."""
    detail = event.detail or {}
    action = detail.get("action") if event.kind == "admin" else None
    why = f" ({event.reason})" if event.reason and event.reason != event.kind else ""
    if event.kind in ("granted", "denied"):
        return f"{event.kind} at the door{why}"
    if action == "add_credential":
        return f"issued, group {detail.get('group')}" + (
            ", with a PIN" if detail.get("pin") else ""
        )
    if action == "set_status":
        return f"status {detail.get('was')} → {detail.get('status')}{why}"
    if action == "update_credential":
        return _edit(detail)
    if action in ("set_pin", "clear_pin"):
        return "PIN set" if action == "set_pin" else "PIN cleared"
    return describe(event)


def page(
    credential: tuple[str, int | None, int], before: int | None
) -> tuple[list[EventRow], bool]:
    """One page of the fob's events older than ``before`` (None: the newest), and if more exist."""
    rows = state().store.cards.history(credential, limit=PAGE_SIZE + 1, before_id=before)
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
