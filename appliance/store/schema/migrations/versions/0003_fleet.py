"""The district console's tables: boxes seen, events shipped home, the publication log.

On every database: the credentials' holder and group indexes also carry ``source``, so the
district guard ("does a district card use this group?") is one index probe.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Times are INTEGER UTC microseconds since the Unix epoch. A box keeps these tables empty.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create fleet_boxes, fleet_events and fleet_publications; widen two credential indexes."""
    op.drop_index("ix_credentials_holder_id", "credentials")
    op.drop_index("ix_credentials_group_id", "credentials")
    op.create_index("ix_credentials_holder_source", "credentials", ["holder_id", "source"])
    op.create_index("ix_credentials_group_source", "credentials", ["group_id", "source"])
    op.create_table(
        "fleet_boxes",
        sa.Column("box_id", sa.String(64), primary_key=True),
        sa.Column("school", sa.String(200), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("last_seen_at", sa.Integer(), nullable=False),
        sa.Column("software", sa.String(64), nullable=True),
        sa.Column("list_version", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(32), nullable=True),
        sa.Column("alarms", sa.JSON(), nullable=False),
        sa.Column("status", sa.JSON(), nullable=False),
    )
    op.create_table(
        "fleet_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("box_id", sa.String(64), nullable=False),
        sa.Column("box_event_id", sa.Integer(), nullable=False),
        sa.Column("school", sa.String(200), nullable=True),
        sa.Column("ts_us", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("credential", sa.String(64), nullable=True),
        sa.Column("holder", sa.String(200), nullable=True),
        sa.Column("serial", sa.String(64), nullable=True),
        sa.Column("door", sa.String(100), nullable=True),
        sa.Column("actor", sa.String(100), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.Column("received_at", sa.Integer(), nullable=False),
        sa.UniqueConstraint("box_id", "box_event_id", name="uq_fleet_events_box_event"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_fleet_events_school", "fleet_events", ["school"])
    op.create_index("ix_fleet_events_ts_us", "fleet_events", ["ts_us"])
    op.create_index("ix_fleet_events_kind", "fleet_events", ["kind"])
    op.create_index("ix_fleet_events_serial", "fleet_events", ["serial"])
    op.create_index("ix_fleet_events_box", "fleet_events", ["box_id", "ts_us"])
    op.create_table(
        "fleet_publications",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(300), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("published_at", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_index("ix_fleet_publications_published_at", "fleet_publications", ["published_at"])


def downgrade() -> None:
    """Drop what upgrade made (only for developers: a deployed box never downgrades)."""
    op.drop_table("fleet_publications")
    op.drop_table("fleet_events")
    op.drop_table("fleet_boxes")
    op.drop_index("ix_credentials_group_source", "credentials")
    op.drop_index("ix_credentials_holder_source", "credentials")
    op.create_index("ix_credentials_holder_id", "credentials", ["holder_id"])
    op.create_index("ix_credentials_group_id", "credentials", ["group_id"])
