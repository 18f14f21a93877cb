"""Accounts: first-run setup with the one-time code, sign in and out, passwords, role checks."""

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
    url_for,
)
from werkzeug.exceptions import Forbidden
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.box import files as boxfiles
from appliance.store import AdminUserRow, EventRecord, StoreError
from webui import api_json, sessions
from webui.forms import Form
from webui.ratelimit import ACCOUNT, CLIENT, DEVICE, PAIR, SCOPES, sign_in_keys
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


def _roles_text(roles: tuple[str, ...]) -> str:
    """``the admin role``, ``the admin or operator roles``."""
    if len(roles) == 1:
        return f"the {roles[0]} role"
    return f"the {', '.join(roles[:-1])} or {roles[-1]} roles"


class RoleRequired(Forbidden):
    """A 403 that says which roles the page needs and which role the account has."""

    def __init__(self, needs: tuple[str, ...], role: str) -> None:
        self.needs = needs
        self.role = role
        super().__init__(
            f"This page is for {_roles_text(needs)} only; you are signed in with the {role} role. "
            "Ask an admin if you need it."
        )


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
                raise RoleRequired(tuple(roles), user.role)
            return view(*args, **kwargs)

        return checked

    return wrap


@bp.before_app_request
def load_user() -> WerkzeugResponse | None:
    """Put the signed-in account on ``g``; until the first admin exists, send people to setup."""
    g.user = sessions.current()
    if request.endpoint in ("auth.setup", "static") or state().admin_exists():
        return None
    if api_json.is_api_path(request.path):
        return api_json.not_set_up()  # a program gets JSON it can read, not the setup page
    return redirect(url_for("auth.setup"))


PASSWORD_CHANGE_ENDPOINTS = ("auth.change_password", "auth.logout", "static")


@bp.before_app_request
def require_new_password() -> Page | None:
    """After an admin's reset, the temporary password opens only the page that replaces it."""
    user = current_user()
    if user is None or not user.must_change_password or request.blueprint == "api":
        return None
    if request.endpoint in PASSWORD_CHANGE_ENDPOINTS:
        return None
    message = "choose a new password first (your password was reset by an admin)"
    if request.path.endswith(".json"):
        return {"error": message}, 403  # type: ignore[return-value]
    return redirect(url_for("auth.change_password"))


def _record(kind: str, reason: str, who: str, **detail: Any) -> None:
    """Sign-in events go to the audit log; a busy database must not block signing in."""
    try:
        state().store.events.append(
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


# Where the refused attempts came from, as the sign-in page says it.
_FROM = {
    PAIR: " from this address for this account",
    CLIENT: " from this address",
    ACCOUNT: " for this account from browsers it has not signed in from",
    DEVICE: " from this browser for this account",
}


def _locked_message(seconds: float, scope: str | None = None) -> str:
    wait = f"about {max(1, round(seconds / 60))} minute(s)"
    message = f"too many failed attempts{_FROM.get(scope or '', '')}: try again in {wait}"
    if scope == ACCOUNT:
        message += ", or sign in from a browser you have signed in from before"
    return message


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Page:
    """Create the first admin account with the one-time setup code."""
    st = state()
    if st.admin_exists():
        return render_template("auth/setup_done.html"), 403
    form = Form(request.form)
    if request.method == "GET":
        return render_template("auth/setup.html", form=form)
    client_key = ("setup", sessions.client())
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
        uid = st.store.users.add(
            username, st.hasher.hash(password), "admin", actor=f"web:{username}", first=True
        )
    except StoreError as exc:
        form.error("username", str(exc))
        return render_template("auth/setup.html", form=form), 400
    boxfiles.discard_setup_code(st.data_dir)
    st.has_admin = True
    LOG.info("first admin account %r created with the setup code", username)
    user = st.store.users.get(user_id=uid)
    assert user is not None, "the account just created"
    sessions.start(user, record=False)  # the add_user event says it all
    sessions.remember_device(user.username)
    flash(f"Welcome, {username}: your admin account is ready.", "ok")
    return redirect(url_for("dashboard.index"))


def new_password(form: Form, name: str = "password", label: str = "Password") -> str | None:
    """A new password (and its confirmation) from the form."""
    password = form.text(name, label, max_len=PASSWORD_MAX, min_len=PASSWORD_MIN, strip=False)
    if password is not None and request.form.get("confirm", "") != password:
        form.error("confirm", "the two passwords differ")
        return None
    return password


def _refused(form: Form, keys: tuple[Any, ...]) -> float:
    """If a key is locked: the error on the form and the seconds left (else 0)."""
    locked = state().limiter.locked(*keys)
    if not locked:
        return 0.0
    key, wait = max(locked, key=lambda kw: kw[1])
    form.error("password", _locked_message(wait, key[0] if isinstance(key, tuple) else None))
    return wait


def _failed(keys: tuple[Any, ...], username: str) -> None:
    """Count a wrong password; each lock-out it causes goes to the audit log."""
    client = sessions.client()
    who = f"web:{username[:60] or '?'}"
    _record("login_failed", "sign-in failed", who, client=client)
    for key in state().limiter.fail(*keys):
        scope = str(key[0]) if isinstance(key, tuple) else str(key)
        rule = state().limiter.rule(key)
        what = SCOPES.get(scope, scope)
        LOG.warning("sign-in locked for %s: %r from %s", what, username, client)
        _record(
            "login_locked",
            f"sign-in locked for {what}: {rule.limit} failures",
            who,
            target=username[:64],
            client=client,
            scope=scope,
            seconds=rule.window,
        )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Page:
    """Sign in; failures lock only the guesser (see webui.ratelimit)."""
    st = state()
    target = safe_next(request.values.get("next"), url_for("dashboard.index"))
    form = Form(request.form)
    if request.method == "GET":
        return render_template("auth/login.html", form=form, next=target)
    username = form.text("username", "Username", max_len=64) or ""
    password = form.text("password", "Password", max_len=PASSWORD_MAX, strip=False) or ""
    if not form.ok:
        return render_template("auth/login.html", form=form, next=target), 400
    keys = sign_in_keys(sessions.client(), username, sessions.trusted_device(username))
    wait = _refused(form, keys)
    if wait > 0:
        page = render_template("auth/login.html", form=form, next=target)
        return WerkzeugResponse(
            page, 429, {"Retry-After": str(int(wait) + 1)}, content_type="text/html"
        )
    user = st.store.users.get(username=username)
    # Check a hash even for an unknown name, so timing does not tell which names exist.
    matched = verify_password(st.hasher, user.password_hash if user else st.dummy_hash, password)
    if user is None or not matched or user.disabled:
        _failed(keys, username)
        form.error("password", "wrong username or password (or the account is disabled)")
        return render_template("auth/login.html", form=form, next=target), 401
    st.limiter.reset(keys[0])  # this address's (or browser's) own typos are forgiven
    sessions.start(user)
    sessions.remember_device(user.username)
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return redirect(target)


@bp.route("/logout", methods=["POST"])
def logout() -> WerkzeugResponse:
    """Sign out: every session of this account ends, on every browser."""
    user = current_user()
    if user is not None:
        sessions.end_all(user)
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@require_role(*ANY_ROLE)
def change_password() -> Page:
    """Replace your own password (required after an admin's reset); other sessions end."""
    st = state()
    user = current_user()
    assert user is not None
    form = Form(request.form)
    page = "auth/password.html"
    if request.method == "GET":
        return render_template(page, form=form)
    keys = sign_in_keys(sessions.client(), user.username, sessions.trusted_device(user.username))
    if _refused(form, keys) > 0:
        return render_template(page, form=form), 429
    current = form.text("current", "Current password", max_len=PASSWORD_MAX, strip=False)
    password = new_password(form, "password", "New password")
    if current is not None and not verify_password(st.hasher, user.password_hash, current):
        _failed(keys, user.username)
        form.error("current", "that is not your current password")
    elif current is not None and password is not None and password == current:
        form.error("password", "the new password must differ from the current one")
    if not form.ok or password is None:
        return render_template(page, form=form), 400
    st.store.users.change_password(user.id, st.hasher.hash(password), actor=actor())
    fresh = st.store.users.get(user_id=user.id)
    if fresh is not None and not fresh.disabled:
        sessions.start(
            fresh, record=False
        )  # every other session ended with the change; this one goes on
    flash("Password changed: every other session of your account was signed out.", "ok")
    return redirect(url_for("dashboard.index"))
