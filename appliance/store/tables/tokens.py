"""API tokens (stored only as SHA-256 hex digests) and the paged holder list for the JSON API."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.schema.box import AdminUser
from appliance.store.tables.events import bump_rev, log_change
from appliance.store.tables.users import AdminUserRow, get_user_by_id, username

MAX_HOLDER_PAGE = 1000


def token_digest(value: object) -> str:
    """A SHA-256 hex digest (64 lowercase hex digits): never a token itself."""
    return v.sha256_hex(value, "an API token")


def set_token_digest(s: Session, now_us: int, name: str, digest: str | None, *, actor: str) -> None:
    """Replace (or, with None, revoke) an account's API token digest; recorded in the audit log."""
    who = v.actor(actor)
    clean = username(name)
    new = None if digest is None else token_digest(digest)
    user = s.scalar(select(AdminUser).where(AdminUser.username == clean))
    if user is None:
        raise StoreError(f"no account named {clean!r}")
    had = user.api_token_hash is not None
    if new is None and not had:
        return  # nothing to revoke: leave no trace
    user.api_token_hash = new
    s.flush()
    bump_rev(s)
    action = "revoke_api_token" if new is None else "create_api_token"
    log_change(s, now_us, actor=who, action=action, detail={"username": clean, "replaced": had})


def token_owner(s: Session, user_id: int) -> tuple[AdminUserRow, str | None] | None:
    """The account with this id and its token digest (None if it has none), or None."""
    row = get_user_by_id(s, user_id)
    if row is None:
        return None
    digest = s.scalar(select(AdminUser.api_token_hash).where(AdminUser.id == row.id))
    return row, digest
