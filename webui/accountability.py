"""Accountability: responder entries and their review; fob reports (unused, unseen, lost)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.store import Store, StoreError
from appliance.store.tables.accountability import (
    INCIDENT_MAX,
    MAX_DAYS,
    NOTE_MAX,
    REVIEW_STATES,
    ResponderEntry,
)
from webui import localtime
from webui.auth import actor, require_role
from webui.events import api
from webui.forms import MAX_INT, Form

bp = Blueprint("accountability", __name__, url_prefix="/accountability")
PAGE_SIZE = 100
DEFAULT_DAYS = 30
VIEWERS = ("admin", "auditor")
Page = str | tuple[str, int] | WerkzeugResponse
REPORTS = {
    "never_used": "Fobs issued and never used",
    "not_seen": "Fobs not seen for a while",
    "lost": "Fobs lost or stolen, and whether anyone tried them since",
}


def _common() -> dict[str, Any]:
    return {"show": localtime.show, "zone": localtime.zone_label(), "reports": REPORTS}


def _entries(
    store: Store, state: str, before: int | None, after: int | None
) -> tuple[list[ResponderEntry], bool, bool]:
    """(entries newest first, whether older ones exist, whether newer ones exist)."""
    if after is not None:
        rows = store.reviews.responder_entries(state=state, after_id=after, limit=PAGE_SIZE + 1)
        newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        older = bool(rows) and bool(
            store.reviews.responder_entries(state=state, before_id=rows[-1].event_id, limit=1)
        )
        return rows, older, newer
    rows = store.reviews.responder_entries(state=state, before_id=before, limit=PAGE_SIZE + 1)
    older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    newer = (
        before is not None
        and bool(rows)
        and bool(store.reviews.responder_entries(state=state, after_id=rows[0].event_id, limit=1))
    )
    return rows, older, newer


@bp.route("")
@require_role(*VIEWERS)
def index() -> Page:
    """Every responder entry with its review state; filter reviewed or unreviewed; paged."""
    args = Form(request.args)
    state = request.args.get("state", "all")
    if state not in REVIEW_STATES:
        args.error("state", f"state must be one of {', '.join(REVIEW_STATES)}")
    before = args.integer("before", "Older-than event id", required=False, high=MAX_INT)
    after = args.integer("after", "Newer-than event id", required=False, high=MAX_INT)
    if before is not None and after is not None:
        args.error("after", "give either 'before' or 'after', not both")
    store = api()
    total, unreviewed = store.reviews.count_responder_entries()
    page: dict[str, Any] = {"args": args, "states": REVIEW_STATES, "state": state, **_common()}
    page.update(total=total, unreviewed=unreviewed)
    if not args.ok:
        template = "accountability/index.html"
        return render_template(template, rows=[], older=False, newer=False, **page), 400
    rows, older, newer = _entries(store, state, before, after)
    return render_template("accountability/index.html", rows=rows, older=older, newer=newer, **page)


@bp.route("/<int:event_id>/review", methods=["GET", "POST"])
@require_role("admin")
def review(event_id: int) -> Page:
    """Record the incident number or the reason for one responder entry; the admin is named."""
    store = api()
    entry = store.reviews.responder_entry(event_id)
    if entry is None:
        abort(404, description=f"event {event_id} is not a responder entry")
    form = Form(request.form)
    page: dict[str, Any] = {"entry": entry, "form": form, **_common()}
    page.update(incident_max=INCIDENT_MAX, note_max=NOTE_MAX)
    if request.method == "GET":
        return render_template("accountability/review.html", **page)
    if entry.reviewer is not None:
        form.error("incident", f"already reviewed by {entry.reviewer}: nothing was changed")
        return render_template("accountability/review.html", **page), 409
    incident = form.text("incident", "Incident number", required=False, max_len=INCIDENT_MAX)
    note = form.text("note", "Reason", required=False, max_len=NOTE_MAX, multiline=True)
    if form.ok and incident is None and note is None:
        form.error("incident", "give the incident number or the reason for this entry")
    if not form.ok:
        return render_template("accountability/review.html", **page), 400
    try:
        store.reviews.review(event_id, incident=incident, note=note, actor=actor())
    except StoreError as exc:
        form.error("incident", f"nothing was recorded: {exc}")
        return render_template("accountability/review.html", **page), 400
    flash(f"Entry {event_id} ({entry.holder or entry.credential}) is reviewed.", "ok")
    return redirect(url_for("accountability.index", state="unreviewed"))


@bp.route("/reports/<any(never_used, not_seen, lost):report>")
@require_role(*VIEWERS)
def report(report: str) -> Page:
    """One fob report, 100 a page by credential id; ``days`` for the not-seen report."""
    args = Form(request.args)
    days = None
    if report == "not_seen":
        days = args.integer("days", "Days", required=False, low=1, high=MAX_DAYS)
        days = DEFAULT_DAYS if days is None and args.ok else days
    after = args.integer("after", "After fob id", required=False, high=MAX_INT)
    page: dict[str, Any] = {"args": args, "report": report, "days": days, **_common()}
    if not args.ok:
        return render_template(
            "accountability/report.html", rows=[], total=0, more=False, **page
        ), 400
    store = api()
    rows = store.reviews.fob_report(report, days=days, limit=PAGE_SIZE + 1, after_id=after)
    total = store.reviews.count_fob_report(report, days=days)
    return render_template(
        "accountability/report.html",
        rows=rows[:PAGE_SIZE],
        total=total,
        more=len(rows) > PAGE_SIZE,
        **page,
    )
