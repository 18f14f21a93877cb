"""The objects the JSON API answers with (OpenAPI components), each field described for people."""

from __future__ import annotations

from typing import Any

STATUSES = ("issued", "returned", "lost", "stolen", "revoked")


def _f(kind: str | list[str], description: str, **more: Any) -> dict[str, Any]:
    return {"type": kind, "description": description, **more}


def _text(description: str) -> dict[str, Any]:
    return _f(["string", "null"], description)


def _time(description: str) -> dict[str, Any]:
    return _f(["string", "null"], description, format="date-time")


SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": _f("string", "What was wrong."),
            "reason": _f("string", "Only before first-run setup: 'first-run setup not done'."),
        },
    },
    "Credential": {
        "type": "object",
        "properties": {
            "credential": _f(
                "string",
                "FORMAT:FACILITY:NUMBER, as the reader sees it.",
                examples=["H10301:12:3456"],
            ),
            "format": _f("string", "Wiegand format, e.g. H10301."),
            "facility": _f(["integer", "null"], "Facility code (null if the format has none)."),
            "number": _f("integer", "Card number."),
            "serial": _text("Serial printed on the fob."),
            "holder": _f("string", "Who holds it."),
            "agency": _text("The holder's agency."),
            "group": _f("string", "Access group (its schedule and lockdown behaviour)."),
            "status": _f("string", "Only issued credentials open the door.", enum=list(STATUSES)),
            "status_reason": _text("Why it is in this status."),
            "status_changed_at": _time("When the status last changed."),
            "status_changed_by": _f("string", "Who changed it (web:, api:, cli: and a name)."),
            "issued_at": _time("When it was issued."),
            "issued_by": _f("string", "Who issued it."),
            "returned_at": _time("When it was handed back, if it was."),
            "valid_from": _time("Not valid before this time (null: no limit)."),
            "valid_until": _time("Not valid from this time on (null: no limit)."),
            "has_pin": _f("boolean", "Whether a PIN is needed as well (never shown)."),
            "source": _f(
                "string",
                "district: from the district list, changed at the district console only (a change "
                "here is refused with 409); local: made on this box.",
                enum=["local", "district"],
            ),
        },
    },
    "Holder": {
        "type": "object",
        "properties": {
            "name": _f("string", "Full name (unique)."),
            "agency": _text("Agency, e.g. the police department."),
            "badge": _text("Badge number."),
            "contact": _text("How to reach them."),
            "notes": _text("Notes (may span lines)."),
            "created_at": _time("When the holder was added."),
            "credentials": _f("integer", "How many credentials they hold."),
        },
    },
    "Event": {
        "type": "object",
        "properties": {
            "id": _f("integer", "Grows with every event (poll with after_id)."),
            "time": _f("string", "When it happened.", format="date-time"),
            "kind": _f("string", "What happened, e.g. granted, denied, mode, unlock, admin."),
            "reason": _text("Why (a denial's reason, a lockdown's reason, ...)."),
            "credential": _text("The card, FORMAT:FACILITY:NUMBER."),
            "holder": _text("The card's holder at the time."),
            "serial": _text("The fob's serial at the time."),
            "door": _text("The door's name."),
            "actor": _text("Who did it, for changes (web:, api:, cli: and a name)."),
            "detail": _f(["object", "null"], "More about it, by kind."),
            "text": _f(
                "string", "The event as a sentence for people, e.g. 'Lockdown lifted by alice'."
            ),
        },
    },
}
