"""A fob's own page: its details and history, and editing its holder, group, validity and PIN."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config, load_config
from appliance.core.pins import verify_pin
from appliance.store import EventRecord, Store
from appliance.testing.box import write_config
from appliance.testing.district import add_district_card
from tests.webui.conftest import (
    PASSWORD,
    AuthActions,
    FakeController,
    StepClock,
    add_user,
    assert_refused,
    csrf_token,
    make_app,
)

FOB = "/fobs/H10301:12:3456"
EDIT = FOB + "/edit"
ZONE = ZoneInfo("America/Denver")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path)).model_copy(update={"timezone": "America/Denver"})


@pytest.fixture
def fob(store: Store) -> Store:
    store.holders.add("Ms. Shah", agency="Kelly Walsh High School", actor="t")
    store.holders.add("Officer Ortiz", agency="Casper Police Department", actor="t")
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", actor="t")
    store.groups.add("pin-door", pin_required=True, actor="t")
    return store


def form_of(page: str) -> dict[str, str]:
    """The edit form's fields as the page fills them in (what a browser would send back)."""
    fields = dict(re.findall(r'<input (?:type="hidden" )?name="(\w+)" value="([^"]*)"', page))
    for name in ("holder", "valid_from", "valid_until"):
        found = re.search(rf'<input id="f-{name}" name="{name}"[^>]* value="([^"]*)"', page)
        assert found, name
        fields[name] = found.group(1)
    group = page.split('<select id="f-group"')[1].split("</select>")[0]
    chosen = re.search(r'<option value="([^"]*)" selected', group)
    fields["group"] = chosen.group(1) if chosen else ""
    fields.pop("csrf_token", None)
    return fields


def test_edit_every_field_with_one_audit_event(
    admin: FlaskClient, fob: Store, controller: FakeController
) -> None:
    data = form_of(admin.get(EDIT).get_data(as_text=True))
    assert data == {
        "rev": str(fob.cards.get(serial="KW-1").rev),  # type: ignore[union-attr]
        "holder": "Ms. Shah",
        "group": "staff",
        "valid_from": "",
        "valid_until": "",
    }
    data |= {
        "holder": "Officer Ortiz",
        "group": "responders",
        "valid_from": "2027-01-01",
        "valid_until": "2027-06-30",
        "pin": "97531",
        "pin_again": "97531",
    }
    response = admin.post(EDIT, data=data)
    assert response.status_code == 302 and response.headers["Location"] == FOB
    row = fob.cards.get(serial="KW-1")
    assert row is not None
    assert (row.holder, row.agency, row.group, row.has_pin) == (
        "Officer Ortiz",
        "Casper Police Department",
        "responders",
        True,
    )
    assert row.valid_from == datetime(2027, 1, 1, tzinfo=ZONE)
    assert row.valid_until == datetime(2027, 7, 1, tzinfo=ZONE)
    [(_, entry)] = fob.load_cards()[0]
    assert entry.pin_hash is not None and verify_pin("97531", entry.pin_hash)
    event = fob.events.query(limit=1)[0]
    assert event.actor == "web:admin" and event.detail is not None
    assert event.detail["action"] == "update_credential" and event.detail["pin"] == "set"
    assert event.detail["holder"] == {"from": "Ms. Shah", "to": "Officer Ortiz"}
    assert "97531" not in str(event.detail)
    assert "refresh" in controller.commands()
    again = form_of(admin.get(EDIT).get_data(as_text=True))
    assert (again["valid_from"], again["valid_until"]) == ("2027-01-01", "2027-06-30")


def test_an_unchanged_form_changes_nothing(admin: FlaskClient, fob: Store) -> None:
    fob.cards.update(
        serial="KW-1", valid_until=datetime(2027, 6, 30, 17, 0, tzinfo=ZONE), actor="cli"
    )
    rev = fob.current_rev()
    data = form_of(admin.get(EDIT).get_data(as_text=True))
    assert data["valid_until"] == "2027-06-30"
    assert admin.post(EDIT, data=data).status_code == 302
    assert fob.current_rev() == rev  # the 17:00 end the CLI set is kept, not moved to midnight
    row = fob.cards.get(serial="KW-1")
    assert row is not None and row.valid_until == datetime(2027, 6, 30, 17, 0, tzinfo=ZONE)


def test_edit_to_a_new_holder_clears_validity_and_pin(admin: FlaskClient, fob: Store) -> None:
    fob.cards.update(
        serial="KW-1", valid_from=datetime(2026, 1, 1, tzinfo=ZONE), pin="1234", actor="t"
    )
    data = form_of(admin.get(EDIT).get_data(as_text=True))
    data |= {"holder": "", "new_holder": "Dep. Kim", "new_agency": "Natrona County Sheriff"}
    data |= {"valid_from": "", "clear_pin": "yes", "group": "responders"}
    assert admin.post(EDIT, data=data).status_code == 302
    row = fob.cards.get(serial="KW-1")
    assert row is not None and (row.holder, row.agency) == ("Dep. Kim", "Natrona County Sheriff")
    assert row.valid_from is None and not row.has_pin


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"holder": ""}, "Holder is required"),
        ({"holder": "Nobody"}, "no holder named &#39;Nobody&#39; is on record"),
        ({"holder": "", "new_holder": "Dep. Kim"}, "Agency is required for a new holder"),
        ({"new_holder": "Dep. Kim", "new_agency": "X"}, "not both"),
        ({"group": ""}, "Group is required"),
        ({"group": "admins"}, "Group must be one of"),
        ({"group": "pin-door"}, "PIN is required: group pin-door opens with card + PIN"),
        ({"valid_from": "2027-02-01", "valid_until": "2027-01-01"}, "Valid until is before"),
        ({"valid_until": "tomorrow"}, "Valid until must be a date written YYYY-MM-DD"),
        ({"pin": "123"}, "PIN must be 4 to 12 digits"),
        ({"pin": "1234", "pin_again": "4321"}, "PIN (again) does not match PIN"),
        ({"pin": "1234", "pin_again": "1234", "clear_pin": "yes"}, "not both"),
        ({"rev": "1"}, "this fob was changed since the form was opened"),
    ],
)
def test_each_edit_field_is_checked_and_nothing_changes(
    admin: FlaskClient, fob: Store, changes: dict[str, str], needle: str
) -> None:
    data = form_of(admin.get(EDIT).get_data(as_text=True)) | changes
    before = (fob.current_rev(), fob.cards.list(), fob.holders.list())
    response = admin.post(EDIT, data=data)
    assert_refused(response, needle)
    assert (fob.current_rev(), fob.cards.list(), fob.holders.list()) == before


def test_no_group_for_a_responder_suggests_responders(admin: FlaskClient, fob: Store) -> None:
    data = form_of(admin.get(EDIT).get_data(as_text=True))
    data |= {"holder": "Officer Ortiz", "group": ""}
    page = admin.post(EDIT, data=data).get_data(as_text=True)
    assert "Casper Police Department is a responder agency, so responders is suggested" in page
    assert '<option value="responders" selected>' in page


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_only_an_admin_may_edit(
    client: FlaskClient, auth: AuthActions, fob: Store, role: str
) -> None:
    auth.login(role)
    rev = fob.current_rev()
    assert client.get(EDIT).status_code == 403
    assert client.post(EDIT, data={"holder": "Officer Ortiz", "group": "staff"}).status_code == 403
    assert fob.current_rev() == rev
    page = client.get(FOB).get_data(as_text=True)  # the page and its history: every role
    assert "Ms. Shah" in page and EDIT not in page and "Change status" not in page


def test_the_edit_form_needs_its_csrf_token(config: Config, fob: Store, clock: StepClock) -> None:
    app: Flask = make_app(config, fob, clock, WTF_CSRF_ENABLED=True)
    add_user(app, "admin", "admin", first=True)
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": token},
    )
    page = client.get(EDIT).get_data(as_text=True)
    data = form_of(page) | {"group": "responders"}
    rev = fob.current_rev()
    assert client.post(EDIT, data=data).status_code == 400
    assert fob.current_rev() == rev
    response = client.post(EDIT, data=data | {"csrf_token": csrf_token(page)})
    assert response.status_code == 302 and fob.current_rev() > rev


def test_a_district_fob_is_read_only(admin: FlaskClient, store: Store) -> None:
    add_district_card(store, 7001, "Ofc. Diaz", serial="PD-1")
    store.holders.add("Ann Lee", agency="Kelly Walsh High School", actor="t")
    url = "/fobs/H10301:12:7001"
    page = admin.get(url).get_data(as_text=True)
    assert "changed at the district console" in page and url + "/edit" not in page
    form = admin.get(url + "/edit").get_data(as_text=True)
    assert 'id="district-note"' in form and 'name="holder"' not in form
    rev = store.current_rev()
    response = admin.post(url + "/edit", data={"holder": "Ann Lee", "group": "staff"})
    assert response.status_code == 409 and store.current_rev() == rev
    row = store.cards.get(serial="PD-1")
    assert row is not None and row.holder == "Ofc. Diaz"


def test_the_page_shows_the_history_newest_first_in_local_time(
    admin: FlaskClient, fob: Store
) -> None:
    fob.events.append(
        [
            EventRecord(
                ts=datetime(2026, 11, 23, 9, 14, 5, tzinfo=ZONE).timestamp(),
                kind="granted",
                reason="granted",
                credential="H10301:12:3456",
                door="Front entrance",
            ),
            EventRecord(ts=1.0, kind="denied", reason="unknown", credential="H10301:12:9"),
        ]
    )
    fob.cards.set_status(serial="KW-1", status="lost", reason="left on the bus", actor="web:admin")
    fob.cards.update(serial="KW-1", holder="Officer Ortiz", group="responders", actor="web:a")
    page = admin.get(FOB).get_data(as_text=True)
    history = page.split('<table class="history">')[1].split("</table>")[0]
    lines = re.findall(r"<td>([^<]*)</td><td>[^<]*</td><td>([^<]*)</td>\s*</tr>", history)
    assert lines[0] == (
        "edited: holder Ms. Shah → Officer Ortiz; group staff → responders",
        "web:a",
    )
    assert lines[1] == ("status issued → lost (left on the bus)", "web:admin")
    assert lines[2][0] == "granted at the door"
    assert lines[3][0] == "issued, group staff"
    assert len(lines) == 4  # another card's event is not this fob's
    assert "2026-11-23 09:14:05 MST" in history


def test_history_is_paged_fifty_at_a_time(admin: FlaskClient, fob: Store) -> None:
    fob.events.append(
        [
            EventRecord(
                ts=1000.0 + i, kind="granted", reason="granted", credential="H10301:12:3456"
            )
            for i in range(60)
        ]
    )
    first = admin.get(FOB).get_data(as_text=True)
    assert first.count("granted at the door") == 50
    older = re.search(r'href="(/fobs/H10301:12:3456\?before=\d+)#history">Older', first)
    assert older
    second = admin.get(older.group(1)).get_data(as_text=True)
    assert second.count("granted at the door") == 10 and "issued, group staff" in second
    assert "Older →" not in second and "← Newest" in second
    assert admin.get(FOB + "?before=x").status_code == 400


@pytest.mark.parametrize("credential", ["H10301:12:9999", "nonsense", "NOPE:1:2"])
def test_an_unknown_fob_page_is_404(admin: FlaskClient, fob: Store, credential: str) -> None:
    assert admin.get(f"/fobs/{credential}").status_code == 404
    assert admin.get(f"/fobs/{credential}/edit").status_code == 404


def test_the_inventory_links_each_fob_to_its_page(admin: FlaskClient, fob: Store) -> None:
    page = admin.get("/fobs").get_data(as_text=True)
    assert f'<a href="{FOB}" title="The fob and its history">KW-1</a>' in page
    assert f'<a href="{EDIT}">Edit</a>' in page
