"""Initial schema: meta, holders, groups, credentials, door, door_settings, events, admin_users.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Timestamps are INTEGER UTC microseconds since the Unix epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _one_of(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def upgrade() -> None:
    """Create every table and seed the change counter."""
    meta = op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.bulk_insert(meta, [{"key": "rev", "value": "0"}])

    op.create_table(
        "holders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("agency", sa.String(200), nullable=True),
        sa.Column("badge", sa.String(64), nullable=True),
        sa.Column("contact", sa.String(200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
    )

    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("all_doors", sa.Boolean(), nullable=False),
        sa.Column("doors", sa.JSON(), nullable=False),
        sa.Column("always", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("lockdown_immune", sa.Boolean(), nullable=False),
        sa.Column("pin_required", sa.Boolean(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
    )

    op.create_table(
        "credentials",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("facility", sa.Integer(), nullable=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(64), nullable=True, unique=True),
        sa.Column("holder_id", sa.Integer(), sa.ForeignKey("holders.id"), nullable=False),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("groups.id"), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("status_changed_at", sa.Integer(), nullable=False),
        sa.Column("status_changed_by", sa.String(100), nullable=False),
        sa.Column("issued_at", sa.Integer(), nullable=False),
        sa.Column("issued_by", sa.String(100), nullable=False),
        sa.Column("returned_at", sa.Integer(), nullable=True),
        sa.Column("returned_by", sa.String(100), nullable=True),
        sa.Column("valid_from", sa.Integer(), nullable=True),
        sa.Column("valid_until", sa.Integer(), nullable=True),
        sa.Column("pin_hash", sa.String(200), nullable=True),
        sa.Column("source", sa.String(16), nullable=False, server_default="local"),
        sa.Column("rev", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            _one_of("status", ("issued", "returned", "lost", "stolen", "revoked")),
            name="ck_credentials_status",
        ),
        sa.CheckConstraint(_one_of("source", ("local", "district")), name="ck_credentials_source"),
    )
    # A NULL facility counts as one value (-1), so H10302:123 can't be stored twice.
    op.create_index(
        "uq_credentials_card",
        "credentials",
        ["format", sa.text("coalesce(facility, -1)"), "number"],
        unique=True,
    )
    op.create_index("ix_credentials_rev", "credentials", ["rev"])
    op.create_index("ix_credentials_holder_id", "credentials", ["holder_id"])
    op.create_index("ix_credentials_group_id", "credentials", ["group_id"])

    op.create_table(
        "door",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("mode_reason", sa.Text(), nullable=True),
        sa.Column("mode_changed_at", sa.Integer(), nullable=False),
        sa.Column("mode_changed_by", sa.String(100), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_door_singleton"),
        sa.CheckConstraint(
            _one_of("mode", ("normal", "lockdown", "held_unlocked")), name="ck_door_mode"
        ),
    )

    op.create_table(
        "door_settings",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.JSON(), nullable=False),
    )

    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ts_us", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("credential", sa.String(64), nullable=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("serial", sa.String(64), nullable=True),
        sa.Column("door", sa.String(100), nullable=True),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("source_key", sa.String(200), nullable=True, unique=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_ts_us", "events", ["ts_us"])
    op.create_index("ix_events_kind", "events", ["kind"])
    op.create_index("ix_events_serial", "events", ["serial"])

    op.create_table(
        "admin_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(300), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("api_token_hash", sa.String(300), nullable=True),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint(
            _one_of("role", ("admin", "operator", "auditor")), name="ck_admin_users_role"
        ),
    )


def downgrade() -> None:
    """Drop everything (only for developers: a deployed box never downgrades)."""
    for table in (
        "admin_users",
        "events",
        "door_settings",
        "door",
        "credentials",
        "groups",
        "holders",
        "meta",
    ):
        op.drop_table(table)
