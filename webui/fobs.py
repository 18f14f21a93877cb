"""Fobs: the inventory, issuing and editing, a fob's history, and lost, stolen or returned."""

from __future__ import annotations

import math
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.control import ControlError
from appliance.store import UNSET, CredentialRow, DistrictOwned, StoreError
from appliance.store.rows import Unset
from appliance.wiegand.formats import WiegandError, parse_credential
from webui import fob_fields as ff
from webui import fob_history, localtime
from webui.auth import ANY_ROLE, actor, current_user, require_role
from webui.forms import MAX_INT, Form
from webui.state import Applied, state

bp = Blueprint("fobs", __name__, url_prefix="/fobs")
PAGE_SIZE = 50
STATUSES = ("issued", "returned", "lost", "stolen", "revoked")
# What an admin may move a fob to here; each one is refused at the door at once.
CHANGES = ("lost", "stolen", "returned", "revoked")
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
    total = st.store.cards.count(**filters)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    rows = st.store.cards.list(
        **filters, limit=PAGE_SIZE, offset=(min(page, pages) - 1) * PAGE_SIZE
    )
    return render_template(
        "fobs/index.html", rows=rows, total=total, page=min(page, pages), pages=pages, args=args
    )


@bp.route("/issue", methods=["GET", "POST"])
@require_role("admin")
def issue() -> Page:
    """Issue a new fob: a card the box accepts, a holder on record or a new one with an agency."""
    st = state()
    form = Form(request.form)
    if request.method == "GET":
        source = request.args.get("from")
        if source is None:
            return _issue_page(form)
        if source != LAST_UNKNOWN:
            form.error("from", f"'from' must be {LAST_UNKNOWN} (the last unknown card read)")
            return _issue_page(form), 400
        fields, note = _last_unknown_card()
        return _issue_page(Form(fields), presented=note, found=bool(fields))
    offered = ff.choices(form.data.get("format", "").strip().upper() or None)
    card = ff.read_card(form, offered.formats)
    serial = form.text("serial", "Serial", required=False, max_len=64)
    holder = ff.read_holder(form)
    agency = ff.agency_of(holder, offered.holders)
    group = ff.read_group(form, offered.groups, agency)
    start, end = ff.read_validity(form)
    pin = ff.read_pin(form)
    if group is not None and group.pin_required and pin is None and "pin" not in form.errors:
        form.error("pin", f"PIN is required: group {group.name} opens with card + PIN")
    if not form.ok or card is None or holder is None or group is None:
        return _issue_page(form, agency=agency), 400
    try:
        st.store.cards.add(
            card.format,
            card.facility,
            card.number,
            holder.name,
            serial=serial,
            group=group.name,
            actor=actor(),
            valid_from=None if isinstance(start, Unset) else start,
            valid_until=None if isinstance(end, Unset) else end,
            pin=pin,
            holder_agency=holder.agency,
            holder_on_record=not holder.is_new,
        )
    except StoreError as exc:
        form.error(_field_of(exc, holder.is_new), f"not issued: {exc}")
        return _issue_page(form, agency=agency), 409 if isinstance(exc, DistrictOwned) else 400
    applied = st.confirm()
    flash(f"Fob issued to {holder.name}.{applied.suffix()}", applied.level)
    return redirect(url_for("fobs.index", q=serial or holder.name))


def _field_of(exc: StoreError, new_holder: bool = False) -> str:
    """The form field a store refusal is about (the card fields unless it names another)."""
    text = str(exc)
    if text.startswith(("credential ", "serial ")):
        return "format" if text.startswith("credential ") else "serial"
    for needle, name in (
        ("agency", "new_agency"),
        ("holder", "new_holder" if new_holder else "holder"),
        ("PIN", "pin"),
        ("group", "group"),
        ("valid", "valid_until"),
    ):
        if needle in text:
            return name
    return "format"


def _issue_page(
    form: Form, *, presented: str | None = None, found: bool = False, agency: str | None = None
) -> str:
    from_door: dict[str, Any] = {"from": LAST_UNKNOWN}
    offered = ff.choices(form.data.get("format") or None)
    return render_template(
        "fobs/issue.html",
        form=form,
        choices=offered,
        group=ff.suggested_group(form, agency),
        zone=localtime.zone_label(),
        presented=presented,
        found=found,
        from_door=url_for("fobs.issue", **from_door),
    )


def _last_unknown_card() -> tuple[dict[str, str], str]:
    """The issue form's card fields from the last unknown card read at the door, and a note."""
    try:
        status = state().status()
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
    row = state().store.cards.get(credential=selector)
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
        row = st.store.cards.get(credential=selector)
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
        st.store.cards.set_status(credential=selector, status=status, reason=reason, actor=actor())
    except StoreError as exc:
        form.error("status", f"nothing was changed: {exc}")
        code = 409 if isinstance(exc, DistrictOwned) else 400
        return render_template("fobs/status.html", row=row, form=form, changes=CHANGES), code
    applied = st.confirm()
    note = applied.note("the door refuses it now")
    flash(f"{row.credential} ({row.holder}) is now {status}: {note}.", applied.level)
    return redirect(url_for("fobs.index", q=row.serial or row.credential))


def _fob(credential: str) -> tuple[tuple[str, int | None, int], CredentialRow]:
    """The selector and row of the fob named in the URL (or 404)."""
    selector = _selector(credential)
    try:
        row = state().store.cards.get(credential=selector)
    except StoreError as exc:
        abort(404, description=str(exc))
    if row is None:
        abort(404, description=f"no credential {credential} on record")
    return selector, row


@bp.route("/<credential>")
@require_role(*ANY_ROLE)
def show(credential: str) -> Page:
    """A fob: its details and its history (reads at the door, status changes, edits), paged."""
    selector, row = _fob(credential)
    args = Form(request.args)
    before = args.integer("before", "Older-than event id", required=False, high=MAX_INT)
    if not args.ok:
        return render_template("error.html", code=400, message=args.errors["before"]), 400
    events, older = fob_history.page(selector, before)
    return render_template(
        "fobs/show.html",
        row=row,
        events=events,
        older=older,
        before=before,
        show_time=localtime.show,
        sentence=fob_history.sentence,
        zone=localtime.zone_label(),
    )


def _current(row: CredentialRow) -> dict[str, str]:
    """The edit form's fields as the fob is now."""
    return {
        "holder": row.holder,
        "group": row.group,
        "valid_from": ff.day_text(row.valid_from, end=False),
        "valid_until": ff.day_text(row.valid_until, end=True),
        "rev": str(row.rev),
    }


@bp.route("/<credential>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit(credential: str) -> Page:
    """Change a fob's holder, group, validity or PIN; the door applies it at once."""
    selector, row = _fob(credential)
    st = state()
    current = _current(row)
    if request.method == "GET" or row.source == "district":
        code = 200 if request.method == "GET" else 409
        return _edit_page(Form(current), row), code
    form = Form(request.form)
    # The form names the version of the fob it was loaded for: never overwrite a later change.
    if form.data.get("rev") != current["rev"]:
        form.error("rev", "this fob was changed since the form was opened: reload and try again")
    holder = ff.read_holder(form)
    offered = ff.choices()
    agency = ff.agency_of(holder, offered.holders)
    group = ff.read_group(form, offered.groups, agency)
    start, end = ff.read_validity(form, (current["valid_from"], current["valid_until"]))
    pin = ff.read_pin(form)
    clear = form.data.get("clear_pin") == "yes"
    if clear and pin is not None:
        form.error("pin", "give a new PIN or clear it, not both")
    has_pin = pin is not None or (row.has_pin and not clear)
    if group is not None and group.pin_required and not has_pin and "pin" not in form.errors:
        form.error("pin", f"PIN is required: group {group.name} opens with card + PIN")
    if not form.ok or holder is None or group is None:
        return _edit_page(form, row, agency), 400
    try:
        st.store.cards.update(
            credential=selector,
            holder=holder.name,
            holder_agency=holder.agency,
            group=group.name,
            valid_from=start,
            valid_until=end,
            pin=None if clear else (UNSET if pin is None else pin),
            actor=actor(),
        )
    except StoreError as exc:
        form.error(_field_of(exc, holder.is_new), f"nothing was changed: {exc}")
        return _edit_page(form, row, agency), 409 if isinstance(exc, DistrictOwned) else 400
    applied = st.confirm()
    note = "" if applied is Applied.AT_THE_DOOR else f" ({applied.note('')})"
    flash(f"Fob {row.serial or row.credential} saved{note}.", applied.level)
    return redirect(url_for("fobs.show", credential=row.credential))


def _edit_page(form: Form, row: CredentialRow, agency: str | None = None) -> str:
    return render_template(
        "fobs/edit.html",
        form=form,
        row=row,
        choices=ff.choices(),
        group=ff.suggested_group(form, agency),
        zone=localtime.zone_label(),
    )


@bp.app_context_processor
def _roles() -> dict[str, bool]:
    user = current_user()
    return {"is_admin": user is not None and user.role == "admin"}
