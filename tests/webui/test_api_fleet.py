"""The JSON API in a fleet: the link's status, ``source`` on credentials, 409 for district ones."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store
from appliance.testing.district import add_district_card
from tests.webui.test_api import api_store, call, make_tokens, state
from webui import fleet

Tokens = dict[str, str | None]
CONSOLE = "comes from the district list: change it at the district console, not on this box"


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    """KW-1 (local, from api_store) and PD-1 (district, H10301:12:7001)."""
    for s in api_store(config, initialised_db):
        add_district_card(s, 7001, "Ofc. Diaz", serial="PD-1")
        yield s


@pytest.fixture
def tokens(app: Flask) -> Tokens:
    return make_tokens(app)


def test_credentials_say_where_they_came_from(client: FlaskClient, tokens: Tokens) -> None:
    listed = call(client, "GET", "/credentials", tokens["auditor"]).get_json()["credentials"]
    assert {c["serial"]: c["source"] for c in listed} == {"KW-1": "local", "PD-1": "district"}


@pytest.mark.parametrize("status", ["lost", "stolen", "returned", "revoked", "issued"])
def test_status_of_a_district_credential_is_409(
    client: FlaskClient, store: Store, tokens: Tokens, status: str
) -> None:
    before = state(store)
    body = {"status": status, "reason": "reported at the office"}
    response = call(client, "POST", "/credentials/PD-1/status", tokens["admin"], body)
    assert response.status_code == 409
    assert response.get_json() == {
        "error": f"nothing was changed: credential H10301:12:7001 (serial 'PD-1') {CONSOLE}"
    }
    assert state(store) == before


def test_issuing_over_a_district_credential_is_409(
    client: FlaskClient, store: Store, tokens: Tokens
) -> None:
    before = state(store)
    body = {"format": "H10301", "facility": 12, "number": 7001, "holder": "Someone"}
    response = call(client, "POST", "/credentials", tokens["admin"], body)
    assert response.status_code == 409
    assert "from the district list" in response.get_json()["error"]
    assert state(store) == before


def test_fleet_when_not_a_member(client: FlaskClient, tokens: Tokens) -> None:
    response = call(client, "GET", "/fleet", tokens["operator"])
    assert response.status_code == 200
    assert response.get_json() == {"member": False, "config": None, "status": {}}


def test_fleet_when_a_member(
    client: FlaskClient, store: Store, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = SimpleNamespace(
        broker="mqtts://box7:s3cret@broker:8883", district="casper", box_id="b7", school="Lincoln"
    )
    monkeypatch.setattr(fleet, "fleet_config", lambda: section)
    status = {"connected": True, "list_version": 9, "broker": "mqtts://box7:s3cret@broker:8883"}
    store.fleet.set_status(status)
    got = call(client, "GET", "/fleet", tokens["auditor"]).get_json()
    assert got == {
        "member": True,
        "config": {
            "broker": "mqtts://box7@broker:8883",
            "district": "casper",
            "box_id": "b7",
            "school": "Lincoln",
        },
        "status": {**status, "broker": "mqtts://box7@broker:8883"},
    }
