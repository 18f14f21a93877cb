"""Events: the audit log filtered by kind, holder, fob and local date range; paged; CSV export."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from flask import Blueprint, Response, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from appliance.core import event_wire
from appliance.core.describe import sentence
from appliance.core.event_kinds import KIND_GROUPS, kind_label, unknown_kinds
from appliance.store import EventRow, Store, StoreError
from appliance.store.tables.csvcell import (
    safe_cell as safe_cell,  # every export's one formula guard
)
from webui import localtime
from webui.auth import ANY_ROLE, require_role
from webui.forms import MAX_INT, Form
from webui.state import state

LOG = logging.getLogger(__name__)
bp = Blueprint("events", __name__, url_prefix="/events")
PAGE_SIZE = 100
EXPORT_BATCH = 1000
MAX_KINDS = 50
_KIND_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
# id, time, kind, action, reason, credential, holder, serial, door, actor, detail, text (the event
# as a sentence), mode (the door's mode after a mode change; empty for other events)
CSV_HEADER = event_wire.CSV_COLUMNS
Page = str | tuple[str, int] | WerkzeugResponse


def api() -> Store:
    """The store, for its audit log and accountability reads (``events``, ``reviews``)."""
    return state().store


@dataclass(frozen=True)
class Filters:
    """The events filter as the store takes it."""

    kinds: list[str] | None
    holder: str | None
    serial: str | None
    since: datetime | None
    until: datetime | None

    def query(self) -> dict[str, Any]:
        """Keyword arguments for ``store.events.query``."""
        return {
            "kinds": self.kinds,
            "holder": self.holder,
            "serial": self.serial,
            "since": self.since,
            "until": self.until,
        }

    def link(self) -> dict[str, Any]:
        """The filter as query-string arguments for links (paging, export)."""
        args: dict[str, Any] = {k: v for k, v in request.args.items(multi=False)}
        for key in ("before", "after"):
            args.pop(key, None)
        if self.kinds:
            args["kind"] = self.kinds
        return args


def read_filters(args: Form, present: list[str] | None = None) -> Filters:
    """The filter fields of the events form; problems are recorded on ``args``.

    A kind neither known to this version nor on record (``present``) is an error that lists the
    kinds: a misspelt one would otherwise show an empty page as if nothing had happened.
    """
    raw_kinds = request.args.getlist("kind")
    kinds: list[str] = []
    if len(raw_kinds) > MAX_KINDS:
        args.error("kind", f"choose at most {MAX_KINDS} kinds")
    for kind in raw_kinds[:MAX_KINDS]:
        if not _KIND_RE.fullmatch(kind):
            args.error("kind", f"{kind[:40]!r} is not an event kind")
        elif kind not in kinds:
            kinds.append(kind)
    on_record = api().events.kinds() if present is None else present
    problem = unknown_kinds(kinds, on_record, then="tick the kinds wanted under Show instead")
    if problem:
        args.error("kind", problem)
    holder = args.text("holder", "Holder", required=False, max_len=200)
    serial = args.text("serial", "Fob serial", required=False, max_len=64)
    since, until = localtime.day_range(args)
    return Filters(kinds or None, holder, serial, since, until)


@bp.app_template_filter("sentence")
def describe(event: EventRow) -> str:
    """What an event says, as a sentence (also the dashboard's filter ``sentence``)."""
    return sentence(event)


def kind_groups(present: list[str]) -> list[tuple[str, list[str]]]:
    """The kinds filter's checkbox groups; kinds on record that this version lacks go last."""
    groups = [(label, list(kinds)) for label, kinds in KIND_GROUPS]
    known = {k for _, kinds in groups for k in kinds}
    other = sorted(set(present) - known)
    return [*groups, ("Other", other)] if other else groups


def _page(
    filters: Filters, before: int | None, after: int | None
) -> tuple[list[EventRow], bool, bool]:
    """(rows newest first, whether older rows exist, whether newer rows exist)."""
    store = state().store
    q = filters.query()
    if after is not None:
        rows = store.events.query(**q, after_id=after, limit=PAGE_SIZE + 1, newest_first=False)
        newer = len(rows) > PAGE_SIZE
        rows = list(reversed(rows[:PAGE_SIZE]))
        older = bool(rows) and bool(store.events.query(**q, before_id=rows[-1].id, limit=1))
        return rows, older, newer
    rows = store.events.query(**q, before_id=before, limit=PAGE_SIZE + 1)
    older = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    newer = (
        before is not None
        and bool(rows)
        and bool(store.events.query(**q, after_id=rows[0].id, limit=1, newest_first=False))
    )
    return rows, older, newer


@bp.route("")
@require_role(*ANY_ROLE)
def index() -> Page:
    """The events page: newest first, 100 a page, 'older' and 'newer' by event id."""
    args = Form(request.args)
    present = api().events.kinds()
    filters = read_filters(args, present)
    before = args.integer("before", "Older-than event id", required=False, high=MAX_INT)
    after = args.integer("after", "Newer-than event id", required=False, high=MAX_INT)
    if before is not None and after is not None:
        args.error("after", "give either 'before' or 'after', not both")
    groups = kind_groups(present)
    page: dict[str, Any] = {"args": args, "kind_groups": groups, "filters": filters}
    page.update(show=localtime.show, describe=describe, zone=localtime.zone_label())
    page.update(label=kind_label, present=set(present))
    if not args.ok:
        return render_template("events/index.html", rows=[], older=False, newer=False, **page), 400
    try:
        rows, older, newer = _page(filters, before, after)
    except StoreError as exc:  # e.g. a filter the store refuses: say so, change nothing
        args.error("kind", str(exc))
        return render_template("events/index.html", rows=[], older=False, newer=False, **page), 400
    return render_template("events/index.html", rows=rows, older=older, newer=newer, **page)


def csv_row(event: EventRow, zone: tzinfo | None) -> list[str]:
    """One event as CSV cells (time in ``zone``, None = the system's, ISO 8601 with offset)."""
    return [safe_cell(c) for c in event_wire.csv_cells(event, zone)]


def _stream(store: Store, filters: Filters, zone: tzinfo | None) -> Iterator[str]:
    """The CSV, a batch of events at a time; nothing is written to disk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    before: int | None = None
    while True:
        try:
            batch = store.events.query(**filters.query(), before_id=before, limit=EXPORT_BATCH)
        except StoreError as exc:
            # Headers are gone by now: end the file with a line that says it is incomplete.
            LOG.error("events export stopped: %s", exc)
            writer.writerow([safe_cell(f"export incomplete: {exc}")])
            batch = []
        for event in batch:
            writer.writerow(csv_row(event, zone))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < EXPORT_BATCH:
            return
        before = batch[-1].id


@bp.route("/export.csv")
@require_role(*ANY_ROLE)
def export() -> Page:
    """Every event the filter matches, newest first, as CSV (streamed)."""
    args = Form(request.args)
    filters = read_filters(args)
    if not args.ok:
        message = "; ".join(args.errors.values())
        return render_template("error.html", code=400, message=message), 400
    name = f"doorward-events-{localtime.today().isoformat()}.csv"
    # The generator runs after the view returns: it gets the store and zone, not the request.
    return Response(
        _stream(state().store, filters, localtime.zone()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
