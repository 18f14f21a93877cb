"""Event kinds: their labels and groups for filters, and checking a kinds filter (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from difflib import get_close_matches

# Every kind the code base records, with the label a filter shows for it.
KINDS: dict[str, str] = {
    "granted": "Entries granted",
    "denied": "Refused cards",
    "pin_wait": "Waiting for a PIN",
    "mode": "Lockdown and hold changes",
    "schedule": "Unlock schedule",
    "unlock": "Momentary unlocks",
    "unlocked": "Strike released",
    "locked": "Strike locked",
    "door_open": "Door opened",
    "door_closed": "Door closed",
    "rex": "Request to exit",
    "alarm": "Alarms",
    "alarm_cleared": "Alarms cleared",
    "fault": "Faults",
    "fault_cleared": "Faults cleared",
    "reader_fault": "Reader wiring faults",
    "admin": "Changes and sign-ins",
    "fleet": "District list applied",
    "fleet_rejected": "District messages refused",
    "controller": "Controller started or stopped",
}

# The kinds filter's groups, in the order a person looks for them.
KIND_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Entries granted", ("granted",)),
    ("Refused", ("denied", "pin_wait")),
    ("Lockdown and mode", ("mode", "schedule", "unlock")),
    ("Door", ("door_open", "door_closed", "rex", "unlocked", "locked")),
    ("Alarms and faults", ("alarm", "alarm_cleared", "fault", "fault_cleared", "reader_fault")),
    ("Admin changes", ("admin",)),
    ("District and system", ("fleet", "fleet_rejected", "controller")),
)


def kind_label(kind: str) -> str:
    """A kind's label in a filter: ``Entries granted``; an unknown one by its name."""
    return KINDS.get(kind, kind.replace("_", " ").capitalize())


def unknown_kinds(
    asked: Iterable[str], present: Iterable[str] = (), *, then: str | None = None
) -> str | None:
    """Why a kinds filter is wrong, or None when every kind is known.

    The message ends by listing the valid kinds, or with ``then`` (a page says where to choose).
    """
    valid = sorted(set(KINDS) | set(present))
    bad = [k for k in dict.fromkeys(asked) if k not in valid]
    if not bad:
        return None
    hints = []
    for kind in bad:
        close = get_close_matches(kind, valid, n=1, cutoff=0.6)
        hints.append(f"{kind!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
    noun = "kind" if len(bad) == 1 else "kinds"
    rest = then or f"the kinds are {', '.join(valid)}"
    return f"unknown event {noun} {', '.join(hints)}: {rest}"
