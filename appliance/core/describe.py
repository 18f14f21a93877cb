"""Every audit event as a sentence a school office understands (pure: no I/O).

The CLI, the admin page, the CSV export and the district console all print events through
``sentence``; a kind or an admin action it does not know still reads as a plain sentence.
The kinds themselves, with their filter labels, are in ``appliance.core.event_kinds``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from appliance.core.event_words import (
    ALARMS,
    DENIED,
    MODES,
    STATUS_DONE,
    EventLike,
    by,
    cap,
    fob,
    person,
    with_reason,
)

__all__ = ["ACTIONS", "EventLike", "by", "fob", "mode_after", "sentence"]


def _granted(e: EventLike, d: Mapping[str, Any]) -> str:
    parts = [person(e)]
    if d.get("group"):
        parts.append(str(d["group"]))
    if d.get("mode") in MODES:
        parts.append(f"during {MODES[str(d['mode'])]}")
    if d.get("degraded"):
        parts.append("decided from memory (database unreadable)")
    return "Granted: " + ", ".join(parts)


def _denied(e: EventLike, d: Mapping[str, Any]) -> str:
    why = e.reason or ""
    if why == "unknown card":
        return f"Denied: unknown {fob(None, e.credential)}"
    if why == "reader fault":
        frame = d.get("frame")
        return "Denied: the reader sent a garbled read" + (f" ({frame})" if frame else "")
    who = fob(e.serial, e.credential, e.holder)
    phrase = DENIED.get(why)
    text = f"Denied: {who} {phrase}" if phrase else with_reason(f"Denied: {who}", why)
    if d.get("mode") == "lockdown" and why != "lockdown":
        text += " (during lockdown)"
    return text


def _mode(e: EventLike, d: Mapping[str, Any]) -> str:
    new, was, who = d.get("mode"), d.get("was"), by(e.actor)
    if new == "lockdown":
        text = f"Lockdown started by {who}"
    elif new == "held_unlocked":
        text = f"Door held unlocked by {who}"
    elif new == "normal" and was == "lockdown":
        text = f"Lockdown lifted by {who}"
    elif new == "normal" and was == "held_unlocked":
        text = f"Door hold ended by {who}: locked as normal"
    elif new == "normal":
        text = f"Door set to normal by {who}"
    else:
        text = f"Door mode set to {new or 'an unknown mode'} by {who}"
    return with_reason(text, e.reason)


def _schedule(e: EventLike, d: Mapping[str, Any]) -> str:
    if d.get("mode") == "held_unlocked" or e.reason == "held unlocked by schedule":
        return "Door held unlocked by its schedule"
    if e.reason == "unlock schedule ended":
        return "Unlock schedule ended: the door is back to " + MODES.get(
            str(d.get("mode")), "its mode"
        )
    return with_reason("Unlock schedule", e.reason)


def _alarm_cleared(e: EventLike, d: Mapping[str, Any]) -> str:
    name, _, rest = (e.reason or "").partition(" cleared")
    what = ALARMS.get(name, name.replace("_", " ") or "alarm")
    why = rest.lstrip(": ")
    return f"Alarm over: {what}" + (f" ({why})" if why else "")


def _controller(e: EventLike, d: Mapping[str, Any]) -> str:
    if e.reason == "started":
        backend = d.get("backend")
        return "Controller started" + (f" ({backend} back-end)" if backend else "")
    if e.reason == "stopped":
        return "Controller stopped"
    return with_reason("Controller", e.reason)


def _fleet(e: EventLike, d: Mapping[str, Any]) -> str:
    version = d.get("version")
    if d.get("action") == "apply_snapshot":
        text = "District list" + (f" version {version}" if version is not None else "")
        text += " applied whole"
    else:
        text = "District changes applied"
        text += f" (list version {version})" if version is not None else ""
    counts = [f"{d.get(k, 0)} {k}" for k in ("added", "updated", "removed")]
    conflicts = d.get("conflicts")
    if isinstance(conflicts, list) and conflicts:
        counts.append(f"{len(conflicts)} left out (local cards in the way)")
    return f"{text}: {', '.join(counts)}"


def _fleet_rejected(e: EventLike, d: Mapping[str, Any]) -> str:
    topic = d.get("topic")
    text = f"District message refused{f' on {topic}' if topic else ''}"
    return with_reason(text, e.reason)


def _door(text: str) -> Callable[[EventLike, Mapping[str, Any]], str]:
    return lambda e, d: text


_BY_KIND: dict[str, Callable[[EventLike, Mapping[str, Any]], str]] = {
    "granted": _granted,
    "denied": _denied,
    "pin_wait": lambda e, d: f"Waiting for the PIN of {fob(e.serial, e.credential, e.holder)}",
    "mode": _mode,
    "schedule": _schedule,
    "unlock": lambda e, d: with_reason(f"Door unlocked once by {by(e.actor)}", e.reason),
    "unlocked": _door("Door unlocked (strike released)"),
    "locked": _door("Door locked (strike locked)"),
    "door_open": lambda e, d: cap(e.reason or "door opened"),
    "door_closed": _door("Door closed"),
    "rex": lambda e, d: (
        "Request to exit: door unlocked"
        if (e.reason or "").endswith("unlocked")
        else "Request to exit: alarm shunted, door kept locked"
    ),
    "alarm": lambda e, d: with_reason("Alarm", e.reason),
    "alarm_cleared": _alarm_cleared,
    "fault": lambda e, d: with_reason("Fault", e.reason),
    "fault_cleared": lambda e, d: with_reason("Fault over", e.reason),
    "reader_fault": lambda e, d: with_reason("Reader wiring fault", e.reason),
    "fleet": _fleet,
    "fleet_rejected": _fleet_rejected,
    "controller": _controller,
}


def _card_change(e: EventLike, d: Mapping[str, Any]) -> str:
    """The fob an admin change is about, capitalised: ``Fob CPD-0043 (Jane Smith)``."""
    return cap(fob(e.serial, e.credential, e.holder))


def _changed_keys(d: Mapping[str, Any], skip: tuple[str, ...]) -> str:
    keys = [k.replace("_", " ") for k in d if k not in ("action", *skip)]
    return ", ".join(keys)


def _add_credential(e: EventLike, d: Mapping[str, Any]) -> str:
    name = cap(fob(e.serial, e.credential))
    to = f" to {e.holder}" if e.holder else ""
    group = f" ({d['group']})" if d.get("group") else ""
    return f"{name} issued{to}{group} by {by(e.actor)}"


def _update_credential(e: EventLike, d: Mapping[str, Any]) -> str:
    parts = []
    for key in ("holder", "group"):
        change = d.get(key)
        if isinstance(change, Mapping):
            parts.append(f"{key} {change.get('from') or 'none'} → {change.get('to') or 'none'}")
    for key, label in (("valid_from_us", "valid from"), ("valid_until_us", "valid until")):
        if isinstance(d.get(key), Mapping):
            parts.append(f"{label} changed")
    if d.get("pin") in ("set", "cleared"):
        parts.append(f"PIN {d['pin']}")
    return f"{_card_change(e, d)} edited by {by(e.actor)}: {'; '.join(parts) or 'no change'}"


def _set_status(e: EventLike, d: Mapping[str, Any]) -> str:
    status = str(d.get("status", ""))
    done = STATUS_DONE.get(status, f"set to {status or 'an unknown status'}")
    return with_reason(f"{_card_change(e, d)} {done} by {by(e.actor)}", e.reason)


def _import(e: EventLike, d: Mapping[str, Any]) -> str:
    name = cap(fob(e.serial, e.credential))
    to = f" for {e.holder}" if e.holder else ""
    line = f" (line {d['line']})" if d.get("line") else ""
    status = str(d.get("status", "issued"))
    state = "" if status == "issued" else f", {STATUS_DONE.get(status, status)}"
    return f"{name} imported{to}{state} by {by(e.actor)}{line}"


def _user(verb: str) -> Callable[[EventLike, Mapping[str, Any]], str]:
    def text(e: EventLike, d: Mapping[str, Any]) -> str:
        if verb == "added" and d.get("first"):
            return f"First admin account {d.get('username')} created"
        role = f" ({d['role']})" if verb == "added" and d.get("role") else ""
        return f"Account {d.get('username')}{role} {verb} by {by(e.actor)}"

    return text


def _token(verb: str) -> Callable[[EventLike, Mapping[str, Any]], str]:
    def text(e: EventLike, d: Mapping[str, Any]) -> str:
        again = " (replacing the old one)" if verb == "created" and d.get("replaced") else ""
        return f"API token {verb} for {d.get('username')}{again} by {by(e.actor)}"

    return text


def _login(e: EventLike, d: Mapping[str, Any]) -> str:
    client = f" from {d['client']}" if d.get("client") else ""
    return f"Sign-in by {by(e.actor)}{client}"


def _login_failed(e: EventLike, d: Mapping[str, Any]) -> str:
    client = f" from {d['client']}" if d.get("client") else ""
    return f"Sign-in failed for {by(e.actor)}{client}"


def _login_locked(e: EventLike, d: Mapping[str, Any]) -> str:
    client = f" from {d['client']}" if d.get("client") else ""
    minutes = d.get("seconds")
    span = f" for {round(minutes / 60)} min" if isinstance(minutes, int | float) else ""
    return f"Sign-in to {d.get('target') or '?'}{client} throttled{span}" + (
        f": {e.reason}" if e.reason else ""
    )


def _logout(e: EventLike, d: Mapping[str, Any]) -> str:
    client = f" from {d['client']}" if d.get("client") else ""
    return f"Sign-out by {by(e.actor)}{client}: every session of the account ended"


def _setting(e: EventLike, d: Mapping[str, Any]) -> str:
    key = str(d.get("key", "?")).replace("_", " ")
    return f"Door setting {key} changed from {d.get('from')} to {d.get('to')} by {by(e.actor)}"


def _review(e: EventLike, d: Mapping[str, Any]) -> str:
    who = person(e)
    incident = f", incident {d['incident']}" if d.get("incident") else ""
    text = f"Responder entry #{d.get('event_id')} ({who}) reviewed by {by(e.actor)}{incident}"
    return with_reason(text, e.reason)


def _fleet_credential(e: EventLike, d: Mapping[str, Any]) -> str:
    changed = _changed_keys(d, ())
    return f"{_card_change(e, d)} changed by the district list" + (
        f": {changed}" if changed else ""
    )


_BY_ACTION: dict[str, Callable[[EventLike, Mapping[str, Any]], str]] = {
    "add_credential": _add_credential,
    "set_status": _set_status,
    "update_credential": _update_credential,
    "set_pin": lambda e, d: f"PIN set for {fob(e.serial, e.credential, e.holder)} by {by(e.actor)}",
    "clear_pin": lambda e, d: (
        f"PIN removed from {fob(e.serial, e.credential, e.holder)} by {by(e.actor)}"
    ),
    "import_csv": _import,
    "add_holder": lambda e, d: f"Holder {e.holder} added by {by(e.actor)}",
    "update_holder": lambda e, d: (
        f"Holder {e.holder} changed by {by(e.actor)}: {_changed_keys(d, ())}"
    ),
    "add_agency": lambda e, d: f"Agency {d.get('agency')} ({d.get('kind')}) added by {by(e.actor)}",
    "officer_status": lambda e, d: (
        f"Officer {e.holder} marked {str(d.get('status')).replace('_', ' ')} by {by(e.actor)}"
        + (f": {e.reason}" if e.reason else "")
    ),
    "add_group": lambda e, d: f"Group {d.get('group')} added by {by(e.actor)}",
    "update_group": lambda e, d: (
        f"Group {d.get('group')} changed by {by(e.actor)}: {_changed_keys(d, ('group',))}"
    ),
    "set_mode": _mode,
    "set_setting": _setting,
    "add_user": _user("added"),
    "disable_user": _user("disabled"),
    "enable_user": _user("enabled again"),
    "create_api_token": _token("created"),
    "revoke_api_token": _token("revoked"),
    "login": _login,
    "login_failed": _login_failed,
    "login_locked": _login_locked,
    "logout": _logout,
    "set_role": lambda e, d: (
        f"Account {d.get('username')} changed from {d.get('was')} to {d.get('role')} "
        f"by {by(e.actor)}"
    ),
    "reset_password": lambda e, d: (
        f"Password of {d.get('username')} reset by {by(e.actor)} "
        "(a temporary one, to be replaced at the next sign-in"
        + ("; its API token revoked)" if d.get("api_token_revoked") else ")")
    ),
    "change_password": lambda e, d: f"Password of {d.get('username')} changed by {by(e.actor)}",
    "review": _review,
    "fleet_remove": lambda e, d: f"{_card_change(e, d)} revoked: removed from the district list",
    "fleet_credential": _fleet_credential,
    "apply_snapshot": _fleet,
    "apply_changes": _fleet,
}


def _generic(e: EventLike, d: Mapping[str, Any]) -> str:
    """A kind or action this module does not know: still a sentence, never a crash."""
    action = d.get("action")
    name = str(action if isinstance(action, str) and action else e.kind or "event")
    text = cap(name.replace("_", " "))
    if e.serial or e.credential or e.holder:
        text += f" ({fob(e.serial, e.credential, e.holder)})"
    if e.actor:
        text += f" by {by(e.actor)}"
    return with_reason(text, e.reason)


def sentence(event: EventLike) -> str:
    """The event as one sentence: ``Lockdown lifted by alice: drill over``."""
    detail = event.detail if isinstance(event.detail, Mapping) else {}
    action = detail.get("action")
    try:
        if event.kind in _BY_KIND:
            return _BY_KIND[event.kind](event, detail)
        if isinstance(action, str) and action in _BY_ACTION:
            return _BY_ACTION[action](event, detail)
        return _generic(event, detail)
    except (TypeError, ValueError, KeyError, AttributeError):  # odd detail from an old box
        return _generic(event, detail)


def mode_after(event: EventLike) -> str | None:
    """The door's mode after a mode change (lockdown, schedule), or None for other events."""
    if event.kind not in ("mode", "schedule") or not isinstance(event.detail, Mapping):
        return None
    mode = event.detail.get("mode")
    return mode if isinstance(mode, str) else None


ACTIONS = frozenset(_BY_ACTION)
