"""Schema added by migration 0002: accountability reviews and the indexes its reports need.

Imported by the accountability store module, so ``Base.metadata`` holds these whenever the
Store is imported (the schema test compares that metadata with what the migrations build).
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from appliance.store.schema.box import Base, Event

# The same expression the queries use, so SQLite can match them to the index.
RESPONDER_FLAG = "json_extract(detail, '$.responder')"


class Review(Base):
    """An admin's review of one responder entry: the incident number or the reason, and who."""

    __tablename__ = "reviews"
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    incident: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[int] = mapped_column(Integer)


# Per-credential lookups (used since issue, last seen, tried since marked lost) are index seeks.
Index("ix_events_credential", Event.credential, Event.kind, Event.ts_us)
# The events page filters by holder over a million rows.
Index("ix_events_holder", Event.holder)
# Responder entries, newest first, without reading every granted event's JSON.
Index("ix_events_responder", Event.kind, text(RESPONDER_FLAG))
