"""The simulated reader panel: present cards to a real controller on the mock back-end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import load_config
from appliance.store import Store
from appliance.testing.box import write_config
from tests.webui.conftest import (
    AuthActions,
    StepClock,
    add_user,
    admin_on_real_box,
    assert_refused,
    make_app,
)

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture
def box(tmp_path: Path) -> Iterator[tuple[FlaskClient, Store]]:
    """A running controller on the mock door (seeded) and an admin signed in to its page."""
    with admin_on_real_box(tmp_path) as real:
        yield real.client, real.store


def result(page: str) -> str:
    found = re.search(r'<div class="card" id="result">(.*?)</div>', page, re.S)
    assert found, page
    return found.group(1)


def test_an_enrolled_responder_is_granted(box: tuple[FlaskClient, Store]) -> None:
    client, _ = box
    panel = client.get("/reader").get_data(as_text=True)
    assert 'value="H10301:100:1001"' in panel and "Officer Ortiz [CPD-1]" in panel
    assert "No controller is running" not in panel
    response = client.post("/reader", data={"source": "fob", "fob": "H10301:100:1001"})
    assert response.status_code == 200
    shown = result(response.get_data(as_text=True))
    assert "<strong>granted</strong>" in shown and "Officer Ortiz [CPD-1]" in shown


def test_an_unknown_card_is_denied(box: tuple[FlaskClient, Store]) -> None:
    client, store = box
    response = client.post("/reader", data={"source": "random"})
    assert response.status_code == 200
    shown = result(response.get_data(as_text=True))
    assert "<strong>denied</strong> (unknown card)" in shown
    presented = re.search(r"Presented <strong>(H10301:\d+:\d+)</strong>", shown)
    assert presented is not None
    (event,) = store.events.query(kinds=["denied"], limit=1)
    assert event.credential == presented.group(1)


def test_a_card_by_its_fields_and_a_lost_fob(box: tuple[FlaskClient, Store]) -> None:
    client, _ = box
    fields = {"source": "fields", "format": "h10301", "facility": "12", "number": "3456"}
    shown = result(client.post("/reader", data=fields).get_data(as_text=True))
    assert "<strong>granted</strong>" in shown and "Ms. Shah" in shown
    lost = client.post("/reader", data={"source": "fob", "fob": "H10301:100:1003"})
    assert "<strong>denied</strong> (lost)" in result(lost.get_data(as_text=True))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({}, "What to present must be one of"),
        ({"source": "fob", "fob": ""}, "Fob is required"),
        ({"source": "fob", "fob": "H10301:1"}, "needs FORMAT:FACILITY:NUMBER"),
        ({"source": "fields", "format": "H10301", "facility": "256", "number": "1"}, "facility"),
        ({"source": "fields", "format": "NOPE", "number": "1"}, "NOPE"),
        ({"source": "fields", "format": "H10301", "facility": "1", "number": "-1"}, "whole"),
    ],
)
def test_bad_cards_are_refused_before_the_door(
    app: Flask, data: dict[str, str], needle: str
) -> None:
    client = app.test_client()
    AuthActions(client).login("operator")
    response = client.post("/reader", data=data)
    assert_refused(response, needle)
    assert 'id="result"' not in response.get_data(as_text=True)


def test_without_a_controller_it_says_so(app: Flask) -> None:
    client = app.test_client()
    AuthActions(client).login("operator")
    assert "No controller is running" in client.get("/reader").get_data(as_text=True)
    response = client.post("/reader", data={"source": "fob", "fob": "H10301:12:3456"})
    assert response.status_code == 503
    assert "nothing was presented: no controller answered" in response.get_data(as_text=True)


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("operator", 200), ("auditor", 403)])
def test_roles(app: Flask, store: Store, role: str, status: int) -> None:
    client = app.test_client()
    AuthActions(client).login(role)
    before = store.current_rev()
    assert client.get("/reader").status_code == status
    assert client.post("/reader", data={}).status_code == (400 if status == 200 else 403)
    assert store.current_rev() == before


def test_signed_out(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/reader").status_code == 302
    assert client.post("/reader", data={"source": "random"}).status_code == 401


def test_not_found_unless_the_mock_back_end(tmp_path: Path, store: Store, clock: StepClock) -> None:
    config = load_config(write_config(tmp_path, backend="pigpio"))
    app = make_app(config, store, clock)
    add_user(app, "admin", "admin", first=True)
    client = app.test_client()
    AuthActions(client).login()
    assert client.get("/reader").status_code == 404
    assert client.post("/reader", data={"source": "random"}).status_code == 404


def test_holder_names_in_the_pick_list_are_text(app: Flask, store: Store) -> None:
    store.cards.add("H10301", 1, 2, SCRIPT, serial="<b>", actor="t")
    client = app.test_client()
    AuthActions(client).login()
    page = client.get("/reader").get_data(as_text=True)
    assert SCRIPT not in page and "<b>" not in page and "&lt;script&gt;" in page
