"""The meta table: key/value facts that no decision uses (no rev bump, no event)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from appliance.store.schema.box import Meta


def meta_get(s: Session, key: str) -> str | None:
    """A meta value, or None."""
    return s.scalar(select(Meta.value).where(Meta.key == key))


def meta_set(s: Session, key: str, value: str) -> None:
    """Write a meta value (no rev bump: nothing a decision uses)."""
    s.merge(Meta(key=key, value=value))
