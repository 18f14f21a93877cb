"""The JSON API's contract: the fields each endpoint takes, and the OpenAPI 3.1 document.

The views check input against the same Field declarations this document is built from,
so the document cannot drift from what the API accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from appliance import __version__
from webui.api_fields import Field
from webui.api_schemas import SCHEMAS, STATUSES

PREFIX = "/api/v1"
EVENT_ORDER = ("newest", "oldest")
ANY = ("admin", "operator", "auditor")
DOOR = ("admin", "operator")
ADMIN = ("admin",)

PAGE = (
    Field("limit", "integer", "How many to return (default 100).", low=1, high=500),
    Field("offset", "integer", "How many to skip.", high=10**9),
)
CREDENTIALS_QUERY = (
    Field("search", "string", "Holder, agency, serial or card (FORMAT:FACILITY:NUMBER)."),
    Field("status", "string", "Only credentials in this status.", choices=STATUSES),
    Field("holder", "string", "Only this holder's credentials (exact name)."),
    *PAGE,
)
CREDENTIAL_BODY = (
    Field("format", "string", "Wiegand format, e.g. H10301.", required=True, max_len=16),
    Field("facility", "integer", "Facility code, if the format has one."),
    Field("number", "integer", "Card number.", required=True),
    Field("holder", "string", "Holder's name (created if new).", required=True),
    Field("serial", "string", "Serial printed on the fob.", max_len=64),
    Field("group", "string", "Access group (default staff).", max_len=64),
)
STATUS_BODY = (
    Field("status", "string", "The new status.", required=True, choices=STATUSES),
    Field("reason", "string", "Why (kept in the audit log).", required=True, max_len=500),
)
HOLDERS_QUERY = (Field("search", "string", "Name, agency or badge."), *PAGE)
HOLDER_BODY = (
    Field("name", "string", "Full name (unique).", required=True),
    Field("agency", "string", "Agency, e.g. the police department."),
    Field("badge", "string", "Badge number.", max_len=64),
    Field("contact", "string", "How to reach them."),
    Field("notes", "string", "Notes (may span lines).", max_len=2000, multiline=True),
)
EVENTS_QUERY = (
    Field("kinds", "string", "Comma-separated event kinds, e.g. granted,denied.", max_len=400),
    Field("serial", "string", "Only events for this fob serial.", max_len=64),
    Field("holder", "string", "Only events whose holder contains this text (any case)."),
    Field("since", "datetime", "From this time (inclusive), ISO 8601 with an offset."),
    Field("until", "datetime", "Before this time (exclusive), ISO 8601 with an offset."),
    Field("after_id", "integer", "Only events with a larger id (for polling)."),
    Field("limit", "integer", "How many to return (default 100).", low=1, high=1000),
    Field("order", "string", "newest (default) or oldest first.", choices=EVENT_ORDER),
)
LOCKDOWN_BODY = (
    Field(
        "state",
        "string",
        "on: lockdown; off: back to normal.",
        required=True,
        choices=("on", "off"),
    ),
    Field("reason", "string", "Why (kept in the audit log).", required=True),
)
UNLOCK_BODY = (Field("reason", "string", "Why (kept in the audit log).", required=True),)

_TEXT = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _object(fields: Sequence[Field]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [f.name for f in fields if f.required],
        "properties": {f.name: {**f.schema(), "description": f.description} for f in fields},
    }


def _list(key: str, item: str) -> dict[str, Any]:
    props = {key: {"type": "array", "items": _ref(item)}}
    if key != "events":
        props.update(
            total={"type": "integer"}, limit={"type": "integer"}, offset={"type": "integer"}
        )
    return {"type": "object", "properties": props}


_ERRORS = {
    "400": "Bad input (the message names the field), or a body that is not one JSON object in "
    "UTF-8 with 'Content-Type: application/json'; nothing was changed.",
    "401": "No token, or a token that is not valid (revoked, replaced, or its account disabled).",
    "403": "The token's role may not do this.",
    "404": "No such thing.",
    "409": "Conflicts with what is on record, or the credential is from the district list "
    "(changed at the district console only); nothing was changed.",
    "413": "The body is larger than 1 MB; nothing was changed.",
    "503": "The database or the controller could not be reached, or first-run setup is not done "
    "yet (then 'reason' says so); nothing was changed.",
}


def _operation(
    summary: str,
    roles: Sequence[str],
    ok: tuple[str, dict[str, Any], str],
    *,
    errors: Sequence[str] = ("400", "401", "403", "503"),
    query: Sequence[Field] = (),
    body: Sequence[Field] = (),
    path_params: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    params = list(path_params) + [
        {
            "name": f.name,
            "in": "query",
            "required": f.required,
            "description": f.description,
            "schema": f.schema(),
        }
        for f in query
    ]
    code, schema, description = ok
    responses = {code: _json(schema, description)}
    for err in errors:
        responses[err] = _json(_ref("Error"), _ERRORS[err])
    op: dict[str, Any] = {
        "summary": summary,
        "description": f"Roles: {', '.join(roles)}. Unknown fields and parameters are refused.",
        "x-roles": list(roles),
        "parameters": params,
        "responses": responses,
    }
    if body:
        responses["413"] = _json(_ref("Error"), _ERRORS["413"])
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _object(body)}},
        }
    return op


def _collection(
    names: tuple[str, str],
    listing: tuple[str, Sequence[Field]],
    adding: tuple[str, str, Sequence[Field]],
) -> dict[str, Any]:
    """A collection's path: GET a page of them, POST a new one (admins only).

    ``names``: the list's key and the item's schema; ``listing``: the GET's summary and query;
    ``adding``: the POST's summary, its 201 description and its body.
    """
    key, item = names
    list_summary, query = listing
    add_summary, added, body = adding
    return {
        "get": _operation(list_summary, ANY, ("200", _list(key, item), "A page"), query=query),
        "post": _operation(
            add_summary,
            ADMIN,
            ("201", _ref(item), added),
            errors=("400", "401", "403", "409", "503"),
            body=body,
        ),
    }


_SERIAL = {
    "name": "serial",
    "in": "path",
    "required": True,
    "description": "The fob's serial.",
    "schema": {"type": "string", "maxLength": 64},
}
_STATUS = {
    "type": "object",
    "properties": {
        "controller": {"type": "string", "enum": ["running", "not running"]},
        "door": {"type": "object", "description": "The controller's live status."},
        "mode": {"type": "string", "description": "The stored mode, when no controller runs."},
        "mode_reason": _TEXT,
        "error": {"type": "string", "description": "Why the controller was not reached."},
    },
}
_FLEET = {
    "type": "object",
    "properties": {
        "member": {"type": "boolean", "description": "Whether the config has a [fleet] section."},
        "config": {
            "type": ["object", "null"],
            "description": "broker (without a password), district, box_id, school.",
        },
        "status": {
            "type": "object",
            "description": "What the fleet agent last wrote ({} if nothing): connected, broker, "
            "box_id, school, list_version, list_applied_at, last_message_at, outbox_pending, "
            "rejections, last_rejection.",
        },
    },
}
_TOLD = {"type": "boolean", "description": "Whether a running controller was reached."}
_APPLIED = {
    "type": "string",
    "enum": ["at_the_door", "not_confirmed", "no_controller"],
    "description": "at_the_door: the controller's view has the change (waited up to 1.5 s); "
    "not_confirmed: stored, the controller did not confirm in time; no_controller: none running, "
    "it applies the change at its start.",
}


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document for every endpoint under /api/v1."""
    open_op = _operation(
        "This document.", ("anyone",), ("200", {"type": "object"}, "OpenAPI 3.1"), errors=()
    )
    open_op["security"] = []
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Doorward door API",
            "version": __version__,
            "description": "One door's cards, holders, events and lockdown. Create a token at "
            f"{PREFIX}/token and send it as 'Authorization: Bearer <token>'. Times are ISO 8601 "
            'with an offset; every error is {"error": "..."}.',
        },
        "servers": [{"url": PREFIX}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A per-user API token.",
                }
            },
            "schemas": SCHEMAS,
        },
        "paths": {
            "/openapi.json": {"get": open_op},
            "/status": {
                "get": _operation(
                    "The door now.", ANY, ("200", _STATUS, "The door"), errors=("401", "403", "503")
                )
            },
            "/credentials": _collection(
                ("credentials", "Credential"),
                ("List credentials, newest first.", CREDENTIALS_QUERY),
                ("Issue a credential.", "Issued", CREDENTIAL_BODY),
            ),
            "/credentials/{serial}/status": {
                "post": _operation(
                    "Change a credential's status; the reply's applied says whether the door "
                    "has it (the CLI and the admin page wait the same way).",
                    ADMIN,
                    (
                        "200",
                        {
                            "allOf": [
                                _ref("Credential"),
                                {
                                    "type": "object",
                                    "properties": {"controller_told": _TOLD, "applied": _APPLIED},
                                },
                            ]
                        },
                        "Changed",
                    ),
                    errors=("400", "401", "403", "404", "409", "503"),
                    body=STATUS_BODY,
                    path_params=[_SERIAL],
                )
            },
            "/fleet": {
                "get": _operation(
                    "This box's link to the district fleet.",
                    ANY,
                    ("200", _FLEET, "The link"),
                    errors=("401", "403", "503"),
                )
            },
            "/holders": _collection(
                ("holders", "Holder"),
                ("List holders by name.", HOLDERS_QUERY),
                ("Add a holder.", "Added", HOLDER_BODY),
            ),
            "/events": {
                "get": _operation(
                    "Query the audit log.",
                    ANY,
                    ("200", _list("events", "Event"), "Events"),
                    query=EVENTS_QUERY,
                )
            },
            "/lockdown": {
                "post": _operation(
                    "Put the door in lockdown, or lift it.",
                    DOOR,
                    (
                        "200",
                        {
                            "type": "object",
                            "properties": {
                                "mode": {"type": "string"},
                                "controller_told": _TOLD,
                                "applied": _APPLIED,
                            },
                        },
                        "Stored",
                    ),
                    body=LOCKDOWN_BODY,
                )
            },
            "/unlock": {
                "post": _operation(
                    "Unlock the door once (through the running controller).",
                    DOOR,
                    (
                        "200",
                        {"type": "object", "properties": {"unlocked": {"type": "boolean"}}},
                        "Unlocked",
                    ),
                    body=UNLOCK_BODY,
                )
            },
        },
    }
