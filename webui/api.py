"""The JSON API under /api/v1: bearer tokens with their account's role, JSON in and out.

Only the Authorization header authenticates here, never the session cookie: the blueprint is
exempt from CSRF, which is safe only because a browser never sends a bearer token by itself.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, ParamSpec

from flask import Blueprint, g, request

from appliance.control import ControlError
from appliance.core import event_wire
from appliance.core.event_kinds import unknown_kinds
from appliance.store import (
    AdminUserRow,
    CredentialRow,
    DistrictOwned,
    EventRow,
    HolderRow,
    StoreError,
)
from webui import api_docs as docs
from webui import fleet
from webui.api_fields import ApiInputError, Field, check_body, check_query
from webui.api_json import (
    METHODS,
    ApiError,
    answer_errors_as_json,
    bad,
    exempt_from_csrf,
    json_body,
    unknown_path,
)
from webui.api_token import token_store, user_for
from webui.state import Applied, state

LOG = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix=docs.PREFIX)
P = ParamSpec("P")
Reply = tuple[dict[str, Any], int]
MAX_KINDS = 20
exempt_from_csrf(bp)
answer_errors_as_json(bp)  # 400, 401, 403, 404, 405, 413, 500, 503: all {"error": ...}


@bp.before_request
def _forget_session_user() -> None:
    g.user = None  # a session cookie must never act here (see the module's docstring)


def require_token(*roles: str) -> Callable[[Callable[P, Reply]], Callable[P, Reply]]:
    """An endpoint for tokens of these roles: no or bad token is 401, another role 403."""

    def wrap(view: Callable[P, Reply]) -> Callable[P, Reply]:
        @functools.wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> Reply:
            user = _token_user()
            if user.role not in roles:
                raise ApiError(
                    403, f"the {user.role} role may not do this (needs {', '.join(roles)})"
                )
            g.api_user = user
            return view(*args, **kwargs)

        return checked

    return wrap


def _token_user() -> AdminUserRow:
    header = request.headers.get("Authorization", "")
    if not header:
        raise ApiError(401, "send 'Authorization: Bearer <token>' (create one at /api/v1/token)")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "the Authorization header must be 'Bearer <token>'")
    user = user_for(token.strip())
    if user is None:
        raise ApiError(
            401, "that API token is not valid: revoked, replaced, or its account disabled"
        )
    return user


def _actor() -> str:
    user: AdminUserRow = g.api_user
    return f"api:{user.username}"


_bad = bad


def _query(fields: Sequence[Field]) -> dict[str, Any]:
    for key in request.args:
        if len(request.args.getlist(key)) > 1:
            _bad(f"{key!r} is given more than once")
    try:
        return check_query(request.args, list(request.args), fields)
    except ApiInputError as exc:
        _bad(str(exc))


def _body(fields: Sequence[Field]) -> dict[str, Any]:
    data = json_body()  # every malformed body (deep, not UTF-8, too big) is a JSON 400/413
    try:
        return check_body(data, fields)
    except ApiInputError as exc:
        _bad(str(exc))


def _when(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def credential_json(row: CredentialRow) -> dict[str, Any]:
    """A credential as the API shows it."""
    return {
        "credential": row.credential,
        "format": row.format,
        "facility": row.facility,
        "number": row.number,
        "serial": row.serial,
        "holder": row.holder,
        "agency": row.agency,
        "group": row.group,
        "status": row.status.value,
        "status_reason": row.status_reason,
        "status_changed_at": _when(row.status_changed_at),
        "status_changed_by": row.status_changed_by,
        "issued_at": _when(row.issued_at),
        "issued_by": row.issued_by,
        "returned_at": _when(row.returned_at),
        "valid_from": _when(row.valid_from),
        "valid_until": _when(row.valid_until),
        "has_pin": row.has_pin,
        "source": row.source,
    }


def holder_json(row: HolderRow) -> dict[str, Any]:
    """A holder as the API shows it."""
    return {
        "name": row.name,
        "agency": row.agency,
        "badge": row.badge,
        "contact": row.contact,
        "notes": row.notes,
        "created_at": _when(row.created_at),
        "credentials": row.credentials,
    }


def event_json(row: EventRow) -> dict[str, Any]:
    """An audit event as the API shows it (``event_wire.view``; times ISO 8601 in UTC)."""
    return event_wire.view(row, zone=UTC)


@bp.route("/openapi.json")
def openapi() -> Reply:
    """The OpenAPI 3.1 document (no token needed)."""
    return docs.document(), 200


@bp.route("/status")
@require_token(*docs.ANY)
def status() -> Reply:
    """The door now, from the controller; the stored mode if no controller answers."""
    st = state()
    try:
        door = dict(st.status())
    except (ControlError, KeyError, TypeError) as exc:
        mode, reason = st.store.door.mode()
        error = (
            str(exc) if isinstance(exc, ControlError) else "the controller's status is unreadable"
        )
        return {
            "controller": "not running",
            "mode": mode.value,
            "mode_reason": reason,
            "error": error,
        }, 200
    return {"controller": "running", "door": door}, 200


@bp.route("/credentials")
@require_token(*docs.ANY)
def credentials() -> Reply:
    """Credentials matching search, status and holder, newest first, one page."""
    q = _query(docs.CREDENTIALS_QUERY)
    limit, offset = q["limit"] or 100, q["offset"] or 0
    filters = {"search": q["search"], "status": q["status"], "holder": q["holder"]}
    st = state()
    rows = st.store.cards.list(**filters, limit=limit, offset=offset)
    total = st.store.cards.count(**filters)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "credentials": [credential_json(r) for r in rows],
    }, 200


def _conflict_or_bad(exc: StoreError) -> NoReturn:
    text = str(exc)
    conflict = isinstance(exc, DistrictOwned) or "already" in text
    raise ApiError(409 if conflict else 400, f"nothing was changed: {text}")


@bp.route("/credentials", methods=["POST"])
@require_token(*docs.ADMIN)
def issue() -> Reply:
    """Issue a credential to a holder (created by name if new)."""
    b = _body(docs.CREDENTIAL_BODY)
    st = state()
    group = b["group"] or "staff"
    groups = [grp.name for grp in st.store.groups.list()]
    if group not in groups:
        _bad(f"'group' must be one of {', '.join(groups)}")
    fmt = b["format"].upper()
    try:
        st.store.cards.add(
            fmt,
            b["facility"],
            b["number"],
            b["holder"],
            serial=b["serial"],
            group=group,
            actor=_actor(),
        )
        row = st.store.cards.get(credential=(fmt, b["facility"], b["number"]))
    except StoreError as exc:
        _conflict_or_bad(exc)
    assert row is not None
    st.confirm()  # the reply is the credential as stored; GET /status says what the door has
    return credential_json(row), 201


@bp.route("/credentials/<serial>/status", methods=["POST"])
@require_token(*docs.ADMIN)
def change_status(serial: str) -> Reply:
    """Move a credential (by serial) to a status, with a reason; ``applied``: has the door it?"""
    st = state()
    try:
        row = st.store.cards.get(serial=serial) if len(serial) <= 64 else None
    except StoreError:
        row = None
    if row is None:
        raise ApiError(404, f"no credential with serial {serial[:64]!r}")
    b = _body(docs.STATUS_BODY)
    try:
        changed = st.store.cards.set_status(
            serial=serial, status=b["status"], reason=b["reason"], actor=_actor()
        )
    except DistrictOwned as exc:
        raise ApiError(409, f"nothing was changed: {exc}") from None
    except StoreError as exc:
        _bad(f"nothing was changed: {exc}")
    applied = st.confirm()
    return {**credential_json(changed), **_told(applied)}, 200


@bp.route("/fleet")
@require_token(*docs.ANY)
def fleet_status() -> Reply:
    """This box's link to the district, as the fleet agent last wrote it."""
    config = fleet.fleet_config()
    public = None
    if config is not None:
        public = {k: getattr(config, k, None) for k in fleet.CONFIG_KEYS}
        if public["broker"] is not None:
            public["broker"] = fleet.public_broker(public["broker"])
    status = state().store.fleet.status()
    if "broker" in status:
        status["broker"] = fleet.public_broker(status["broker"])
    return {"member": config is not None, "config": public, "status": status}, 200


@bp.route("/holders")
@require_token(*docs.ANY)
def holders() -> Reply:
    """Holders matching search, by name, one page."""
    q = _query(docs.HOLDERS_QUERY)
    limit, offset = q["limit"] or 100, q["offset"] or 0
    store = token_store()
    rows = store.holders.search(search=q["search"], limit=limit, offset=offset)
    return {
        "total": store.holders.count(search=q["search"]),
        "limit": limit,
        "offset": offset,
        "holders": [holder_json(r) for r in rows],
    }, 200


@bp.route("/holders", methods=["POST"])
@require_token(*docs.ADMIN)
def add_holder() -> Reply:
    """Add a holder."""
    b = _body(docs.HOLDER_BODY)
    name = b.pop("name")
    try:
        state().store.holders.add(name, **b, actor=_actor())
    except StoreError as exc:
        _conflict_or_bad(exc)
    found = token_store().holders.search(search=name, limit=1000)
    row = next((r for r in found if r.name == name), None)
    if row is None:  # only if 1,000 other names contain this one
        return {"name": name, **b, "credentials": 0}, 201
    return holder_json(row), 201


@bp.route("/events")
@require_token(*docs.ANY)
def events() -> Reply:
    """Audit events matching every filter."""
    q = _query(docs.EVENTS_QUERY)
    kinds = None
    if q["kinds"] is not None:
        kinds = [k.strip() for k in q["kinds"].split(",") if k.strip()]
        if len(kinds) > MAX_KINDS or any(len(k) > 32 for k in kinds):
            _bad(f"'kinds' takes at most {MAX_KINDS} kinds of at most 32 characters each")
        problem = unknown_kinds(kinds, state().store.events.kinds())
        if problem:
            _bad(f"'kinds': {problem}")
    if q["since"] and q["until"] and q["until"] <= q["since"]:
        _bad("'until' must be later than 'since'")
    rows = state().store.events.query(
        limit=q["limit"] or 100,
        after_id=q["after_id"],
        kinds=kinds,
        serial=q["serial"],
        holder=q["holder"],
        since=q["since"],
        until=q["until"],
        newest_first=q["order"] != "oldest",
    )
    return {"events": [event_json(r) for r in rows]}, 200


@bp.route("/lockdown", methods=["POST"])
@require_token(*docs.DOOR)
def lockdown() -> Reply:
    """Lockdown on or off, with a reason; ``applied`` says whether the door has it."""
    b = _body(docs.LOCKDOWN_BODY)
    mode = "lockdown" if b["state"] == "on" else "normal"
    st = state()
    st.store.door.set_mode(mode, reason=b["reason"], actor=_actor())
    LOG.info("%s set the door mode to %s: %s", _actor(), mode, b["reason"])
    return {"mode": mode, **_told(st.confirm())}, 200


def _told(applied: Applied) -> dict[str, Any]:
    """What a change's reply says of the door: reached at all, and whether its view has it."""
    return {"controller_told": applied is not Applied.NO_CONTROLLER, "applied": applied.api}


@bp.route("/unlock", methods=["POST"])
@require_token(*docs.DOOR)
def unlock() -> Reply:
    """Unlock the door once, through the running controller."""
    b = _body(docs.UNLOCK_BODY)
    try:
        state().control.unlock(b["reason"], actor=_actor())
    except ControlError as exc:
        raise ApiError(503, f"the door was not unlocked: {exc}") from None
    return {"unlocked": True}, 200


@bp.route("/<path:rest>", methods=METHODS)
def unknown(rest: str) -> NoReturn:
    """Anything else under /api/v1: a JSON 404, or 405 naming the methods the path takes."""
    unknown_path()
