"""The box in a district fleet: the Fleet page, the dashboard's line, district fobs read-only."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config, load_config
from appliance.store import Store
from appliance.testing.box import write_config
from appliance.testing.district import add_district_card
from tests.webui.conftest import AuthActions, FakeController
from webui import fleet

SECTION = SimpleNamespace(
    broker="mqtts://box7:s3cret@broker.district.example:8883",
    district="casper",
    box_id="lincoln-front",
    school="Lincoln Elementary",
)
STATUS: dict[str, Any] = {
    "connected": True,
    "since": "2026-01-31T14:00:00+00:00",
    "broker": "mqtts://box7:s3cret@broker.district.example:8883",
    "box_id": "lincoln-front",
    "school": "Lincoln Elementary",
    "list_version": 4211,
    "list_applied_at": "2026-01-31T14:05:00+00:00",
    "outbox_pending": 17,
    "rejections": 2,
    "last_rejection": {
        "at": "2026-01-31T13:00:00+00:00",
        "topic": "doorward/casper/list",
        "reason": "signature does not verify",
    },
    "agent_version": "<b>0.7</b>",
}
FLEET_CARD = "/fobs/H10301:12:7001/status"


@pytest.fixture
def config(tmp_path: Path) -> Config:
    """The box's times are Mountain time: the page shows the agent's UTC times in it."""
    return load_config(write_config(tmp_path)).model_copy(update={"timezone": "America/Denver"})


@pytest.fixture
def member(monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The box's config has a [fleet] section (FLEET's FleetSection stands in as a namespace)."""
    monkeypatch.setattr(fleet, "fleet_config", lambda: SECTION)
    return SECTION


@pytest.fixture
def district(store: Store) -> Store:
    """One district fob (PD-1) and one local fob (L-1)."""
    add_district_card(store, 7001, "Ofc. Diaz", serial="PD-1")
    store.cards.add("H10301", 12, 100, "Ann Lee", serial="L-1", actor="office")
    return store


@pytest.mark.parametrize("role", ["admin", "operator", "auditor"])
def test_not_part_of_a_fleet(app: Flask, role: str) -> None:
    client = app.test_client()
    AuthActions(client).login(role)
    page = client.get("/fleet").get_data(as_text=True)
    assert "Not part of a fleet" in page and 'id="fleet-status"' not in page
    assert "Not part of a fleet" in client.get("/").get_data(as_text=True)


def test_member_before_the_agent_reports(admin: FlaskClient, member: Any) -> None:
    page = admin.get("/fleet").get_data(as_text=True)
    assert "has not reported yet" in page and "Lincoln Elementary" in page
    assert "s3cret" not in page and "mqtts://box7@broker.district.example:8883" in page
    assert "Fleet: the fleet agent has not reported yet" in admin.get("/").get_data(as_text=True)


def test_member_shows_what_the_agent_wrote(admin: FlaskClient, store: Store, member: Any) -> None:
    store.fleet.set_status(STATUS)
    page = admin.get("/fleet").get_data(as_text=True)
    facts = page.split('id="fleet-status"')[1].split("</dl>")[0]
    assert "connected since 2026-01-31 07:00:00 MST" in facts
    for text in ("4211", "17", "lincoln-front", "Lincoln Elementary", "casper"):
        assert f"<dd>{text}</dd>" in facts, text
    assert "doorward/casper/list: signature does not verify" in facts
    assert "Card list applied</dt><dd>2026-01-31 07:05:00 MST" in facts
    assert "s3cret" not in page
    assert "<b>0.7</b>" not in page and "&lt;b&gt;0.7&lt;/b&gt;" in page  # unknown keys, as text
    line = admin.get("/").get_data(as_text=True).split('id="fleet-summary"')[1].split("</p>")[0]
    assert "Fleet: connected since 2026-01-31 07:00:00 MST" in line
    assert "card list version 4211" in line and "17 event(s) waiting to go home" in line
    assert "2 message(s) rejected" in line


def test_disconnected_link_says_so(admin: FlaskClient, store: Store, member: Any) -> None:
    store.fleet.set_status({"connected": False, "outbox_pending": 3})
    assert "not connected" in admin.get("/fleet").get_data(as_text=True)
    assert "Fleet: not connected, 3 event(s)" in admin.get("/").get_data(as_text=True)


def test_fob_list_marks_district_and_local(admin: FlaskClient, district: Store) -> None:
    page = admin.get("/fobs").get_data(as_text=True)
    rows = {r.split("</td>")[0]: r for r in page.split('<tr class="status-')[1:]}
    pd = next(r for r in rows.values() if "PD-1" in r)
    local = next(r for r in rows.values() if "L-1" in r)
    assert 'class="badge district"' in pd and "Change status" not in pd and ">Details</a>" in pd
    assert 'class="badge local"' in local and "Change status" in local


def test_district_fob_detail_has_no_form(admin: FlaskClient, district: Store) -> None:
    page = admin.get(FLEET_CARD).get_data(as_text=True)
    assert "comes from the district list" in page and "district console" in page
    assert 'name="reason"' not in page and 'class="badge district"' in page
    assert 'name="reason"' in admin.get("/fobs/H10301:12:100/status").get_data(as_text=True)


@pytest.mark.parametrize("status", ["lost", "stolen", "returned", "revoked"])
def test_district_fob_status_post_is_refused(
    admin: FlaskClient, district: Store, status: str
) -> None:
    rev = district.current_rev()
    response = admin.post(FLEET_CARD, data={"status": status, "reason": "found in the lot"})
    assert response.status_code == 409
    assert "comes from the district list: change it at the district console" in (
        response.get_data(as_text=True)
    )
    assert district.current_rev() == rev
    row = district.cards.get(serial="PD-1")
    assert row is not None and row.status.value == "issued"


def test_issuing_over_a_district_fob_is_refused(admin: FlaskClient, district: Store) -> None:
    rev = district.current_rev()
    data = {"format": "H10301", "facility": "12", "number": "7001", "holder": "X", "group": "staff"}
    response = admin.post("/fobs/issue", data=data)
    assert response.status_code == 409
    assert "from the district list" in response.get_data(as_text=True)
    assert district.current_rev() == rev


def test_district_holder_and_group_edits_are_refused(admin: FlaskClient, district: Store) -> None:
    district.groups.add("district-maint", doors=None, actor="fleet")
    add_district_card(district, 7002, "Sam Fixit", group="district-maint")
    rev = district.current_rev()
    holder = next(h for h in district.holders.list() if h.name == "Ofc. Diaz")
    url = f"/holders/{holder.id}/edit"
    page = admin.get(url).get_data(as_text=True)
    assert 'id="district-note"' in page and 'name="agency"' not in page
    response = admin.post(url, data={"name": "Ofc. Diaz", "agency": "X"})
    assert response.status_code == 409
    assert "comes from the district list" in response.get_data(as_text=True)
    group = next(g for g in district.groups.list() if g.name == "district-maint")
    url = f"/groups/{group.id}/edit"
    page = admin.get(url).get_data(as_text=True)
    assert 'id="district-note"' in page and 'name="save"' not in page
    data = {"doors_mode": "all", "when": "always", "rows": "1", "save": "1"}
    response = admin.post(url, data=data)
    assert response.status_code == 409
    assert "comes from the district list" in response.get_data(as_text=True)
    assert district.current_rev() == rev


def test_local_holder_and_group_keep_their_forms(admin: FlaskClient, district: Store) -> None:
    holder = next(h for h in district.holders.list() if h.name == "Ann Lee")
    assert 'name="agency"' in admin.get(f"/holders/{holder.id}/edit").get_data(as_text=True)
    staff = next(g for g in district.groups.list() if g.name == "staff")
    page = admin.get(f"/groups/{staff.id}/edit").get_data(as_text=True)
    assert 'name="save"' in page and 'id="district-note"' not in page


def test_public_broker_strips_only_the_password() -> None:
    assert fleet.public_broker("mqtt://127.0.0.1:1883") == "mqtt://127.0.0.1:1883"
    assert fleet.public_broker("mqtts://u:p@h:8883/x") == "mqtts://u@h:8883/x"
    assert fleet.public_broker("mqtts://:p@h") == "mqtts://h"
    assert fleet.public_broker("mqtt://h:99999") == "(unreadable URL)"


def test_enrolling_the_last_card_read_says_it_is_a_district_fob(
    admin: FlaskClient, district: Store, controller: FakeController
) -> None:
    controller.status["last_unknown_card"] = "H10301:12:7001"
    page = admin.get("/fobs/issue?from=last_unknown").get_data(as_text=True)
    assert "already on record for Ofc. Diaz (issued, from the district list)" in page


def test_the_fleet_agents_own_status_shape(admin: FlaskClient, store: Store, member: Any) -> None:
    """Times as Unix seconds, conflicts as lines, the door as the agent saw it."""
    store.fleet.set_status(
        {
            "connected": False,
            "online": False,
            "list_version": 7,
            "list_applied_at": 1_769_868_000.0,  # 2026-01-31T14:00:00Z
            "at": 1_769_868_060.0,
            "conflicts": [f"H10301:12:{n} is a local card on this box" for n in range(8)],
            "last_rejection": {
                "at": 1_769_867_940.0,
                "topic": "doorward/casper/list/changes",
                "reason": "bad signature",
                "detail": "signed by another key",
            },
            "mode": "normal",
            "alarms": [],
            "software": "0.7.0",
        }
    )
    facts = admin.get("/fleet").get_data(as_text=True).split('id="fleet-status"')[1]
    assert "<dd>not connected</dd>" in facts and "Online" not in facts
    assert "Card list applied</dt><dd>2026-01-31 07:00:00 MST</dd>" in facts
    assert "Reported by the agent</dt><dd>2026-01-31 07:01:00 MST</dd>" in facts
    assert (
        "<dd>2026-01-31 06:59:00 MST on doorward/casper/list/changes: bad signature "
        "(signed by another key)</dd>"
    ) in facts
    assert "H10301:12:4 is a local card on this box (and 3 more)</dd>" in facts
    assert "H10301:12:5" not in facts
    assert "Software version</dt><dd>0.7.0</dd>" in facts
