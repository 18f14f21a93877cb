"""The district's fob register: agencies, their officers, and each fob's chain of custody.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

Times are INTEGER UTC microseconds since the Unix epoch. A box keeps these tables empty.
district_custody is append-only: two triggers refuse every UPDATE and DELETE, and each row's
SHA-256 digest covers its fields and the fob's previous digest.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('police', 'sheriff', 'fire', 'ems', 'other')"
STATUSES = "status IN ('active', 'on_leave', 'separated')"
ACTIONS = (
    "action IN ('registered', 'issued', 'returned', 'reassigned', 'lost', 'stolen', 'found', "
    "'revoked', 'destroyed')"
)
APPEND_ONLY = "the chain of custody is append-only: its rows are never changed or deleted"


def upgrade() -> None:
    """Create district_agencies, district_officers, district_custody and its two triggers."""
    op.create_table(
        "district_agencies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.CheckConstraint(KINDS, name="ck_agencies_kind"),
    )
    op.create_table(
        "district_officers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "holder_id", sa.Integer(), sa.ForeignKey("holders.id"), nullable=False, unique=True
        ),
        sa.Column("agency_id", sa.Integer(), sa.ForeignKey("district_agencies.id"), nullable=False),
        sa.Column("badge", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_changed_at", sa.Integer(), nullable=False),
        sa.Column("status_changed_by", sa.String(100), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.UniqueConstraint("agency_id", "badge", name="uq_officers_agency_badge"),
        sa.CheckConstraint(STATUSES, name="ck_officers_status"),
    )
    op.create_index("ix_district_officers_agency_id", "district_officers", ["agency_id"])
    officer = "district_officers.id"
    op.create_table(
        "district_custody",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("credential_id", sa.Integer(), sa.ForeignKey("credentials.id"), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("custodian_before", sa.Integer(), sa.ForeignKey(officer), nullable=True),
        sa.Column("custodian_after", sa.Integer(), sa.ForeignKey(officer), nullable=True),
        sa.Column("acknowledgement", sa.String(200), nullable=True),
        sa.Column("at", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("witness", sa.String(200), nullable=True),
        sa.Column("prev_digest", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.CheckConstraint(ACTIONS, name="ck_custody_action"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_district_custody_credential_id", "district_custody", ["credential_id"])
    op.create_index("ix_district_custody_serial", "district_custody", ["serial"])
    for event in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER district_custody_no_{event.lower()} BEFORE {event} "
            f"ON district_custody BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )


def downgrade() -> None:
    """Drop what upgrade made (only for developers: a deployed box never downgrades)."""
    op.execute("DROP TRIGGER IF EXISTS district_custody_no_delete")
    op.execute("DROP TRIGGER IF EXISTS district_custody_no_update")
    op.drop_table("district_custody")
    op.drop_table("district_officers")
    op.drop_table("district_agencies")
