"""Per-user API tokens: the page to create (shown once) or revoke yours, and checking one.

A token is ``dw_<account id>_<random>``; only its SHA-256 digest is stored. The id lets a request
find its account directly, and the digests are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import AdminUserRow, Store, StoreError
from webui.auth import ANY_ROLE, actor, current_user, require_role
from webui.forms import Form
from webui.state import state

bp = Blueprint("api_token", __name__, url_prefix="/api/v1/token")
PREFIX = "dw"
TOKEN_MAX = 200
Page = str | tuple[str, int] | WerkzeugResponse


def token_store() -> Store:
    """The store (its API token methods are ``store.users``'s)."""
    return state().store


def new_token(user_id: int) -> str:
    """A fresh random token for the account ``user_id`` (256 bits of randomness)."""
    return f"{PREFIX}_{user_id}_{secrets.token_urlsafe(32)}"


def digest(token: str) -> str:
    """The SHA-256 hex digest stored for a token (enough for a random 256-bit secret)."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_for(token: str) -> AdminUserRow | None:
    """The enabled account this token belongs to, or None for any token that is not valid."""
    if len(token) > TOKEN_MAX or not token.isascii():
        return None
    prefix, _, rest = token.partition("_")
    user_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not secret or not (user_id.isdigit() and len(user_id) <= 18):
        return None
    found = token_store().users.token_owner(int(user_id))
    if found is None:
        return None
    user, stored = found
    if stored is None or not hmac.compare_digest(stored, digest(token)) or user.disabled:
        return None
    return user


def _has_token() -> bool:
    user = current_user()
    assert user is not None
    found = token_store().users.token_owner(user.id)
    return found is not None and found[1] is not None


@bp.route("", methods=["GET", "POST"])
@require_role(*ANY_ROLE)
def index() -> Page:
    """Your API token: create one (replacing any other; shown once) or revoke it."""
    user = current_user()
    assert user is not None
    form = Form(request.form)
    if request.method == "GET":
        return render_template(
            "api_token/index.html", has_token=_has_token(), token=None, form=form
        )
    action = form.choice("action", "Action", ("create", "revoke"))
    if action is None:
        page = render_template(
            "api_token/index.html", has_token=_has_token(), token=None, form=form
        )
        return page, 400
    token = new_token(user.id) if action == "create" else None
    try:
        token_store().users.set_token_digest(
            user.username, None if token is None else digest(token), actor=actor()
        )
    except StoreError as exc:
        form.error("action", f"nothing was changed: {exc}")
        page = render_template(
            "api_token/index.html", has_token=_has_token(), token=None, form=form
        )
        return page, 503
    if token is None:
        flash("Your API token is revoked: requests that use it are refused from now on.", "ok")
        return redirect(url_for("api_token.index"))
    # Shown in this response only (pages are sent with Cache-Control: no-store).
    return render_template("api_token/index.html", has_token=True, token=token, form=form)
