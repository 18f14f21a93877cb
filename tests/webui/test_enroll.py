"""Enroll by presenting: the last unknown card read at the door fills the issue form."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.store import Store
from appliance.testing.box import decision, mock
from appliance.wiegand.formats import encode
from tests.webui.conftest import AuthActions, FakeController, admin_on_real_box

FROM_DOOR = "/fobs/issue?from=last_unknown"


def value(page: str, name: str) -> str:
    """The value an input (or the option a select) of the issue form starts with."""
    select = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', page, re.S)
    if select:
        chosen = re.search(r'<option value="([^"]*)"[^>]* selected', select.group(0))
        assert chosen, f"no {name} option selected"
        return chosen.group(1)
    found = re.search(rf'<input id="f-{name}" name="{name}"[^>]* value="([^"]*)"', page)
    assert found, f"no {name} input"
    return found.group(1)


def test_a_card_presented_at_a_real_door_fills_the_form_and_can_be_issued(
    tmp_path: Path,
) -> None:
    with admin_on_real_box(tmp_path) as (c, events, store, client):
        before = client.get(FROM_DOOR).get_data(as_text=True)
        assert "No unknown card has been read at the door" in before
        assert value(before, "number") == ""
        mock(c).play(encode("H10301", 999, 55), realtime=False)
        events.wait(decision("denied", "H10301:55:999"))
        page = client.get(FROM_DOOR).get_data(as_text=True)
        assert "Filled in from the last unknown card read at the door: H10301:55:999" in page
        assert value(page, "format") == "H10301"
        assert value(page, "facility") == "55" and value(page, "number") == "999"
        assert value(page, "holder") == ""  # the rest is the admin's to fill in
        issued = client.post(
            FROM_DOOR,
            data={
                "format": "H10301",
                "facility": "55",
                "number": "999",
                "new_holder": "Deputy Ruiz",
                "new_agency": "Natrona County Sheriff",
                "group": "responders",
            },
        )
        assert issued.status_code == 302
        row = store.cards.get(credential=("H10301", 55, 999))
        assert row is not None and row.holder == "Deputy Ruiz"
        again = client.get(FROM_DOOR).get_data(as_text=True)
        assert "already on record for Deputy Ruiz (issued)" in again


def test_without_a_controller_the_page_says_so(admin: FlaskClient) -> None:
    response = admin.get(FROM_DOOR)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "the controller did not answer" in page and 'class="flash warn"' in page
    assert value(page, "number") == "" and value(page, "format") == "H10301"


def test_a_format_without_a_facility_leaves_it_empty(
    admin: FlaskClient, controller: FakeController
) -> None:
    controller.status["last_unknown_card"] = "H10302:123456789"
    page = admin.get(FROM_DOOR).get_data(as_text=True)
    assert value(page, "format") == "H10302" and value(page, "facility") == ""
    assert value(page, "number") == "123456789" and 'class="flash ok"' in page
    assert '<option value="H10302" data-facility=""' in page  # the page hides its facility
    assert controller.commands() == ["status"]  # reading it changes nothing at the door


@pytest.mark.parametrize(
    "reported", ["<script>alert(1)</script>", "H10301:999:1", 42, ["H10301:1:2"], "H10301"]
)
def test_a_card_the_page_cannot_use_is_reported_as_text(
    admin: FlaskClient, controller: FakeController, reported: object
) -> None:
    controller.status["last_unknown_card"] = reported
    response = admin.get(FROM_DOOR)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "cannot use" in page
    assert "<script>alert" not in page
    assert value(page, "number") == ""


def test_a_card_enrolled_since_it_was_read_is_pointed_out(
    admin: FlaskClient, controller: FakeController, store: Store
) -> None:
    store.cards.add("H10301", 100, 1001, "Officer <b>Ortiz</b>", actor="t")
    controller.status["last_unknown_card"] = "H10301:100:1001"
    page = admin.get(FROM_DOOR).get_data(as_text=True)
    assert "already on record for Officer &lt;b&gt;Ortiz&lt;/b&gt; (issued)" in page


def test_the_issue_page_offers_the_button(admin: FlaskClient) -> None:
    page = admin.get("/fobs/issue").get_data(as_text=True)
    assert 'href="/fobs/issue?from=last_unknown"' in page
    assert "Use the last unknown card read at the door" in page and 'id="presented"' not in page


@pytest.mark.parametrize("source", ["elsewhere", "", "last_unknown\x00"])
def test_an_unknown_source_is_400(admin: FlaskClient, source: str) -> None:
    response = admin.get("/fobs/issue", query_string={"from": source})
    assert response.status_code == 400
    assert "&#39;from&#39; must be last_unknown" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["operator", "auditor"])
def test_only_an_admin_may_take_the_card(
    client: FlaskClient, auth: AuthActions, controller: FakeController, role: str
) -> None:
    controller.status["last_unknown_card"] = "H10301:55:999"
    auth.login(role)
    assert client.get(FROM_DOOR).status_code == 403
    assert controller.commands() == []


def test_a_raw_card_from_the_door_is_offered_as_its_format(
    admin: FlaskClient, controller: FakeController, store: Store
) -> None:
    controller.status["last_unknown_card"] = "RAW40:123456"
    page = admin.get(FROM_DOOR).get_data(as_text=True)
    assert value(page, "format") == "RAW40" and value(page, "number") == "123456"
    store.holders.add("Ann Lee", agency="Kelly Walsh High School", actor="t")
    data = {"format": "RAW40", "number": "123456", "holder": "Ann Lee", "group": "staff"}
    assert admin.post("/fobs/issue", data=data).status_code == 302
    row = store.cards.get(credential=("RAW40", None, 123456))
    assert row is not None and row.holder == "Ann Lee"
