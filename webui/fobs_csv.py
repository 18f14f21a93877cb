"""Fobs by the file: CSV import (all rows or none, every rejected row reported) and export.

Nothing touches the disk: the upload is read in memory and the export is written to the response,
so neither can reach outside data_dir.
"""

from __future__ import annotations

import io
import time

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from appliance.store import ImportRejected, StoreError
from webui.auth import actor, require_role
from webui.fobs import Page
from webui.state import state

bp = Blueprint("fobs_csv", __name__, url_prefix="/fobs")
MAX_UPLOAD = 20 * 1024 * 1024  # about 200,000 rows
COLUMNS = "format, facility, number, holder, serial, group"


@bp.route("/import", methods=["GET", "POST"])
@require_role("admin")
def upload() -> Page:
    """Import a CSV of credentials; a file is imported whole or not at all."""
    if request.method == "GET":
        return render_template("fobs/import.html", errors=[], problem=None, columns=COLUMNS)
    request.max_content_length = MAX_UPLOAD + 64 * 1024  # this form only: a big district's list
    file = request.files.get("file")
    if file is None or not file.filename:
        return _failed("choose a CSV file to import")
    data = file.stream.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _failed(f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _failed("the file is not UTF-8 text (save it as CSV UTF-8)")
    st = state()
    try:
        count = st.store.cards.import_csv(text, actor=actor())
    except ImportRejected as exc:
        return render_template(
            "fobs/import.html",
            errors=exc.errors,
            problem=f"{len(exc.errors)} rejected row(s): nothing was imported",
            columns=COLUMNS,
        ), 400
    except StoreError as exc:
        return _failed(f"nothing was imported: {exc}")
    applied = st.confirm()
    flash(f"Imported {count} fob(s).{applied.suffix()}", applied.level)
    return redirect(url_for("fobs.index"))


def _failed(problem: str) -> tuple[str, int]:
    page = render_template("fobs/import.html", errors=[], problem=problem, columns=COLUMNS)
    return page, 400


@bp.route("/export.csv")
@require_role("admin", "auditor")
def export() -> Response:
    """Every credential as CSV, importable again (no PIN hashes)."""
    out = io.StringIO(newline="")
    state().store.cards.export_csv(out)
    name = f"doorward-fobs-{time.strftime('%Y-%m-%d')}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )
