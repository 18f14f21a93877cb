"""Schema added by migration 0003: the district console's own tables.

A box has them too (one schema, one migration chain in appliance/store/schema/migrations) but
leaves them empty. The box's store never imports this module: ``Base.metadata`` holds these tables
once the district's code (or a test, or a developer autogenerating a migration) has imported it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.schema.box import Base, EventColumns


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
