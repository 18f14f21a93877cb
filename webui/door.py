"""Lockdown on/off, ending a hold, momentary unlock: each needs a reason and a confirmation step."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.control import MAX_TEXT, ControlError
from appliance.store import ModeChanged, StoreError
from webui.auth import actor, require_role
from webui.doorstate import door_now, mode_label, stored_mode
from webui.forms import Form
from webui.state import Applied, state

LOG = logging.getLogger(__name__)
bp = Blueprint("door", __name__, url_prefix="/door")
REASON_MAX = MAX_TEXT  # the control socket's limit for an unlock reason
Page = str | tuple[str, int] | WerkzeugResponse

# action -> (what the confirmation page asks, the mode it stores or None for an unlock)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "lockdown_on": ("Put the door in lockdown", "lockdown"),
    "lockdown_off": ("Lift lockdown", "normal"),
    "hold_off": ("End the hold (lock the door)", "normal"),
    "unlock": ("Unlock the door once", None),
}
# The stored modes each action is offered in; posted in another, it changes nothing.
OFFERED = {
    "lockdown_on": ("normal", "held_unlocked"),
    "lockdown_off": ("lockdown",),
    "hold_off": ("held_unlocked",),
    "unlock": ("normal", "lockdown"),
}
NOT_NOW = {
    "lockdown_on": "the door is already in lockdown",
    "lockdown_off": "the door is not in lockdown",
    "hold_off": "the door is not held unlocked",
    "unlock": "the door is held unlocked already",
}
DANGER = {"lockdown_on"}  # styled as the danger it is; the others as ordinary actions


def _page(form: Form) -> str:
    """The door page: the mode and the actions offered in it."""
    mode = stored_mode().mode
    offered = {a: t for a, t in ACTIONS.items() if mode in OFFERED[a]}
    return render_template(
        "door/index.html", door=door_now(), form=form, actions=offered, danger=DANGER
    )


@bp.route("")
@require_role("admin", "operator")
def index() -> str:
    """The door's mode and the actions that apply in it."""
    return _page(Form({}))


@bp.route("/<action>", methods=["POST"])
@require_role("admin", "operator")
def act(action: str) -> Page:
    """First post: check the reason and ask to confirm. Second post (confirm=yes): do it."""
    if action not in ACTIONS:
        return render_template("error.html", code=404, message="no such door action"), 404
    title, mode = ACTIONS[action]
    form = Form(request.form)
    reason = form.text("reason", "Reason", max_len=REASON_MAX)
    if reason is None:
        return _page(form), 400
    now = stored_mode().mode
    if now not in OFFERED[action]:
        form.error(
            "reason", f"{NOT_NOW[action]} (it is {mode_label(now).lower()}): nothing was changed"
        )
        return _page(form), 409
    if request.form.get("confirm") != "yes":
        return render_template(
            "door/confirm.html", action=action, title=title, reason=reason, danger=DANGER
        )
    st = state()
    who = actor()
    if mode is None:
        try:
            st.control.unlock(reason, actor=who)
        except ControlError as exc:
            form.error("reason", f"the door was not unlocked: {exc}")
            return _page(form), 503
        flash("The door was unlocked once.", "ok")
        return redirect(url_for("door.index"))
    try:
        st.store.door.set_mode(mode, reason=reason, actor=who, only_from=OFFERED[action])
    except ModeChanged as exc:  # changed since the page was drawn (the button, the district)
        form.error("reason", str(exc))
        return _page(form), 409
    except StoreError as exc:
        form.error("reason", f"nothing was changed: {exc}")
        return _page(form), 503
    LOG.info("%s set the door mode to %s: %s", who, mode, reason)
    label = mode_label(mode).lower()
    applied = st.confirm()
    if applied is Applied.AT_THE_DOOR:
        flash(f"Door mode is now {label}; the controller has been told and has applied it.", "ok")
    elif applied is Applied.NOT_CONFIRMED:
        flash(f"Door mode {label}: {applied.note('')}.", "warn")
    else:
        flash(
            f"Door mode {label} is stored, but no controller is running: "
            "it applies when the controller starts.",
            "warn",
        )
    return redirect(url_for("door.index"))
