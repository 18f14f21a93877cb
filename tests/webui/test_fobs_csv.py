"""Fobs by the file: CSV import all-or-nothing with every rejected row, and export."""

from __future__ import annotations

import io

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
    assert store.count_credentials() == 2
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
    assert store.count_credentials() == 0 and store.current_rev() == before


def test_unusable_uploads_are_refused_plainly(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    assert "choose a CSV file" in client.post("/fobs/import", data={}).get_data(as_text=True)
    latin = upload(client, "format,facility,number,holder\nH10301,1,1,Jos\xe9\n".encode("latin-1"))
    assert latin.status_code == 400 and "not UTF-8" in latin.get_data(as_text=True)
    assert store.count_credentials() == 0


def test_export_downloads_a_file_that_imports_again(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("admin")
    upload(client, GOOD)
    response = client.get("/fobs/export.csv")
    assert response.mimetype == "text/csv"
    assert "attachment; filename=doorward-fobs-" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert "S-10" in text and text.splitlines()[0].startswith("format")
