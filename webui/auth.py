"""Accounts: first-run setup with the one-time code, sign in and out, and role checks."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from flask import (
    Blueprint,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import AdminUserRow, EventRecord, StoreError
from webui import api_json, boxfiles
from webui.forms import Form
from webui.security import PASSWORD_MAX, PASSWORD_MIN, safe_next, verify_password
from webui.state import state

LOG = logging.getLogger(__name__)
bp = Blueprint("auth", __name__)
P = ParamSpec("P")
R = TypeVar("R")
Page = str | tuple[str, int] | WerkzeugResponse

ROLES = ("admin", "operator", "auditor")
# Views any signed-in role may reach are marked with every role: nothing is open by default.
ANY_ROLE = ROLES


def current_user() -> AdminUserRow | None:
    """The signed-in account for this request, or None."""
    user: AdminUserRow | None = g.get("user")
    return user


def actor() -> str:
    """Who is acting, for the audit log: ``web:<username>``."""
    user = current_user()
    assert user is not None, "actor() outside a view that requires a role"
    return f"web:{user.username}"


def require_role(*roles: str) -> Callable[[Callable[P, R]], Callable[P, R | WerkzeugResponse]]:
    """A view for these roles only: strangers are sent to sign in, other roles get 403."""
    unknown = set(roles) - set(ROLES)
    if not roles or unknown:
        raise ValueError(f"require_role needs roles from {ROLES}, got {roles}")

    def wrap(view: Callable[P, R]) -> Callable[P, R | WerkzeugResponse]:
        @functools.wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R | WerkzeugResponse:
            user = current_user()
            if user is None:
                if request.method == "GET" and not request.path.endswith(".json"):
                    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
                abort(401)
            if user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return checked

    return wrap


@bp.before_app_request
def load_user() -> WerkzeugResponse | None:
    """Put the signed-in account on ``g``; until the first admin exists, send people to setup."""
    g.user = None
    uid = session.get("uid")
    if isinstance(uid, int):
        user = state().store.get_admin_user(user_id=uid)
        if user is None or user.disabled:
            session.clear()  # disabled since signing in: out at once
        else:
            g.user = user
    if request.endpoint in ("auth.setup", "static") or state().admin_exists():
        return None
    if api_json.is_api_path(request.path):
        return api_json.not_set_up()  # a program gets JSON it can read, not the setup page
    return redirect(url_for("auth.setup"))


def _client() -> str:
    return request.remote_addr or "unknown"


def _record(kind: str, reason: str, who: str, **detail: Any) -> None:
    """Sign-in events go to the audit log; a busy database must not block signing in."""
    try:
        state().store.append_events(
            [
                EventRecord(
                    ts=time.time(),
                    kind="admin",
                    reason=reason,
                    actor=who,
                    detail={"action": kind, **detail},
                )
            ]
        )
    except StoreError as exc:
        LOG.warning("could not record %s for %s: %s", kind, who, exc)


def _locked_message(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    return f"too many failed attempts: try again in about {minutes} minute(s)"


def _sign_in(user_id: int) -> None:
    session.clear()  # a fresh session: nothing from before signing in carries over
    session["uid"] = user_id
    session.permanent = True


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Page:
    """Create the first admin account with the one-time setup code."""
    st = state()
    if st.admin_exists():
        return render_template("auth/setup_done.html"), 403
    form = Form(request.form)
    if request.method == "GET":
        return render_template("auth/setup.html", form=form)
    client_key = ("setup", _client())
    wait = st.limiter.retry_after(client_key)
    if wait > 0:
        form.error("code", _locked_message(wait))
        return render_template("auth/setup.html", form=form), 429
    code = form.text("code", "Setup code", max_len=64)
    username = form.text("username", "Username", max_len=64)
    password = new_password(form)
    if code is not None and not boxfiles.check_setup_code(st.data_dir, code):
        st.limiter.fail(client_key)
        form.error("code", "that is not this box's setup code (see the output of 'doorward web')")
    if not form.ok or username is None or password is None:
        return render_template("auth/setup.html", form=form), 400
    try:
        uid = st.store.add_admin_user(
            username, st.hasher.hash(password), "admin", actor=f"web:{username}", first=True
        )
    except StoreError as exc:
        form.error("username", str(exc))
        return render_template("auth/setup.html", form=form), 400
    boxfiles.discard_setup_code(st.data_dir)
    st.has_admin = True
    LOG.info("first admin account %r created with the setup code", username)
    _sign_in(uid)
    flash(f"Welcome, {username}: your admin account is ready.", "ok")
    return redirect(url_for("dashboard.index"))


def new_password(form: Form) -> str | None:
    """A new password (and its confirmation) from the form."""
    password = form.text(
        "password", "Password", max_len=PASSWORD_MAX, min_len=PASSWORD_MIN, strip=False
    )
    if password is not None and request.form.get("confirm", "") != password:
        form.error("confirm", "the two passwords differ")
        return None
    return password


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    """Sign in; failures are counted per client address and per account."""
    st = state()
    target = safe_next(request.values.get("next"), url_for("dashboard.index"))
    form = Form(request.form)
    if request.method == "GET":
        return render_template("auth/login.html", form=form, next=target)
    username = form.text("username", "Username", max_len=64) or ""
    password = form.text("password", "Password", max_len=PASSWORD_MAX, strip=False) or ""
    if not form.ok:
        return render_template("auth/login.html", form=form, next=target), 400
    keys = (("client", _client()), ("account", username.lower()))
    wait = st.limiter.retry_after(*keys)
    if wait > 0:
        form.error("password", _locked_message(wait))
        return render_template("auth/login.html", form=form, next=target), 429
    user = st.store.get_admin_user(username=username) if username else None
    # Check a hash even for an unknown name, so timing does not tell which names exist.
    matched = verify_password(st.hasher, user.password_hash if user else st.dummy_hash, password)
    if user is None or not matched or user.disabled:
        st.limiter.fail(*keys)
        _record("login_failed", "sign-in failed", f"web:{username[:60] or '?'}", client=_client())
        form.error("password", "wrong username or password (or the account is disabled)")
        return render_template("auth/login.html", form=form, next=target), 401
    st.limiter.reset(keys[1])
    _sign_in(user.id)
    _record("login", "signed in", f"web:{user.username}", client=_client())
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    """Sign out."""
    session.clear()
    return redirect(url_for("auth.login"))
