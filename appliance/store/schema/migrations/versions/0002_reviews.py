"""Accountability: the reviews table, and events indexes for reviews, reports and filters.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23

reviewed_at is INTEGER UTC microseconds since the Unix epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create reviews and the events indexes."""
    op.create_table(
        "reviews",
        sa.Column("event_id", sa.Integer(), sa.ForeignKey("events.id"), primary_key=True),
        sa.Column("incident", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(100), nullable=False),
        sa.Column("reviewed_at", sa.Integer(), nullable=False),
    )
    op.create_index("ix_events_credential", "events", ["credential", "kind", "ts_us"])
    op.create_index("ix_events_holder", "events", ["holder"])
    # Must match review_models.RESPONDER_FLAG exactly, or SQLite will not use it.
    op.create_index(
        "ix_events_responder", "events", ["kind", sa.text("json_extract(detail, '$.responder')")]
    )


def downgrade() -> None:
    """Drop what upgrade made (only for developers: a deployed box never downgrades)."""
    op.drop_index("ix_events_responder", table_name="events")
    op.drop_index("ix_events_holder", table_name="events")
    op.drop_index("ix_events_credential", table_name="events")
    op.drop_table("reviews")
