"""The data that decisions are made from: plain, immutable, no I/O.

The store produces these from the database; the controller holds them in a ``View``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import NamedTuple


class Status(StrEnum):
    """Where a credential (fob or badge) is in its life."""

    ISSUED = "issued"
    RETURNED = "returned"
    LOST = "lost"
    STOLEN = "stolen"
    REVOKED = "revoked"


class Mode(StrEnum):
    """The door's mode, as stored; DEGRADED is the controller's own, never stored."""

    NORMAL = "normal"
    LOCKDOWN = "lockdown"
    HELD_UNLOCKED = "held_unlocked"


# Format codes for packing a credential into one int key (compact for 2,000,000 cards in memory).
FORMAT_CODES: dict[str, int] = {
    "H10301": 1,
    "H10306": 2,
    "C1K35S": 3,
    "H10304": 4,
    "H10302": 5,
    "C1K48S": 6,
}
RAW_CODE_BASE = 16  # RAW<N> is 16 + N, N <= 128


def card_key(fmt: str, facility: int | None, number: int) -> int:
    """One int that identifies a credential: number, facility and format packed together."""
    code = FORMAT_CODES.get(fmt)
    if code is None:
        if not fmt.startswith("RAW"):
            raise ValueError(f"unknown format {fmt!r}")
        code = RAW_CODE_BASE + int(fmt[3:])
    return (number << 32) | ((facility or 0) << 8) | code


@dataclass(frozen=True, slots=True)
class Window:
    """A weekly window: on ``days`` (0 = Monday), from ``start`` to ``end`` minutes past midnight.

    ``end`` <= ``start`` means the window runs past midnight into the next day.
    """

    days: frozenset[int]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class GroupPolicy:
    """Who may open which doors when."""

    id: int
    name: str
    all_doors: bool
    doors: frozenset[str]
    always: bool  # at all times; otherwise only inside ``windows``
    windows: tuple[Window, ...] = ()
    holidays: frozenset[date] = field(default_factory=frozenset)
    lockdown_immune: bool = False
    pin_required: bool = False


class CardEntry(NamedTuple):
    """What a decision needs to know of one credential (a tuple: 2,000,000 fit in memory)."""

    id: int
    status: Status
    group_id: int
    valid_from: float | None  # Unix seconds, or None for no bound
    valid_until: float | None
    pin_hash: str | None
