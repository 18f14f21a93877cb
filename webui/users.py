"""Users and roles (admin only): add an account with a role, disable or re-enable one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import StoreError
from webui.auth import ROLES, actor, current_user, new_password, require_role
from webui.forms import Form
from webui.state import state

bp = Blueprint("users", __name__, url_prefix="/users")
Page = str | tuple[str, int] | WerkzeugResponse


def _page(form: Form) -> str:
    return render_template(
        "users/index.html", users=state().store.list_admin_users(), form=form, roles=ROLES
    )


@bp.route("")
@require_role("admin")
def index() -> str:
    """Every account, and the form to add one."""
    return _page(Form({}))


@bp.route("/add", methods=["POST"])
@require_role("admin")
def add() -> Page:
    """Add an account with a role."""
    st = state()
    form = Form(request.form)
    username = form.text("username", "Username", max_len=64)
    password = new_password(form)
    role = form.choice("role", "Role", ROLES)
    if not form.ok or username is None or password is None or role is None:
        return _page(form), 400
    try:
        st.store.add_admin_user(username, st.hasher.hash(password), role, actor=actor())
    except StoreError as exc:
        form.error("username", str(exc))
        return _page(form), 400
    flash(f"Account {username} ({role}) added.", "ok")
    return redirect(url_for("users.index"))


@bp.route("/<username>/<any(disable, enable):change>", methods=["POST"])
@require_role("admin")
def set_disabled(username: str, change: str) -> Page:
    """Disable an account (signed out at its next request) or enable it again."""
    me = current_user()
    form = Form({})
    if me is not None and me.username == username and change == "disable":
        form.error("account", "you cannot disable your own account")
        return _page(form), 400
    try:
        state().store.set_admin_user_disabled(username, change == "disable", actor=actor())
    except StoreError as exc:
        form.error("account", str(exc))
        return _page(form), 400
    flash(f"Account {username} {change}d.", "ok")
    return redirect(url_for("users.index"))
