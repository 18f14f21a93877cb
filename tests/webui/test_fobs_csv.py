"""Fobs by the file: CSV import all-or-nothing with every rejected row, and export."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

from flask import Flask

from appliance.store import Store
from tests.webui.conftest import AuthActions

HEADER = "format,facility,number,holder,serial,group\n"
GOOD = HEADER + "H10301,1,10,Ann,S-10,staff\nH10301,1,11,<b>Bo</b>,,responders\n"
BAD = HEADER + "H10301,1,20,Cy,S-20,staff\nH10301,999,21,Di,,staff\nX,1,22,Ed,,nosuch\n"


def upload(client, text: str | bytes, name: str = "cards.csv"):  # type: ignore[no-untyped-def]
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        "/fobs/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_a_good_file_is_imported_whole(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    response = upload(client, "\ufeff" + GOOD)  # Excel's BOM is fine
    assert response.status_code == 302
    assert store.cards.count() == 2
    page = client.get("/fobs").get_data(as_text=True)
    assert "Imported 2 fob(s)" in page and "&lt;b&gt;Bo&lt;/b&gt;" in page


def test_a_bad_file_imports_nothing_and_lists_every_rejected_row(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    before = store.current_rev()
    response = upload(client, BAD)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "nothing was imported" in page
    assert "<td>3</td>" in page and "<td>4</td>" in page and "<td>2</td>" not in page
    assert store.cards.count() == 0 and store.current_rev() == before


def test_unusable_uploads_are_refused_plainly(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    assert "choose a CSV file" in client.post("/fobs/import", data={}).get_data(as_text=True)
    latin = upload(client, "format,facility,number,holder\nH10301,1,1,Jos\xe9\n".encode("latin-1"))
    assert latin.status_code == 400 and "not UTF-8" in latin.get_data(as_text=True)
    assert store.cards.count() == 0


def test_export_downloads_a_file_that_imports_again(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    upload(client, GOOD)
    response = client.get("/fobs/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment; filename=doorward-fobs-" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "S-10" in text and text.splitlines()[0].startswith("format")


def test_export_quotes_formula_cells_and_they_import_back_as_they_were(
    app: Flask, store: Store, initialised_db: Path, tmp_path: Path
) -> None:
    copy_path = tmp_path / "fresh.db"
    shutil.copyfile(initialised_db, copy_path)
    holder = '=HYPERLINK("http://x","y")'
    for n, serial in enumerate(("+1", "-2", "@SUM(1)")):
        store.cards.add("H10301", 1, n, holder, serial=serial, actor="a")
    client = app.test_client()
    AuthActions(client).login("admin")
    text = client.get("/fobs/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["holder"], r["serial"]) for r in rows] == [
        ("'" + holder, "'+1"),
        ("'" + holder, "'-2"),
        ("'" + holder, "'@SUM(1)"),
    ]
    with Store(copy_path) as copy:  # a fresh box: the file gives back the originals exactly
        assert copy.cards.import_csv(text, actor="restore") == 3
        assert summary(copy) == summary(store)


def summary(store: Store) -> list[tuple[str, str, str | None]]:
    return sorted((r.credential, r.holder, r.serial) for r in store.cards.list())
