"""Fobs: inventory, search and paging, issuing, and marking lost/stolen/returned/revoked."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.store import Store
from appliance.wiegand.formats import encode
from tests.fakes.box import decision, mock, running_box
from tests.webui.conftest import AuthActions, FakeController, StepClock, add_user, make_app

ISSUE = {
    "format": "H10301",
    "facility": "100",
    "number": "4242",
    "holder": "Deputy Ruiz",
    "serial": "NCSO-7",
    "group": "responders",
}


def seed(store: Store, n: int) -> None:
    for i in range(n):
        store.add_credential(
            "H10301", 12, 1000 + i, f"Holder {i:03}", serial=f"S-{i:03}", actor="test"
        )


def test_inventory_shows_serial_holder_agency_status_group(
    admin: FlaskClient, store: Store
) -> None:
    store.add_holder("Officer Ortiz", agency="Casper Police Department", actor="t")
    store.add_credential(
        "H10301", 100, 1001, "Officer Ortiz", serial="CPD-1", group="responders", actor="t"
    )
    page = admin.get("/fobs").get_data(as_text=True)
    for text in ("CPD-1", "Officer Ortiz", "Casper Police Department", "issued", "responders"):
        assert text in page, text
    assert "/fobs/H10301:100:1001/status" in page


def test_search_and_status_filter(admin: FlaskClient, store: Store) -> None:
    seed(store, 3)
    store.set_status(serial="S-001", status="lost", reason="dropped", actor="t")
    page = admin.get("/fobs?q=S-002").get_data(as_text=True)
    assert "Holder 002" in page and "Holder 001" not in page and "1 fob(s)" in page
    lost = admin.get("/fobs?status=lost").get_data(as_text=True)
    assert "Holder 001" in lost and "Holder 002" not in lost and "dropped" in lost
    assert "Holder 000" in admin.get("/fobs?q=H10301:12:1000").get_data(as_text=True)


def test_paging_fifty_a_page(admin: FlaskClient, store: Store) -> None:
    seed(store, 60)
    first = admin.get("/fobs").get_data(as_text=True)
    assert "60 fob(s), page 1 of 2" in first and "Holder 059" in first
    assert "Holder 009" not in first and "page=2" in first
    second = admin.get("/fobs?page=2").get_data(as_text=True)
    assert "Holder 009" in second and "Holder 010" not in second and "Holder 059" not in second
    assert "page 2 of 2" in admin.get("/fobs?page=99").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("page=0", "Page must be from 1"),
        ("page=abc", "Page must be a whole number"),
        ("status=gone", "status must be one of"),
        ("q=" + "x" * 201, "limit is 200"),
    ],
)
def test_bad_search_input_is_400(admin: FlaskClient, query: str, needle: str) -> None:
    response = admin.get(f"/fobs?{query}")
    assert response.status_code == 400 and needle in response.get_data(as_text=True)


def test_issue_a_fob(admin: FlaskClient, store: Store, controller: FakeController) -> None:
    assert admin.get("/fobs/issue").status_code == 200
    response = admin.post("/fobs/issue", data=ISSUE)
    assert response.status_code == 302 and "q=NCSO-7" in response.headers["Location"]
    row = store.get_credential(serial="NCSO-7")
    assert row is not None and row.holder == "Deputy Ruiz" and row.group == "responders"
    assert row.credential == "H10301:100:4242" and row.issued_by == "web:admin"
    event = store.query_events(limit=1)[0]
    assert (
        event.actor == "web:admin" and event.detail and event.detail["action"] == "add_credential"
    )
    assert "refresh" in controller.commands()


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"number": ""}, "Card number is required"),
        ({"number": "12x"}, "Card number must be a whole number"),
        ({"number": "-5"}, "Card number must be a whole number"),
        ({"facility": "256"}, "facility"),
        ({"format": "NOPE"}, "unknown Wiegand format"),
        ({"format": ""}, "Format is required"),
        ({"holder": ""}, "Holder is required"),
        ({"holder": "x" * 201}, "limit is 200"),
        ({"group": "admins"}, "Group must be one of"),
        ({"serial": "KW-1"}, "already used"),
        ({"number": "3456", "facility": "12", "serial": "NEW-1"}, "already on record"),
    ],
)
def test_bad_issue_input_changes_nothing(
    admin: FlaskClient, store: Store, changes: dict[str, str], needle: str
) -> None:
    store.add_credential("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    rev, count = store.current_rev(), store.count_credentials()
    response = admin.post("/fobs/issue", data=ISSUE | changes)
    assert response.status_code == 400
    assert needle in response.get_data(as_text=True)
    assert (store.current_rev(), store.count_credentials()) == (rev, count)


def test_holder_names_with_markup_are_shown_as_text(admin: FlaskClient, store: Store) -> None:
    evil = "<script>alert(1)</script>"
    response = admin.post("/fobs/issue", data=ISSUE | {"holder": evil})
    assert response.status_code == 302
    page = admin.get("/fobs").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    status_page = admin.get("/fobs/H10301:100:4242/status").get_data(as_text=True)
    assert evil not in status_page and "&lt;script&gt;" in status_page
    refused = admin.post("/fobs/issue", data=ISSUE | {"holder": evil, "number": "x"})
    assert evil not in refused.get_data(as_text=True)  # echoed input is escaped too


@pytest.mark.parametrize("status", ["lost", "stolen", "returned", "revoked"])
def test_mark_a_fob(
    admin: FlaskClient, store: Store, controller: FakeController, status: str
) -> None:
    store.add_credential("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    url = "/fobs/H10301:12:3456/status"
    assert "Ms. Shah" in admin.get(url).get_data(as_text=True)
    response = admin.post(url, data={"status": status, "reason": "reported by the office"})
    assert response.status_code == 302
    row = store.get_credential(serial="KW-1")
    assert row is not None and row.status.value == status
    assert row.status_reason == "reported by the office" and row.status_changed_by == "web:admin"
    assert "refresh" in controller.commands()


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"status": "lost", "reason": ""}, "Reason is required"),
        ({"status": "issued", "reason": "x"}, "New status must be one of"),
        ({"status": "gone", "reason": "x"}, "New status must be one of"),
        ({"reason": "x"}, "New status must be one of"),
        ({"status": "lost", "reason": "x" * 501}, "limit is 500"),
    ],
)
def test_bad_status_change_changes_nothing(
    admin: FlaskClient, store: Store, data: dict[str, str], needle: str
) -> None:
    store.add_credential("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    rev = store.current_rev()
    response = admin.post("/fobs/H10301:12:3456/status", data=data)
    assert response.status_code == 400 and needle in response.get_data(as_text=True)
    assert store.current_rev() == rev


@pytest.mark.parametrize(
    "credential", ["H10301:12:9999", "H10301:x:1", "nonsense", "H10301:1:2:3", "NOPE:1:2"]
)
def test_unknown_or_malformed_credential_is_404(
    admin: FlaskClient, store: Store, credential: str
) -> None:
    rev = store.current_rev()
    response = admin.post(f"/fobs/{credential}/status", data={"status": "lost", "reason": "x"})
    assert response.status_code == 404 and store.current_rev() == rev


def test_a_fob_marked_lost_is_refused_at_a_real_door(tmp_path: Path) -> None:
    with running_box(tmp_path) as (c, events, config):
        store = Store(config.db_path)
        try:
            app = make_app(config, store, StepClock())
            add_user(app, "admin", "admin", first=True)
            client = app.test_client()
            AuthActions(client).login()
            card = encode("H10301", 1001, 100)
            mock(c).play(card, realtime=False)
            events.wait(decision("granted", "H10301:100:1001"))
            response = client.post(
                "/fobs/H10301:100:1001/status", data={"status": "lost", "reason": "left in car"}
            )
            assert response.status_code == 302
            rev = store.current_rev()
            for _ in range(1000):  # the refresh woke the controller: wait for its view, no sleep
                if client.get("/dashboard/live.json").get_json()["door"]["view_revision"] >= rev:
                    break
            mark = events.mark()
            mock(c).play(card, realtime=False)
            assert events.wait(decision("denied", "H10301:100:1001"), start=mark).reason == "lost"
        finally:
            store.close()
