"""Holders and agencies: the people fobs are issued to, searched and paged; add and edit them."""

from __future__ import annotations

import math

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import DistrictOwned, HolderRow, Store, StoreError
from webui.auth import ANY_ROLE, actor, require_role
from webui.forms import Form
from webui.state import state

bp = Blueprint("holders", __name__, url_prefix="/holders")
PAGE_SIZE = 50
Page = str | tuple[str, int] | WerkzeugResponse
# (field, label, length limit, multiline), as the store's holder rules have them.
FIELDS = (
    ("agency", "Agency", 200, False),
    ("badge", "Badge", 64, False),
    ("contact", "Contact", 200, False),
    ("notes", "Notes", 2000, True),
)


def directory() -> Store:
    """The store, for its holder and agency reads (``store.holders``)."""
    return state().store


@bp.route("")
@require_role(*ANY_ROLE)
def index() -> Page:
    """Every holder with agency, badge, contact and fob count; search by name, agency or badge."""
    args = Form(request.args)
    search = args.text("q", "Search", required=False, max_len=200)
    page = args.integer("page", "Page", required=False, low=1, high=10**9) or 1
    if not args.ok:
        page_html = render_template(
            "holders/index.html", rows=[], total=0, page=1, pages=1, args=args
        )
        return page_html, 400
    store = directory()
    total = store.holders.count(search=search)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(page, pages)
    rows = store.holders.search(search=search, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "holders/index.html", rows=rows, total=total, page=page, pages=pages, args=args
    )


@bp.route("/agencies")
@require_role(*ANY_ROLE)
def agencies() -> str:
    """The distinct agencies, each with how many holders and fobs it has."""
    return render_template("holders/agencies.html", rows=directory().holders.agencies())


def _optional_fields(form: Form) -> dict[str, str | None]:
    """Agency, badge, contact and notes from the form; an empty field is None (cleared)."""
    return {
        name: form.text(name, label, required=False, max_len=limit, multiline=multiline)
        for name, label, limit, multiline in FIELDS
    }


@bp.route("/add", methods=["GET", "POST"])
@require_role("admin")
def add() -> Page:
    """Put a new holder on record."""
    form = Form(request.form)
    if request.method == "GET":
        return render_template("holders/edit.html", form=form, holder=None)
    name = form.text("name", "Name", max_len=200)
    fields = _optional_fields(form)
    if not form.ok or name is None:
        return render_template("holders/edit.html", form=form, holder=None), 400
    try:
        state().store.holders.add(name, **fields, actor=actor())
    except StoreError as exc:
        form.error("name", f"not added: {exc}")
        return render_template("holders/edit.html", form=form, holder=None), 400
    flash(f"Holder {name} added.", "ok")
    return redirect(url_for("holders.index", q=name))


def _holder(holder_id: int) -> HolderRow:
    try:
        found = directory().holders.get(holder_id)
    except StoreError as exc:
        abort(404, description=str(exc))
    if found is None:
        abort(404, description=f"no holder with id {holder_id}")
    return found


@bp.route("/<int:holder_id>/edit", methods=["GET", "POST"])
@require_role("admin")
def edit(holder_id: int) -> Page:
    """Change a holder's agency, badge, contact and notes (an empty field clears it)."""
    holder = _holder(holder_id)
    owned = state().store.fleet.owns(holder_id=holder.id)
    if request.method == "GET":
        current = {name: getattr(holder, name) or "" for name, *_ in FIELDS}
        current["name"] = holder.name
        return render_template(
            "holders/edit.html", form=Form(current), holder=holder, district=owned
        )
    form = Form(request.form)
    # The form names the holder it was loaded for: a rename since then must not redirect it.
    if form.data.get("name") != holder.name:
        form.error("name", "this form was not for this holder: reload the page and try again")
    fields = _optional_fields(form)
    if not form.ok:
        return render_template("holders/edit.html", form=form, holder=holder, district=owned), 400
    try:
        state().store.holders.update(
            holder.name,
            agency=fields["agency"],
            badge=fields["badge"],
            contact=fields["contact"],
            notes=fields["notes"],
            actor=actor(),
        )
    except StoreError as exc:
        form.error("agency", f"nothing was changed: {exc}")
        page = render_template("holders/edit.html", form=form, holder=holder, district=owned)
        return page, 409 if isinstance(exc, DistrictOwned) else 400
    flash(f"Holder {holder.name} saved.", "ok")
    return redirect(url_for("holders.index", q=holder.name))
