"""Lockdown on/off and momentary unlock: each needs a reason and a confirmation step."""

from __future__ import annotations

import logging

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.controller.control import ControlError
from appliance.store import StoreError
from webui.auth import actor, require_role
from webui.dashboard import door_now
from webui.forms import Form
from webui.state import state

LOG = logging.getLogger(__name__)
bp = Blueprint("door", __name__, url_prefix="/door")
REASON_MAX = 200  # the control socket's limit for an unlock reason
Page = str | tuple[str, int] | WerkzeugResponse

# action -> (what the confirmation page asks, the mode it stores or None for an unlock)
ACTIONS: dict[str, tuple[str, str | None]] = {
    "lockdown_on": ("Put the door in lockdown", "lockdown"),
    "lockdown_off": ("Lift the lockdown (back to normal)", "normal"),
    "unlock": ("Unlock the door once", None),
}


@bp.route("")
@require_role("admin", "operator")
def index() -> str:
    """The door's mode and the three actions."""
    return render_template("door/index.html", door=door_now(), form=Form({}), actions=ACTIONS)


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
        page = render_template("door/index.html", door=door_now(), form=form, actions=ACTIONS)
        return page, 400
    if request.form.get("confirm") != "yes":
        return render_template("door/confirm.html", action=action, title=title, reason=reason)
    st = state()
    who = actor()
    if mode is None:
        try:
            st.control("unlock", actor=who, reason=reason)
        except ControlError as exc:
            form.error("reason", f"the door was not unlocked: {exc}")
            page = render_template("door/index.html", door=door_now(), form=form, actions=ACTIONS)
            return page, 503
        flash("The door was unlocked once.", "ok")
        return redirect(url_for("door.index"))
    try:
        st.store.set_mode(mode, reason=reason, actor=who)
    except StoreError as exc:
        form.error("reason", f"nothing was changed: {exc}")
        page = render_template("door/index.html", door=door_now(), form=form, actions=ACTIONS)
        return page, 503
    LOG.info("%s set the door mode to %s: %s", who, mode, reason)
    if st.refresh():
        flash(f"Door mode is now {mode}; the controller has been told.", "ok")
    else:
        flash(
            f"Door mode {mode} is stored, but no controller is running: "
            "it applies when the controller starts.",
            "warn",
        )
    return redirect(url_for("door.index"))
