"""Schema added by migrations 0003 and 0005: the district console's own tables.

A box has them too (one schema, one migration chain in appliance/store/schema/migrations) but
leaves them empty. The box's store never imports this module: ``Base.metadata`` holds these tables
once the district's code (or a test, or a developer autogenerating a migration) has imported it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.schema.box import Base, EventColumns, _one_of

AGENCY_KINDS = ("police", "sheriff", "fire", "ems", "other")
OFFICER_STATUSES = ("active", "on_leave", "separated")
CUSTODY_ACTIONS = (
    "registered",
    "issued",
    "returned",
    "reassigned",
    "lost",
    "stolen",
    "found",
    "revoked",
    "destroyed",
)


class FleetBox(Base):
    """A box the console has heard from, with its last status."""

    __tablename__ = "fleet_boxes"
    box_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school: Mapped[str | None] = mapped_column(String(200))
    online: Mapped[bool] = mapped_column(Boolean)
    last_seen_at: Mapped[int] = mapped_column(Integer)
    software: Mapped[str | None] = mapped_column(String(64))
    list_version: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str | None] = mapped_column(String(32))
    alarms: Mapped[list[str]] = mapped_column(JSON)
    status: Mapped[dict[str, Any]] = mapped_column(JSON)


class FleetEvent(EventColumns, Base):
    """An event shipped home by a box; stored once per (box, the box's own event id)."""

    __tablename__ = "fleet_events"
    __table_args__ = (
        UniqueConstraint("box_id", "box_event_id", name="uq_fleet_events_box_event"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=True, sort_order=EventColumns.BEFORE
    )
    box_id: Mapped[str] = mapped_column(String(64), sort_order=EventColumns.BEFORE)
    box_event_id: Mapped[int] = mapped_column(Integer, sort_order=EventColumns.BEFORE)
    school: Mapped[str | None] = mapped_column(
        String(200), index=True, sort_order=EventColumns.BEFORE
    )
    received_at: Mapped[int] = mapped_column(Integer, sort_order=EventColumns.AFTER)


class FleetPublication(Base):
    """One signed list message: kept whole so an unacknowledged one is resent byte for byte."""

    __tablename__ = "fleet_publications"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(300))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)


Index("ix_fleet_events_box", FleetEvent.box_id, FleetEvent.ts_us)


class DistrictAgency(Base):
    """An agency the district trusts with fobs: a police department, a sheriff's office, ..."""

    __tablename__ = "district_agencies"
    __table_args__ = (CheckConstraint(_one_of("kind", AGENCY_KINDS), name="ck_agencies_kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(100))


class DistrictOfficer(Base):
    """One officer of an agency: a Holder of the master list, with a badge and a status."""

    __tablename__ = "district_officers"
    __table_args__ = (
        UniqueConstraint("agency_id", "badge", name="uq_officers_agency_badge"),
        CheckConstraint(_one_of("status", OFFICER_STATUSES), name="ck_officers_status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("district_agencies.id"), index=True)
    badge: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    status_changed_at: Mapped[int] = mapped_column(Integer)
    status_changed_by: Mapped[str] = mapped_column(String(100))
    status_reason: Mapped[str | None] = mapped_column(Text)


class DistrictCustody(Base):
    """One link of a fob's chain of custody. Append-only: triggers refuse UPDATE and DELETE.

    ``digest`` is SHA-256 over the row's fields and ``prev_digest``, the digest of the fob's
    previous row (empty for its first), so an edit made around the triggers shows.
    """

    __tablename__ = "district_custody"
    __table_args__ = (
        CheckConstraint(_one_of("action", CUSTODY_ACTIONS), name="ck_custody_action"),
        {"sqlite_autoincrement": True},
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64), index=True)
    action: Mapped[str] = mapped_column(String(16))
    custodian_before: Mapped[int | None] = mapped_column(ForeignKey("district_officers.id"))
    custodian_after: Mapped[int | None] = mapped_column(ForeignKey("district_officers.id"))
    acknowledgement: Mapped[str | None] = mapped_column(String(200))
    at: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    witness: Mapped[str | None] = mapped_column(String(200))
    prev_digest: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
