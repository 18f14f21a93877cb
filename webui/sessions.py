"""Sessions that really end, and device cookies that let a browser outlast someone else's guessing.

The signed session cookie carries only a random session id; the store keeps its SHA-256, so a
copied cookie works only while that row exists. Sign-out, a password change, a role change or
disabling the account deletes every row of that account.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable

from flask import after_this_request, current_app, request, session
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import AdminUserRow
from webui.state import state

SESSION_ID = "sid"
DEVICE_COOKIE = "doorward_device"
DEVICE_DAYS = 90
DEVICE_ACCOUNTS = 5  # a shared office PC remembers this many accounts


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def wall_clock() -> float:
    """Unix time for session expiry (tests hand in ``WALL_CLOCK``)."""
    clock: Callable[[], float] = current_app.config.get("WALL_CLOCK", time.time)
    return clock()


def client() -> str:
    """The client's address, as the sign-in limits and the audit log name it."""
    return request.remote_addr or "unknown"


def start(user: AdminUserRow, *, record: bool = True) -> None:
    """Sign ``user`` in on this browser with a fresh session (nothing from before carries over)."""
    session.clear()
    sid = secrets.token_urlsafe(32)
    now = wall_clock()
    lifetime = current_app.permanent_session_lifetime.total_seconds()
    state().store.users.open_session(
        user.id, _digest(sid), now=now, expires_at=now + lifetime, client=client(), record=record
    )
    session[SESSION_ID] = sid
    session.permanent = True


def current() -> AdminUserRow | None:
    """The account of this request's live session, or None (the stale cookie is then cleared)."""
    sid = session.get(SESSION_ID)
    if sid is None:
        return None
    user = None
    if isinstance(sid, str):
        user = state().store.users.session_user(_digest(sid), now=wall_clock())
    if user is None:
        session.clear()  # signed out, expired, disabled or forged: out at once
    return user


def end_all(user: AdminUserRow) -> None:
    """Sign ``user`` out everywhere, this browser included."""
    state().store.users.sign_out(user.id, client=client())
    session.clear()


# -- device cookies (OWASP "Slow down online guessing attacks with device cookies") --------------


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key or "", salt="doorward-device")


def _devices() -> list[tuple[str, str]]:
    """(account, nonce) pairs of this browser's valid device cookie."""
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw or len(raw) > 2000:
        return []
    try:
        data = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadSignature:
        return []
    if not isinstance(data, list):
        return []
    return [
        (e[0], e[1])
        for e in data
        if isinstance(e, list) and len(e) == 2 and all(isinstance(x, str) for x in e)
    ][:DEVICE_ACCOUNTS]


def trusted_device(account: str) -> str | None:
    """The nonce of this browser's device cookie for ``account``, if it has one."""
    name = account.lower()
    return next((nonce for who, nonce in _devices() if who == name), None)


def remember_device(account: str) -> None:
    """After a successful sign-in: a fresh device cookie for ``account`` on this response."""
    name = account.lower()
    entries = [(name, secrets.token_urlsafe(16))]
    entries += [e for e in _devices() if e[0] != name][: DEVICE_ACCOUNTS - 1]
    value = _serializer().dumps([list(e) for e in entries])

    @after_this_request
    def _set(response: WerkzeugResponse) -> WerkzeugResponse:
        response.set_cookie(
            DEVICE_COOKIE,
            value,
            max_age=DEVICE_DAYS * 86400,
            httponly=True,
            samesite="Strict",
            secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        )
        return response
