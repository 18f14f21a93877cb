"""Admin page sessions kept on the server: a cookie works only while its row is here.

Signing in and out are recorded in the audit log but do not bump ``rev``: nothing the door
decides on changes (as with the fleet agent's link state).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.schema.box import AdminSession, AdminUser
from appliance.store.tables.events import log_change
from appliance.store.tables.users import AdminUserRow, _row, end_sessions

CLIENT_MAX = 64


def _digest(value: object) -> str:
    return v.sha256_hex(value, "a session id")


def open_session(
    s: Session,
    now_us: int,
    user_id: int,
    digest: object,
    *,
    expires_us: int,
    client: str,
    record: bool = True,
) -> None:
    """Record a new session for an enabled account, its sign-in time and (``record``) an event.

    The admin page decides when its sessions expire, by its own wall clock (as for the cookie).
    """
    key = _digest(digest)
    user = s.get(AdminUser, user_id) if isinstance(user_id, int) else None
    if user is None or user.disabled:
        raise StoreError("no enabled account with that id")
    s.execute(delete(AdminSession).where(AdminSession.expires_at <= now_us))  # tidy as we go
    if expires_us <= now_us:
        raise StoreError("a session must expire in the future")
    s.add(
        AdminSession(
            id_digest=key,
            user_id=user.id,
            created_at=now_us,
            expires_at=expires_us,
            client=client[:CLIENT_MAX],
        )
    )
    user.last_login_at = now_us
    s.flush()
    if not record:  # e.g. right after setup or a password change, which are on record already
        return
    log_change(
        s,
        now_us,
        actor=v.actor(f"web:{user.username}"),
        action="login",
        reason="signed in",
        detail={"client": client[:CLIENT_MAX]},
    )


def session_user(s: Session, now_us: int, digest: object) -> AdminUserRow | None:
    """The enabled account a live session belongs to, or None (unknown, expired, disabled)."""
    try:
        digest = _digest(digest)
    except StoreError:  # not a digest at all: no session has it
        return None
    found = s.execute(
        select(AdminUser, AdminSession.expires_at)
        .join(AdminSession, AdminSession.user_id == AdminUser.id)
        .where(AdminSession.id_digest == digest)
    ).first()
    if found is None:
        return None
    user, expires_at = found
    if expires_at <= now_us or user.disabled:
        return None
    return _row(user)


def sign_out(s: Session, now_us: int, user_id: int, *, client: str) -> int:
    """End every session of an account (signing out anywhere signs out everywhere); how many."""
    user = s.get(AdminUser, user_id) if isinstance(user_id, int) else None
    if user is None:
        return 0
    ended = end_sessions(s, user.id)
    log_change(
        s,
        now_us,
        actor=v.actor(f"web:{user.username}"),
        action="logout",
        reason="signed out",
        detail={"client": client[:CLIENT_MAX], "sessions_ended": ended},
    )
    return ended
