"""The JSON API's data endpoints: what they return; hostile input refused, nothing changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import EventRecord, Store
from appliance.testing.box import running_box
from tests.webui.conftest import FakeController, StepClock, add_user, make_app
from tests.webui.test_api import ApiStore, api_store, call, give_token, make_tokens, state, with_api

Tokens = dict[str, str | None]


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    yield from api_store(config, initialised_db)


@pytest.fixture
def tokens(app: Flask) -> Tokens:
    return make_tokens(app)


@pytest.fixture
def client(app: Flask, tokens: Tokens) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def admin(tokens: Tokens) -> str | None:
    return tokens["admin"]


GOOD = {"format": "H10301", "facility": 12, "number": 777, "holder": "Ofc. Lee", "serial": "CPD-9"}


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({**GOOD, "pin": "1234"}, "unknown field(s) 'pin'"),
        ({**GOOD, "zz": 1, "aa": 2}, "unknown field(s) 'aa', 'zz'"),
        ({**GOOD, "number": "777"}, "'number' must be a whole number"),
        ({**GOOD, "number": True}, "'number' must be a whole number"),
        ({**GOOD, "number": 1.5}, "'number' must be a whole number"),
        ({**GOOD, "facility": -1}, "'facility' must be from 0"),
        ({k: v for k, v in GOOD.items() if k != "holder"}, "'holder' is required"),
        ({**GOOD, "holder": "   "}, "'holder' must not be empty"),
        ({**GOOD, "holder": "x" * 201}, "the limit is 200"),
        ({**GOOD, "holder": "a\x00b"}, "control character"),
        ({**GOOD, "holder": ["a"]}, "'holder' must be a string, not list"),
        ({**GOOD, "serial": "s" * 65}, "the limit is 64"),
        ({**GOOD, "group": "nobody"}, "'group' must be one of"),
        ({**GOOD, "format": "NOPE99"}, "nothing was changed"),
        ({**GOOD, "facility": 999}, "nothing was changed"),
        ([GOOD], "the body must be a JSON object"),
        ("text", "the body must be a JSON object"),
    ],
)
def test_bad_credential_bodies_change_nothing(
    client: FlaskClient, admin: str, store: Store, body: Any, needle: str
) -> None:
    before = state(store)
    response = call(client, "POST", "/credentials", admin, body)
    assert response.status_code == 400, response.get_json()
    assert needle in response.get_json()["error"]
    assert state(store) == before


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"data": "{}", "content_type": "text/plain"}, "Content-Type: application/json"),
        ({"data": "{not json", "content_type": "application/json"}, "not valid JSON"),
        ({}, "Content-Type: application/json"),
    ],
)
def test_a_body_that_is_not_json_is_refused(
    client: FlaskClient, admin: str, store: Store, kwargs: dict[str, Any], needle: str
) -> None:
    before = state(store)
    response = call(client, "POST", "/lockdown", admin, **kwargs)
    assert response.status_code == 400 and needle in response.get_json()["error"]
    assert state(store) == before


def test_issue_returns_the_credential_and_refuses_a_duplicate_with_409(
    client: FlaskClient, admin: str, store: Store, controller: FakeController
) -> None:
    made = call(client, "POST", "/credentials", admin, {**GOOD, "format": "h10301"})
    assert made.status_code == 201
    body = made.get_json()
    assert body["credential"] == "H10301:12:777" and body["status"] == "issued"
    assert body["holder"] == "Ofc. Lee" and body["group"] == "staff"
    assert body["issued_by"] == "api:admin" and "+00:00" in body["issued_at"]
    assert "refresh" in controller.commands()
    before = state(store)
    again = call(client, "POST", "/credentials", admin, GOOD)
    assert again.status_code == 409 and "already" in again.get_json()["error"]
    serial = call(client, "POST", "/credentials", admin, {**GOOD, "number": 778})
    assert serial.status_code == 409 and "CPD-9" in serial.get_json()["error"]
    assert state(store) == before


def test_status_change_by_serial(
    client: FlaskClient, admin: str, store: Store, controller: FakeController
) -> None:
    response = call(
        client, "POST", "/credentials/KW-1/status", admin, {"status": "stolen", "reason": "car"}
    )
    assert response.status_code == 200
    assert response.get_json()["status"] == "stolen" and response.get_json()["controller_told"]
    row = store.cards.get(serial="KW-1")
    assert row is not None and row.status.value == "stolen" and row.status_reason == "car"
    event = store.events.query(limit=1)[0]
    assert event.actor == "api:admin" and event.serial == "KW-1"


@pytest.mark.parametrize(
    ("serial", "body", "code", "needle"),
    [
        ("NOPE", {"status": "lost", "reason": "x"}, 404, "no credential with serial 'NOPE'"),
        ("x" * 300, {"status": "lost", "reason": "x"}, 404, "no credential"),
        ("KW-1", {"status": "gone", "reason": "x"}, 400, "'status' must be one of"),
        ("KW-1", {"status": "lost"}, 400, "'reason' is required"),
        ("KW-1", {"status": "lost", "reason": "r" * 501}, 400, "the limit is 500"),
        ("KW-1", {"status": "lost", "reason": "x", "by": "me"}, 400, "unknown field(s) 'by'"),
    ],
)
def test_bad_status_changes_change_nothing(
    client: FlaskClient, admin: str, store: Store, serial: str, body: Any, code: int, needle: str
) -> None:
    before = state(store)
    response = call(client, "POST", f"/credentials/{serial}/status", admin, body)
    assert response.status_code == code and needle in response.get_json()["error"]
    assert state(store) == before


def test_list_credentials_search_filter_and_page(
    client: FlaskClient, tokens: Tokens, store: Store
) -> None:
    for n in range(5):
        store.cards.add("H10301", 7, n, f"Holder {n}", serial=f"S-{n}", actor="t")
    store.cards.set_status(serial="S-2", status="lost", reason="x", actor="t")
    page = call(client, "GET", "/credentials?limit=2&offset=1", tokens["auditor"]).get_json()
    assert page["total"] == 6 and page["limit"] == 2 and page["offset"] == 1
    assert [c["serial"] for c in page["credentials"]] == ["S-3", "S-2"]
    lost = call(client, "GET", "/credentials?status=lost", tokens["auditor"]).get_json()
    assert [c["serial"] for c in lost["credentials"]] == ["S-2"]
    found = call(client, "GET", "/credentials?search=shah", tokens["auditor"]).get_json()
    assert [c["holder"] for c in found["credentials"]] == ["Ms. Shah"]


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("limit=501", "'limit' must be from 1 to 500"),
        ("limit=0", "'limit' must be from 1 to 500"),
        ("limit=ten", "'limit' must be a whole number"),
        ("offset=-1", "'offset' must be a whole number"),
        ("status=gone", "'status' must be one of"),
        ("sort=name", "unknown parameter(s) 'sort'"),
        ("limit=1&limit=2", "'limit' is given more than once"),
        ("search=" + "x" * 201, "the limit is 200"),
    ],
)
def test_bad_credential_queries(client: FlaskClient, admin: str, query: str, needle: str) -> None:
    response = call(client, "GET", f"/credentials?{query}", admin)
    assert response.status_code == 400 and needle in response.get_json()["error"]


def test_holders_list_and_add(client: FlaskClient, admin: str, store: Store) -> None:
    made = call(
        client, "POST", "/holders", admin,
        {"name": "<script>alert(1)</script>", "agency": "CPD", "notes": "line one\nline two"},
    )  # fmt: skip
    assert made.status_code == 201
    assert made.get_json()["name"] == "<script>alert(1)</script>"
    assert made.get_json()["notes"] == "line one\nline two" and made.get_json()["credentials"] == 0
    assert store.events.query(limit=1)[0].actor == "api:admin"
    before = state(store)
    dup = call(client, "POST", "/holders", admin, {"name": "<script>alert(1)</script>"})
    assert dup.status_code == 409 and state(store) == before
    bad = call(client, "POST", "/holders", admin, {"name": "X", "badge": "b" * 65})
    assert bad.status_code == 400 and "'badge'" in bad.get_json()["error"]
    listed = call(client, "GET", "/holders?search=cpd", admin).get_json()
    assert [h["name"] for h in listed["holders"]] == ["<script>alert(1)</script>"]
    everyone = call(client, "GET", "/holders?limit=1&offset=1", admin).get_json()
    assert everyone["total"] == 2 and [h["name"] for h in everyone["holders"]] == ["Ms. Shah"]
    assert everyone["holders"][0]["credentials"] == 1


def test_events_filters_and_times_with_offsets(
    client: FlaskClient, tokens: Tokens, store: Store
) -> None:
    t0 = datetime(2026, 3, 1, 2, 14, tzinfo=UTC)
    store.events.append(
        [
            EventRecord(ts=t0.timestamp(), kind="granted", serial="KW-1", holder="Ms. Shah"),
            EventRecord(ts=t0.timestamp() + 60, kind="denied", serial="CPD-3", reason="lost"),
        ]
    )
    auditor = tokens["auditor"]
    got = call(client, "GET", "/events?kinds=granted,denied&order=oldest", auditor).get_json()
    assert [e["kind"] for e in got["events"]] == ["granted", "denied"]
    assert got["events"][0]["time"] == "2026-03-01T02:14:00+00:00"
    since = "2026-03-01T03:14:30%2B01:00"  # 02:14:30 UTC, given in another zone
    later = call(client, "GET", f"/events?since={since}&kinds=granted,denied", auditor).get_json()
    assert [e["serial"] for e in later["events"]] == ["CPD-3"]
    until = call(client, "GET", "/events?until=2026-03-01T02:14:30Z&kinds=granted,denied", auditor)
    assert [e["serial"] for e in until.get_json()["events"]] == ["KW-1"]
    first = got["events"][0]["id"]
    after = call(client, "GET", f"/events?after_id={first}&holder=Ms.%20Shah", auditor).get_json()
    assert after["events"] == []
    by_serial = call(client, "GET", "/events?serial=KW-1&limit=1", auditor).get_json()
    assert [e["kind"] for e in by_serial["events"]] == ["granted"]
    assert got["events"][1]["text"] == "Denied: fob CPD-3 is reported lost"


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("since=2026-03-01T02:14:00", "needs a UTC offset"),
        ("since=yesterday", "must be an ISO 8601 time"),
        ("since=2026-03-02T00:00Z&until=2026-03-01T00:00Z", "'until' must be later"),
        ("limit=1001", "'limit' must be from 1 to 1000"),
        ("after_id=x", "'after_id' must be a whole number"),
        ("order=random", "'order' must be one of newest, oldest"),
        ("kinds=" + ",".join(["k"] * 21), "at most 20 kinds"),
        ("kind=granted", "unknown parameter(s) 'kind'"),
        ("kinds=grant", "unknown event kind 'grant' (did you mean 'granted'?)"),
    ],
)
def test_bad_event_queries(client: FlaskClient, admin: str, query: str, needle: str) -> None:
    response = call(client, "GET", f"/events?{query}", admin)
    assert response.status_code == 400 and needle in response.get_json()["error"]


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("/lockdown", {"state": "yes", "reason": "x"}, "'state' must be one of on, off"),
        ("/lockdown", {"state": "on"}, "'reason' is required"),
        ("/lockdown", {"state": "on", "reason": "x" * 201}, "the limit is 200"),
        ("/lockdown", {"state": "on", "reason": "x", "mode": "held_unlocked"}, "'mode'"),
        ("/unlock", {}, "'reason' is required"),
        ("/unlock", {"reason": 5}, "'reason' must be a string"),
        ("/unlock", {"reason": "x", "seconds": 60}, "unknown field(s) 'seconds'"),
    ],
)
def test_bad_door_commands_change_nothing(
    client: FlaskClient,
    admin: str,
    store: Store,
    controller: FakeController,
    path: str,
    body: Any,
    needle: str,
) -> None:
    before = state(store)
    response = call(client, "POST", path, admin, body)
    assert response.status_code == 400 and needle in response.get_json()["error"]
    assert state(store) == before and controller.commands() == []


def test_status_lockdown_and_unlock_reach_a_real_controller(tmp_path: Path) -> None:
    with running_box(tmp_path) as (_, events, config):
        store = ApiStore(config.db_path)
        try:
            app = with_api(make_app(config, store, StepClock()))
            add_user(app, "officer", "admin", first=True)
            add_user(app, "desk", "operator")
            admin, desk = give_token(app, "officer"), give_token(app, "desk")
            client = app.test_client()
            status = call(client, "GET", "/status", desk).get_json()
            assert status["controller"] == "running" and status["door"]["mode"] == "normal"
            mark = events.mark()
            assert call(client, "POST", "/unlock", desk, {"reason": "delivery"}).status_code == 200
            rec = events.wait(lambda r: r.kind == "unlock", start=mark)
            assert rec.actor == "api:desk" and rec.reason == "delivery"
            on = call(client, "POST", "/lockdown", admin, {"state": "on", "reason": "police"})
            assert on.get_json() == {
                "mode": "lockdown",
                "controller_told": True,
                "applied": "at_the_door",
            }
            rev = store.current_rev()
            for _ in range(1000):  # the refresh woke the controller: no sleep, just ask again
                door = call(client, "GET", "/status", desk).get_json()["door"]
                if door["view_revision"] >= rev:
                    break
            assert door["mode"] == "lockdown"
            lost = call(client, "POST", "/credentials/KW-1/status", admin,
                        {"status": "lost", "reason": "left on bus"})  # fmt: skip
            assert lost.get_json()["controller_told"] is True
        finally:
            store.close()


def test_times_are_given_back_with_an_offset(client: FlaskClient, admin: str) -> None:
    row = call(client, "GET", "/credentials", admin).get_json()["credentials"][0]
    when = datetime.fromisoformat(row["issued_at"])
    assert when.utcoffset() == timedelta(0)
