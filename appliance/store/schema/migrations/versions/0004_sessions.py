"""Revocable admin page sessions; each account's last sign-in and a must-change-password flag.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07

Times are INTEGER UTC microseconds since the Unix epoch. Sessions live only in admin_sessions
(the cookie holds a random id, the table its SHA-256), so deleting a row signs that session out.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add admin_users.last_login_at and must_change_password; create admin_sessions."""
    with op.batch_alter_table("admin_users") as batch:
        batch.add_column(sa.Column("last_login_at", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    op.create_table(
        "admin_sessions",
        sa.Column("id_digest", sa.String(64), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("admin_users.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(64), nullable=True),
    )
    op.create_index("ix_admin_sessions_user_id", "admin_sessions", ["user_id"])
    op.create_index("ix_admin_sessions_expires_at", "admin_sessions", ["expires_at"])


def downgrade() -> None:
    """Drop what upgrade made (only for developers: a deployed box never downgrades)."""
    op.drop_table("admin_sessions")
    with op.batch_alter_table("admin_users") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("last_login_at")
