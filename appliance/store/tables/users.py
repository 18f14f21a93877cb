"""Admin page accounts: the store keeps usernames, roles and password hashes (never passwords).

Hashing and checking passwords is the admin page's job; every change here is in the audit log.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import us_to_datetime
from appliance.store.schema.box import ROLES, AdminSession, AdminUser
from appliance.store.tables.events import bump_rev, log_change

USERNAME_MAX = 64
HASH_MAX = 300
_USERNAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


@dataclass(frozen=True, slots=True)
class AdminUserRow:
    """An admin page account; ``password_hash`` is kept out of repr (and logs)."""

    id: int
    username: str
    role: str
    created_at: datetime
    disabled: bool
    password_hash: str = field(repr=False)
    last_login_at: datetime | None = None
    must_change_password: bool = False


def username(value: object) -> str:
    """A username: 1-64 letters, digits, dot, dash or underscore; a letter or digit first."""
    name = v.required_text(value, "username", max_len=USERNAME_MAX)
    if not _USERNAME_RE.fullmatch(name):
        raise StoreError(
            f"username {v.show(name)} may hold only letters, digits, '.', '-' and '_', "
            "and must start with a letter or digit"
        )
    return name


def role(value: object) -> str:
    """One of the roles: admin, operator, auditor."""
    if not isinstance(value, str) or value not in ROLES:
        raise StoreError(f"unknown role {v.show(value)}: expected one of {', '.join(ROLES)}")
    return value


def _hash(value: object) -> str:
    text = v.required_text(value, "password hash", max_len=HASH_MAX)
    if not text.startswith("$"):
        # A plain password handed to the store by mistake must never be written to disk.
        raise StoreError("password hash must be an encoded hash (e.g. $argon2id$...)")
    return text


def _row(user: AdminUser) -> AdminUserRow:
    return AdminUserRow(
        id=user.id,
        username=user.username,
        role=user.role,
        created_at=us_to_datetime(user.created_at),
        disabled=bool(user.disabled),
        password_hash=user.password_hash,
        last_login_at=None if user.last_login_at is None else us_to_datetime(user.last_login_at),
        must_change_password=bool(user.must_change_password),
    )


def _find(s: Session, name: str) -> AdminUser | None:
    return s.scalar(select(AdminUser).where(AdminUser.username == name))


def count_users(s: Session) -> int:
    """How many accounts exist, disabled ones included (0 until the setup code has been used)."""
    return int(s.execute(select(func.count(AdminUser.id))).scalar_one())


def _changed(
    s: Session, now_us: int, *, actor: str, action: str, detail: Mapping[str, object]
) -> None:
    """After a change to the accounts: written out, a new rev, and the change logged."""
    s.flush()
    bump_rev(s)
    log_change(s, now_us, actor=actor, action=action, detail=detail)


def add_user(
    s: Session,
    now_us: int,
    name: str,
    password_hash: str,
    new_role: str,
    *,
    actor: str,
    first: bool = False,
) -> int:
    """Create an account from a password hash; returns its id.

    With ``first``, only while no account exists (the setup code's use).
    """
    who = v.actor(actor)
    clean = username(name)
    hashed = _hash(password_hash)
    chosen = role(new_role)
    if first and count_users(s):
        raise StoreError("an admin account already exists: the setup code no longer works")
    if _find(s, clean) is not None:
        raise StoreError(f"username {clean!r} is already taken")
    user = AdminUser(
        username=clean, password_hash=hashed, role=chosen, created_at=now_us, disabled=False
    )
    s.add(user)
    _changed(
        s,
        now_us,
        actor=who,
        action="add_user",
        detail={"username": clean, "role": chosen, "first": first},
    )
    return user.id


def set_disabled(s: Session, now_us: int, name: str, disabled: bool, *, actor: str) -> None:
    """Disable (ending its sessions) or re-enable an account; never the last enabled admin."""
    who = v.actor(actor)
    clean = username(name)
    flag = v.flag(disabled, "disabled")
    user = _find(s, clean)
    if user is None:
        raise StoreError(f"no account named {clean!r}")
    if flag and user.role == "admin" and not user.disabled:
        _keep_an_admin(s, clean, "disabled")
    was = bool(user.disabled)
    user.disabled = flag
    if flag:
        end_sessions(s, user.id)
    _changed(
        s,
        now_us,
        actor=who,
        action="disable_user" if flag else "enable_user",
        detail={"username": clean, "was_disabled": was},
    )


def _keep_an_admin(s: Session, name: str, change: str) -> None:
    admins = s.execute(
        select(func.count(AdminUser.id)).where(
            AdminUser.role == "admin", AdminUser.disabled.is_(False)
        )
    ).scalar_one()
    if admins <= 1:
        raise StoreError(
            f"{name!r} is the last enabled admin and cannot be {change}: add another admin first"
        )


def _existing(s: Session, name: object) -> AdminUser:
    clean = username(name)
    user = _find(s, clean)
    if user is None:
        raise StoreError(f"no account named {clean!r}")
    return user


def end_sessions(s: Session, user_id: int) -> int:
    """Delete every session of an account (each copy of its cookie stops working); how many."""
    result = s.execute(delete(AdminSession).where(AdminSession.user_id == user_id))
    return int(getattr(result, "rowcount", 0) or 0)


def set_role(s: Session, now_us: int, name: str, new_role: str, *, actor: str) -> bool:
    """Change an account's role (never the last enabled admin's); its sessions end. Changed?"""
    who = v.actor(actor)
    user = _existing(s, name)
    chosen = role(new_role)
    if chosen == user.role:
        return False
    if user.role == "admin" and not user.disabled:
        _keep_an_admin(s, user.username, f"made {chosen}")
    was = user.role
    user.role = chosen
    ended = end_sessions(s, user.id)
    _changed(
        s,
        now_us,
        actor=who,
        action="set_role",
        detail={"username": user.username, "role": chosen, "was": was, "sessions_ended": ended},
    )
    return True


def set_password(
    s: Session, now_us: int, user_id: int, password_hash: object, *, temporary: bool, actor: str
) -> None:
    """Replace an account's password hash; every session ends. ``temporary``: an admin's reset."""
    who = v.actor(actor)
    hashed = _hash(password_hash)
    user = s.get(AdminUser, user_id) if isinstance(user_id, int) else None
    if user is None:
        raise StoreError(f"no account with id {user_id!r}")
    user.password_hash = hashed
    user.must_change_password = bool(temporary)
    ended = end_sessions(s, user.id)
    detail: dict[str, object] = {"username": user.username, "sessions_ended": ended}
    if temporary and user.api_token_hash is not None:
        # A reset is for an account that may be in other hands: its API token goes too.
        user.api_token_hash = None
        detail["api_token_revoked"] = True
    _changed(
        s,
        now_us,
        actor=who,
        action="reset_password" if temporary else "change_password",
        detail=detail,
    )


def user_id_of(s: Session, name: object) -> int:
    """The id of the account with this username (StoreError if none)."""
    return _existing(s, name).id


def get_user(s: Session, name: object) -> AdminUserRow | None:
    """The account with this username, or None (also for a malformed name)."""
    try:
        clean = username(name)
    except StoreError:
        return None
    user = _find(s, clean)
    return None if user is None else _row(user)


def get_user_by_id(s: Session, user_id: object) -> AdminUserRow | None:
    """The account with this id, or None."""
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        return None
    user = s.get(AdminUser, user_id)
    return None if user is None else _row(user)


def list_users(s: Session) -> list[AdminUserRow]:
    """Every account, by username."""
    return [_row(u) for u in s.scalars(select(AdminUser).order_by(AdminUser.username))]
