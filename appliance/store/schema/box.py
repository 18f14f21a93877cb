"""The schema as typed ORM models; migrations/versions/ must build exactly this.

Every timestamp column (``*_at``, ``valid_from``, ``valid_until``, ``ts_us``) holds UTC
microseconds since the Unix epoch as an INTEGER; the store converts at its edges.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUSES = ("issued", "returned", "lost", "stolen", "revoked")
MODES = ("normal", "lockdown", "held_unlocked")
ROLES = ("admin", "operator", "auditor")
SOURCES = ("local", "district")
NO_FACILITY = -1  # how the uniqueness index counts a NULL facility: as one value


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    """Declarative base; ``Base.metadata`` is Alembic's target."""


class Meta(Base):
    """Key/value facts about the database, including the change counter ``rev``."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Holder(Base):
    """A person who holds credentials."""

    __tablename__ = "holders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agency: Mapped[str | None] = mapped_column(String(200))
    badge: Mapped[str | None] = mapped_column(String(64))
    contact: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[int] = mapped_column(Integer)


class Group(Base):
    """An access group: which doors, when, and how it behaves in a lockdown."""

    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    all_doors: Mapped[bool] = mapped_column(Boolean)
    doors: Mapped[list[str]] = mapped_column(JSON)
    always: Mapped[bool] = mapped_column(Boolean)
    schedule: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    holidays: Mapped[list[str]] = mapped_column(JSON)
    lockdown_immune: Mapped[bool] = mapped_column(Boolean)
    pin_required: Mapped[bool] = mapped_column(Boolean)
    builtin: Mapped[bool] = mapped_column(Boolean)


class Credential(Base):
    """A fob or badge; never deleted, only moved between statuses."""

    __tablename__ = "credentials"
    __table_args__ = (
        Index(
            "uq_credentials_card",
            "format",
            text(f"coalesce(facility, {NO_FACILITY})"),
            "number",
            unique=True,
        ),
        Index("ix_credentials_holder_source", "holder_id", "source"),
        Index("ix_credentials_group_source", "group_id", "source"),
        CheckConstraint(_one_of("status", STATUSES), name="ck_credentials_status"),
        CheckConstraint(_one_of("source", SOURCES), name="ck_credentials_source"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    format: Mapped[str] = mapped_column(String(16))
    facility: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int] = mapped_column(Integer)
    serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    # (holder_id, source) and (group_id, source): "is this holder or group the district's?" is
    # one index probe even with 2,000,000 cards in one group (district.py's guard).
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"))
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id"))
    status: Mapped[str] = mapped_column(String(16))
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[int] = mapped_column(Integer)
    status_changed_by: Mapped[str] = mapped_column(String(100))
    issued_at: Mapped[int] = mapped_column(Integer)
    issued_by: Mapped[str] = mapped_column(String(100))
    returned_at: Mapped[int | None] = mapped_column(Integer)
    returned_by: Mapped[str | None] = mapped_column(String(100))
    valid_from: Mapped[int | None] = mapped_column(Integer)
    valid_until: Mapped[int | None] = mapped_column(Integer)
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(16), server_default="local")
    rev: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[int] = mapped_column(Integer)


class Door(Base):
    """The one door this box drives (id is always 1) and its stored mode."""

    __tablename__ = "door"
    __table_args__ = (
        CheckConstraint("id = 1", name="ck_door_singleton"),
        CheckConstraint(_one_of("mode", MODES), name="ck_door_mode"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    mode: Mapped[str] = mapped_column(String(16))
    mode_reason: Mapped[str | None] = mapped_column(Text)
    mode_changed_at: Mapped[int] = mapped_column(Integer)
    mode_changed_by: Mapped[str] = mapped_column(String(100))


class DoorSetting(Base):
    """A door setting edited from the admin page (value is any JSON)."""

    __tablename__ = "door_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class EventColumns:
    """The columns of a stored event: the box's own (``events``) and those shipped home
    (``fleet_events``) are alike, so an event fits both. A table's own columns take
    ``sort_order=BEFORE`` or ``AFTER`` to stand before or after these, as the migrations made them.
    """

    BEFORE: ClassVar[int] = -1
    AFTER: ClassVar[int] = 1

    ts_us: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    credential: Mapped[str | None] = mapped_column(String(64))
    holder: Mapped[str | None] = mapped_column(String(200))
    serial: Mapped[str | None] = mapped_column(String(64), index=True)
    door: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Event(EventColumns, Base):
    """One audit event; never deleted. ``source_key`` deduplicates replayed journal entries."""

    __tablename__ = "events"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=True, sort_order=EventColumns.BEFORE
    )
    source_key: Mapped[str | None] = mapped_column(
        String(200), unique=True, sort_order=EventColumns.AFTER
    )


class AdminUser(Base):
    """An admin page account (used by the web UI; the store only holds the table)."""

    __tablename__ = "admin_users"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="ck_admin_users_role"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(16))
    api_token_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[int] = mapped_column(Integer)
    disabled: Mapped[bool] = mapped_column(Boolean, server_default=false())
    last_login_at: Mapped[int | None] = mapped_column(Integer)
    # Set by an admin's password reset: the temporary password must be replaced at sign-in.
    must_change_password: Mapped[bool] = mapped_column(Boolean, server_default=false())


class AdminSession(Base):
    """A signed-in session of the admin page; the cookie holds the id, this table its SHA-256."""

    __tablename__ = "admin_sessions"
    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("admin_users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
    client: Mapped[str | None] = mapped_column(String(64))
