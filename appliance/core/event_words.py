"""The words events are told in: who did it, which fob, what a status or a refusal means (pure).

``appliance.core.describe`` makes the sentences from these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol


class EventLike(Protocol):
    """What a sentence is made of: a box's stored event or one shipped to the district."""

    @property
    def kind(self) -> str: ...
    @property
    def reason(self) -> str | None: ...
    @property
    def credential(self) -> str | None: ...
    @property
    def holder(self) -> str | None: ...
    @property
    def serial(self) -> str | None: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def detail(self) -> Mapping[str, Any] | None: ...


# What each status means in a sentence about a fob ("Fob X reported lost by alice").
STATUS_DONE = {
    "issued": "reissued",
    "revoked": "revoked",
    "lost": "reported lost",
    "stolen": "reported stolen",
    "returned": "returned",
}

# Why a card was refused, finishing "Denied: fob X ...".
DENIED = {
    "revoked": "is revoked",
    "lost": "is reported lost",
    "stolen": "is reported stolen",
    "returned": "was returned",
    "expired": "has expired",
    "not yet valid": "is not valid yet",
    "no access to this door": "has no access to this door",
    "outside schedule": "is outside its group's schedule",
    "holiday": "is not valid on a holiday",
    "clock not synchronised": "is on a schedule and the clock is not set yet",
    "lockdown": "is refused during lockdown",
    "PIN required": "needs its PIN",
    "wrong PIN": "was given a wrong PIN",
}

MODES = {"normal": "normal", "lockdown": "lockdown", "held_unlocked": "held unlocked"}
ALARMS = {"held_open": "door held open", "forced_open": "door forced open"}


def by(actor: str | None) -> str:
    """Who did it, for people: ``web:alice`` is alice, ``cli:root`` root on the command line."""
    if not actor:
        return "someone unknown"
    scheme, _, name = actor.partition(":")
    if not name:
        return "the lockdown button" if actor == "button" else actor
    if scheme == "web":
        return name
    if scheme == "cli":
        return f"{name} on the command line"
    if scheme == "fleet":
        return f"the district ({name})"
    return actor


def fob(serial: str | None, credential: str | None, holder: str | None = None) -> str:
    """A fob by its serial (else its card number), with its holder in brackets when known."""
    name = f"fob {serial}" if serial else f"card {credential}" if credential else "a card"
    return f"{name} ({holder})" if holder else name


def person(e: EventLike) -> str:
    """A holder first, the fob in brackets: ``Ofc. Jane Smith (CPD-0043)``."""
    tag = e.serial or e.credential
    if e.holder:
        return f"{e.holder} ({tag})" if tag else e.holder
    return fob(e.serial, e.credential)


def cap(text: str) -> str:
    """The text with its first letter capitalised."""
    return text[:1].upper() + text[1:]


def with_reason(text: str, reason: object) -> str:
    """``text: reason``, or the text alone."""
    return f"{text}: {reason}" if reason else text
