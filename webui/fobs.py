"""Fobs: the inventory (search, paged), issuing a fob, and marking one lost, stolen or returned."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.controller.control import ControlError
from appliance.store import DistrictOwned, StoreError
from appliance.wiegand.formats import WiegandError, parse_credential
from webui.auth import ANY_ROLE, actor, current_user, require_role
from webui.forms import Form
from webui.state import state

bp = Blueprint("fobs", __name__, url_prefix="/fobs")
PAGE_SIZE = 50
STATUSES = ("issued", "returned", "lost", "stolen", "revoked")
# What an admin may move a fob to here; each one is refused at the door at once.
CHANGES = ("lost", "stolen", "returned", "revoked")
FORMATS = ("H10301", "H10306", "H10302", "H10304", "C1K35S", "C1K48S")
LAST_UNKNOWN = "last_unknown"  # /fobs/issue?from=last_unknown: enroll by presenting the card
Page = str | tuple[str, int] | WerkzeugResponse


def _selector(text: str) -> tuple[str, int | None, int]:
    """``FORMAT:FACILITY:NUMBER`` or ``FORMAT:NUMBER`` as the store's card selector (or 404)."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(p.isascii() and p.isdigit() for p in parts[1:]):
        abort(404, description=f"{text!r} is not a credential (FORMAT:FACILITY:NUMBER)")
    if any(len(p) > 20 for p in parts):
        abort(404, description="no such credential")
    facility = int(parts[1]) if len(parts) == 3 else None
    return parts[0], facility, int(parts[-1])


@bp.route("")
@require_role(*ANY_ROLE)
def index() -> Page:
    """The inventory: search by holder, agency, serial or card; filter by status; 50 a page."""
    args = Form(request.args)
    search = args.text("q", "Search", required=False, max_len=200)
    status = request.args.get("status", "")
    if status and status not in STATUSES:
        args.error("status", f"status must be one of {', '.join(STATUSES)}")
    page = args.integer("page", "Page", required=False, low=1, high=10**9) or 1
    if not args.ok:
        return render_template("fobs/index.html", rows=[], total=0, page=1, pages=1, args=args), 400
    st = state()
    filters = {"search": search, "status": status or None}
    total = st.store.count_credentials(**filters)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = st.store.list_credentials(
        **filters, limit=PAGE_SIZE, offset=(min(page, pages) - 1) * PAGE_SIZE
    )
    return render_template(
        "fobs/index.html", rows=rows, total=total, page=min(page, pages), pages=pages, args=args
    )


@bp.route("/issue", methods=["GET", "POST"])
@require_role("admin")
def issue() -> Page:
    """Issue a new fob to a holder (created by name if new)."""
    st = state()
    groups = [g.name for g in st.store.list_groups()]
    form = Form(request.form)
    if request.method == "GET":
        source = request.args.get("from")
        if source is None:
            return _issue_page(form, groups)
        if source != LAST_UNKNOWN:
            form.error("from", f"'from' must be {LAST_UNKNOWN} (the last unknown card read)")
            return _issue_page(form, groups), 400
        fields, note = _last_unknown_card()
        return _issue_page(Form(fields), groups, presented=note, found=bool(fields))
    fmt = form.text("format", "Format", max_len=16)
    facility = form.integer("facility", "Facility", required=False)
    number = form.integer("number", "Card number")
    holder = form.text("holder", "Holder", max_len=200)
    serial = form.text("serial", "Serial", required=False, max_len=64)
    group = form.choice("group", "Group", groups)
    if not form.ok or fmt is None or number is None or holder is None or group is None:
        return _issue_page(form, groups), 400
    try:
        st.store.add_credential(
            fmt.upper(), facility, number, holder, serial=serial, group=group, actor=actor()
        )
    except StoreError as exc:
        form.error("format", f"not issued: {exc}")
        return _issue_page(form, groups), 409 if isinstance(exc, DistrictOwned) else 400
    told = st.refresh()
    flash(f"Fob issued to {holder}." + ("" if told else " (no controller is running)"), "ok")
    return redirect(url_for("fobs.index", q=serial or holder))


def _issue_page(
    form: Form, groups: list[str], *, presented: str | None = None, found: bool = False
) -> str:
    from_door: dict[str, Any] = {"from": LAST_UNKNOWN}
    return render_template(
        "fobs/issue.html",
        form=form,
        groups=groups,
        formats=FORMATS,
        presented=presented,
        found=found,
        from_door=url_for("fobs.issue", **from_door),
    )


def _last_unknown_card() -> tuple[dict[str, str], str]:
    """The issue form's card fields from the last unknown card read at the door, and a note."""
    try:
        status = state().control("status").get("status")
    except ControlError as exc:
        return {}, f"No card can be taken from the door: the controller did not answer ({exc})."
    text = status.get("last_unknown_card") if isinstance(status, dict) else None
    if text is None:
        return {}, "No unknown card has been read at the door since the controller started."
    try:
        card = parse_credential(text)
    except WiegandError as exc:
        return {}, f"The door reported a card this page cannot use: {exc}."
    fields = {
        "format": card.format,
        "facility": "" if card.facility is None else str(card.facility),
        "number": str(card.number),
    }
    note = f"Filled in from the last unknown card read at the door: {card}."
    selector = (card.format, card.facility, card.number)
    row = state().store.get_credential(credential=selector)
    if row is not None:  # enrolled since it was read: issuing it again would be refused
        origin = ", from the district list" if row.source == "district" else ""
        note += f" It is already on record for {row.holder} ({row.status}{origin})."
    return fields, note


@bp.route("/<credential>/status", methods=["GET", "POST"])
@require_role("admin")
def change_status(credential: str) -> Page:
    """Mark a fob lost, stolen, returned or revoked, with a reason; the door refuses it at once."""
    st = state()
    selector = _selector(credential)
    try:
        row = st.store.get_credential(credential=selector)
    except StoreError as exc:
        abort(404, description=str(exc))
    if row is None:
        abort(404, description=f"no credential {credential} on record")
    form = Form(request.form)
    if request.method == "GET":
        return render_template("fobs/status.html", row=row, form=form, changes=CHANGES)
    status = form.choice("status", "New status", CHANGES)
    reason = form.text("reason", "Reason", max_len=500, multiline=True)
    if not form.ok or status is None:
        return render_template("fobs/status.html", row=row, form=form, changes=CHANGES), 400
    try:
        st.store.set_status(credential=selector, status=status, reason=reason, actor=actor())
    except StoreError as exc:
        form.error("status", f"nothing was changed: {exc}")
        code = 409 if isinstance(exc, DistrictOwned) else 400
        return render_template("fobs/status.html", row=row, form=form, changes=CHANGES), code
    told = st.refresh()
    note = "the door refuses it now" if told else "no controller is running: applies at its start"
    flash(f"{row.credential} ({row.holder}) is now {status}: {note}.", "ok")
    return redirect(url_for("fobs.index", q=row.serial or row.credential))


@bp.app_context_processor
def _roles() -> dict[str, bool]:
    user = current_user()
    return {"is_admin": user is not None and user.role == "admin"}
