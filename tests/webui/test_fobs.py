"""Fobs: inventory, search and paging, issuing, and marking lost/stolen/returned/revoked."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient

from appliance.config import Config, load_config
from appliance.store import Store
from appliance.testing.box import decision, mock, write_config
from appliance.testing.district import add_district_card
from appliance.wiegand.formats import encode
from tests.webui.conftest import (
    BAD_LIST_QUERIES,
    AuthActions,
    FakeController,
    StepClock,
    add_user,
    admin_on_real_box,
    assert_refused,
    make_app,
    wait_for_view,
)

ISSUE = {
    "format": "H10301",
    "facility": "100",
    "number": "4242",
    "new_holder": "Deputy Ruiz",
    "new_agency": "Natrona County Sheriff",
    "serial": "NCSO-7",
    "group": "responders",
}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The box is on Mountain time: validity days are local midnights there."""
    return load_config(write_config(tmp_path)).model_copy(update={"timezone": "America/Denver"})


def seed(store: Store, n: int) -> None:
    for i in range(n):
        store.cards.add("H10301", 12, 1000 + i, f"Holder {i:03}", serial=f"S-{i:03}", actor="test")


def test_inventory_shows_serial_holder_agency_status_group(
    admin: FlaskClient, store: Store
) -> None:
    store.holders.add("Officer Ortiz", agency="Casper Police Department", actor="t")
    store.cards.add(
        "H10301", 100, 1001, "Officer Ortiz", serial="CPD-1", group="responders", actor="t"
    )
    page = admin.get("/fobs").get_data(as_text=True)
    for text in ("CPD-1", "Officer Ortiz", "Casper Police Department", "issued", "responders"):
        assert text in page, text
    assert "/fobs/H10301:100:1001/status" in page


def test_search_and_status_filter(admin: FlaskClient, store: Store) -> None:
    seed(store, 3)
    store.cards.set_status(serial="S-001", status="lost", reason="dropped", actor="t")
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
        *BAD_LIST_QUERIES,
        ("page=abc", "Page must be a whole number"),
        ("status=gone", "status must be one of"),
    ],
)
def test_bad_search_input_is_400(admin: FlaskClient, query: str, needle: str) -> None:
    assert_refused(admin.get(f"/fobs?{query}"), needle)


def test_issue_a_fob(admin: FlaskClient, store: Store, controller: FakeController) -> None:
    assert admin.get("/fobs/issue").status_code == 200
    response = admin.post("/fobs/issue", data=ISSUE)
    assert response.status_code == 302 and "q=NCSO-7" in response.headers["Location"]
    row = store.cards.get(serial="NCSO-7")
    assert row is not None and row.holder == "Deputy Ruiz" and row.group == "responders"
    assert row.agency == "Natrona County Sheriff"
    assert row.credential == "H10301:100:4242" and row.issued_by == "web:admin"
    event = store.events.query(limit=1)[0]
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
        ({"new_holder": ""}, "Holder is required"),
        ({"new_holder": "x" * 201}, "limit is 200"),
        ({"group": "admins"}, "Group must be one of"),
        ({"serial": "KW-1"}, "already used"),
        ({"number": "3456", "facility": "12", "serial": "NEW-1"}, "already on record"),
    ],
)
def test_bad_issue_input_changes_nothing(
    admin: FlaskClient, store: Store, changes: dict[str, str], needle: str
) -> None:
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    rev, count = store.current_rev(), store.cards.count()
    response = admin.post("/fobs/issue", data=ISSUE | changes)
    assert_refused(response, needle)
    assert (store.current_rev(), store.cards.count()) == (rev, count)


def test_holder_names_with_markup_are_shown_as_text(admin: FlaskClient, store: Store) -> None:
    evil = "<script>alert(1)</script>"
    response = admin.post("/fobs/issue", data=ISSUE | {"new_holder": evil})
    assert response.status_code == 302
    page = admin.get("/fobs").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    status_page = admin.get("/fobs/H10301:100:4242/status").get_data(as_text=True)
    assert evil not in status_page and "&lt;script&gt;" in status_page
    refused = admin.post("/fobs/issue", data=ISSUE | {"new_holder": evil, "number": "x"})
    assert evil not in refused.get_data(as_text=True)  # echoed input is escaped too


@pytest.mark.parametrize("status", ["lost", "stolen", "returned", "revoked"])
def test_mark_a_fob(
    admin: FlaskClient, store: Store, controller: FakeController, status: str
) -> None:
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    url = "/fobs/H10301:12:3456/status"
    assert "Ms. Shah" in admin.get(url).get_data(as_text=True)
    response = admin.post(url, data={"status": status, "reason": "reported by the office"})
    assert response.status_code == 302
    row = store.cards.get(serial="KW-1")
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
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    rev = store.current_rev()
    response = admin.post("/fobs/H10301:12:3456/status", data=data)
    assert_refused(response, needle)
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
    with admin_on_real_box(tmp_path) as box:
        card = encode("H10301", 1001, 100)
        mock(box.controller).play(card, realtime=False)
        box.events.wait(decision("granted", "H10301:100:1001"))
        response = box.client.post(
            "/fobs/H10301:100:1001/status", data={"status": "lost", "reason": "left in car"}
        )
        assert response.status_code == 302
        wait_for_view(box.client, box.store)
        mark = box.events.mark()
        mock(box.controller).play(card, realtime=False)
        assert box.events.wait(decision("denied", "H10301:100:1001"), start=mark).reason == "lost"


def test_the_issue_form_offers_formats_holders_agencies_and_no_default_group(
    admin: FlaskClient, store: Store
) -> None:
    store.holders.add("Officer Ortiz", agency="Casper Police Department", actor="t")
    page = admin.get("/fobs/issue").get_data(as_text=True)
    assert '<select id="f-format" name="format"' in page
    for fmt in ("H10301", "H10306", "H10302", "H10304", "C1K35S", "C1K48S"):
        assert f'<option value="{fmt}"' in page, fmt
    assert '<option value="H10302" data-facility=""' in page
    assert '<option value="H10301" data-facility="255"' in page
    assert '<option value="Officer Ortiz" data-agency="Casper Police Department">' in page
    assert '<option value="Casper Police Department" data-responder="1">' in page
    group = page.split('<select id="f-group"')[1].split("</select>")[0]
    assert '<option value="" selected>— choose a group —</option>' in group
    assert "selected" not in group.split("</option>", 1)[1]  # nothing else is preselected


def test_only_the_readers_formats_are_offered(
    config: Config, store: Store, clock: StepClock
) -> None:
    reader = config.reader.model_copy(update={"formats": ["H10302"]})
    app = make_app(config.model_copy(update={"reader": reader}), store, clock)
    add_user(app, "admin", "admin", first=True)
    client = app.test_client()
    AuthActions(client).login()
    page = client.get("/fobs/issue").get_data(as_text=True)
    assert '<option value="H10302"' in page and '<option value="H10301"' not in page
    response = client.post("/fobs/issue", data=ISSUE)
    assert response.status_code == 400
    assert "Format H10301 is not one this door&#39;s reader accepts: H10302" in (
        response.get_data(as_text=True)
    )
    assert store.cards.count() == 0


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"facility": ""}, "Facility code is required for H10301"),
        ({"format": "H10302", "facility": "5"}, "H10302 has no facility code"),
        ({"number": "65536"}, "Card number must be from 0 to 65535 for H10301"),
        ({"facility": "x"}, "Facility code must be a whole number"),
        (
            {"group": ""},
            "Group is required: choose one (Natrona County Sheriff is a responder agency",
        ),
        ({"new_holder": "", "holder": "Nobody"}, "no holder named &#39;Nobody&#39; is on record"),
        ({"holder": "Ms. Shah"}, "give either a holder on record or a new holder, not both"),
        ({"new_agency": ""}, "Agency is required for a new holder"),
        ({"agency": "Kelly Walsh"}, "choose an agency on record or name a new one, not both"),
        ({"new_holder": "Ms. Shah"}, "&#39;Ms. Shah&#39; is already on record: choose them"),
        ({"valid_from": "2027-02-01", "valid_until": "2027-01-31"}, "Valid until is before"),
        ({"valid_from": "2027-13-01"}, "Valid from must be a date written YYYY-MM-DD"),
        ({"valid_until": "99999-01-01"}, "Valid until is 11 characters long"),
        ({"pin": "12"}, "PIN must be 4 to 12 digits"),
        ({"pin": "12ab"}, "PIN must be 4 to 12 digits"),
        ({"pin": "1234", "pin_again": "1235"}, "PIN (again) does not match PIN"),
        ({"pin_again": "1234"}, "PIN is empty but PIN (again) is not"),
        ({"group": "pin-door"}, "PIN is required: group pin-door opens with card + PIN"),
    ],
)
def test_each_issue_field_is_checked_and_nothing_changes(
    admin: FlaskClient, store: Store, changes: dict[str, str], needle: str
) -> None:
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    store.groups.add("pin-door", pin_required=True, actor="t")
    rev, count, holders = store.current_rev(), store.cards.count(), store.holders.list()
    response = admin.post("/fobs/issue", data=ISSUE | changes)
    assert_refused(response, needle)
    assert (store.current_rev(), store.cards.count(), store.holders.list()) == (
        rev,
        count,
        holders,
    )


def test_no_group_for_a_responder_suggests_responders(admin: FlaskClient, store: Store) -> None:
    page = admin.post("/fobs/issue", data=ISSUE | {"group": ""}).get_data(as_text=True)
    group = page.split('<select id="f-group"')[1].split("</select>")[0]
    assert '<option value="responders" selected>' in group
    staff = ISSUE | {"group": "", "new_agency": "Kelly Walsh High School"}
    page = admin.post("/fobs/issue", data=staff).get_data(as_text=True)
    assert "Group is required: choose one</p>" in page
    group = page.split('<select id="f-group"')[1].split("</select>")[0]
    assert '<option value="" selected>' in group


def test_issue_to_a_holder_on_record_with_validity_and_pin(
    admin: FlaskClient, store: Store, config: Config
) -> None:
    store.holders.add("Officer Ortiz", agency="Casper Police Department", actor="t")
    data = ISSUE | {
        "new_holder": "",
        "new_agency": "",
        "holder": "Officer Ortiz",
        "valid_from": "2027-01-01",
        "valid_until": "2027-06-30",
        "pin": "2468",
        "pin_again": "2468",
    }
    assert admin.post("/fobs/issue", data=data).status_code == 302
    row = store.cards.get(serial="NCSO-7")
    assert row is not None and row.holder == "Officer Ortiz" and row.has_pin
    zone = ZoneInfo("America/Denver")
    assert config.zone == zone  # the test box's zone: days are local midnights there
    assert row.valid_from == datetime(2027, 1, 1, tzinfo=zone)
    assert row.valid_until == datetime(2027, 7, 1, tzinfo=zone)  # the last day is included
    assert [h.name for h in store.holders.list()] == ["Officer Ortiz"]


def test_issuing_over_a_district_fob_is_409(admin: FlaskClient, store: Store) -> None:
    add_district_card(store, 7001, "Ofc. Diaz", serial="PD-1")
    rev = store.current_rev()
    data = ISSUE | {"facility": "12", "number": "7001"}
    response = admin.post("/fobs/issue", data=data)
    assert response.status_code == 409 and "from the district list" in response.get_data(
        as_text=True
    )
    assert store.current_rev() == rev and len(store.holders.list()) == 1
