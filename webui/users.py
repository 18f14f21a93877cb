"""Users and roles (admin only): add, change role, reset password, disable, re-enable."""

from __future__ import annotations

import secrets
from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import StoreError
from webui import localtime
from webui.auth import ROLES, actor, current_user, new_password, require_role
from webui.forms import Form
from webui.state import state

bp = Blueprint("users", __name__, url_prefix="/users")
Page = str | tuple[str, int] | WerkzeugResponse
# Easy to read aloud and type: no 0/O, 1/l/I. Four groups of four: about 82 bits.
TEMP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def temporary_password() -> str:
    """A random temporary password for an admin's reset, e.g. ``k7pw-3xmz-a9rt-qe4h``."""
    groups = ("".join(secrets.choice(TEMP_ALPHABET) for _ in range(4)) for _ in range(4))
    return "-".join(groups)


def _short_time(ts: datetime) -> str:
    """A time in the box's zone to the minute (the page names the zone once)."""
    return localtime.local(ts).strftime("%Y-%m-%d %H:%M")


def _page(form: Form, code: int = 200) -> tuple[str, int]:
    page = render_template(
        "users/index.html",
        users=state().store.users.list(),
        form=form,
        roles=ROLES,
        show=_short_time,
        zone=localtime.zone_label(),
    )
    return page, code


def _not_yourself(form: Form, username: str, what: str, past: str | None = None) -> bool:
    """True (with the error on the form) if the admin is acting on their own account."""
    me = current_user()
    if me is None or me.username != username:
        return False
    others = [u for u in state().store.users.list() if u.role == "admin" and not u.disabled]
    if past is not None and len(others) <= 1:  # the real obstacle: nobody else to ask
        form.error(
            "account",
            f"you are the last enabled admin, so your own account cannot be {past}: "
            "add another admin first",
        )
    else:
        form.error("account", f"you cannot {what} your own account: ask another admin")
    return True


@bp.route("")
@require_role("admin")
def index() -> tuple[str, int]:
    """Every account, and the form to add one."""
    return _page(Form({}))


@bp.route("/add", methods=["POST"])
@require_role("admin")
def add() -> Page:
    """Add an account; its role must be chosen (no silent default)."""
    st = state()
    form = Form(request.form)
    username = form.text("username", "Username", max_len=64)
    password = new_password(form)
    if not request.form.get("role"):
        form.error("role", "Role is required: choose admin, operator or auditor")
    role = form.choice("role", "Role", ROLES)
    if not form.ok or username is None or password is None or role is None:
        return _page(form, 400)
    try:
        st.store.users.add(username, st.hasher.hash(password), role, actor=actor())
    except StoreError as exc:
        form.error("username", str(exc))
        return _page(form, 400)
    flash(f"Account {username} ({role}) added.", "ok")
    return redirect(url_for("users.index"))


@bp.route("/<username>/role", methods=["POST"])
@require_role("admin")
def set_role(username: str) -> Page:
    """Change an account's role; its sessions end, so the new role applies at once."""
    form = Form({})  # errors go above the table: the add form below keeps its own fields
    role = Form(request.form).choice("role", "Role", ROLES)
    if role is None:
        form.error("account", f"Role must be one of {', '.join(ROLES)}")
        return _page(form, 400)
    if _not_yourself(form, username, "change the role of", "given another role"):
        return _page(form, 400)
    try:
        changed = state().store.users.set_role(username, role, actor=actor())
    except StoreError as exc:
        form.error("account", str(exc))
        return _page(form, 400)
    if changed:
        flash(f"{username} is now {role}; their sessions were signed out.", "ok")
    else:
        flash(f"{username} already had the {role} role: nothing changed.", "ok")
    return redirect(url_for("users.index"))


@bp.route("/<username>/password", methods=["POST"])
@require_role("admin")
def reset_password(username: str) -> Page:
    """Give an account a temporary password, shown once; it must be replaced at sign-in."""
    st = state()
    form = Form({})
    if _not_yourself(form, username, "reset the password of"):
        form.errors["account"] += " (or change yours under 'Change password')"
        return _page(form, 400)
    temporary = temporary_password()
    try:
        st.store.users.reset_password(username, st.hasher.hash(temporary), actor=actor())
    except StoreError as exc:
        form.error("account", str(exc))
        return _page(form, 400)
    # Shown on this page only (never in a flash: the session cookie is signed, not encrypted).
    return render_template("users/reset.html", username=username, temporary=temporary)


@bp.route("/<username>/<any(disable, enable):change>", methods=["POST"])
@require_role("admin")
def set_disabled(username: str, change: str) -> Page:
    """Disable an account (its sessions end at once) or re-enable it."""
    form = Form({})
    if change == "disable" and _not_yourself(form, username, "disable", "disabled"):
        return _page(form, 400)
    try:
        state().store.users.set_disabled(username, change == "disable", actor=actor())
    except StoreError as exc:
        form.error("account", str(exc))
        return _page(form, 400)
    done = "disabled: signed out everywhere" if change == "disable" else "re-enabled"
    flash(f"Account {username} {done}.", "ok")
    return redirect(url_for("users.index"))
