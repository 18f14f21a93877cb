"""Every route for every role: a role reaches only its own actions, by link or by typed URL."""

from __future__ import annotations

import sqlite3
from unittest.mock import ANY

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.store import Store
from tests.webui.conftest import AuthActions

EVERYONE = {"admin", "operator", "auditor"}
DOOR = {"admin", "operator"}
ADMIN = {"admin"}
VIEWERS = {"admin", "auditor"}
REPORT = "/accountability/reports/<any(never_used, not_seen, lost):report>"
FOB = "/fobs/H10301:12:3456/status"

# (method, path, roles allowed, the rule it exercises). A POST that reaches its view with an
# empty form answers 400 (nothing to do), which proves the role check let it through.
ROUTES = [
    ("GET", "/", EVERYONE, "/"),
    ("GET", "/dashboard/live.json", EVERYONE, "/dashboard/live.json"),
    ("GET", "/fobs", EVERYONE, "/fobs"),
    ("GET", "/fobs/issue", ADMIN, "/fobs/issue"),
    ("POST", "/fobs/issue", ADMIN, "/fobs/issue"),
    ("GET", FOB, ADMIN, "/fobs/<credential>/status"),
    ("POST", FOB, ADMIN, "/fobs/<credential>/status"),
    ("GET", "/fobs/H10301:12:3456", EVERYONE, "/fobs/<credential>"),
    ("GET", "/fobs/H10301:12:3456/edit", ADMIN, "/fobs/<credential>/edit"),
    ("POST", "/fobs/H10301:12:3456/edit", ADMIN, "/fobs/<credential>/edit"),
    ("GET", "/fobs/import", ADMIN, "/fobs/import"),
    ("POST", "/fobs/import", ADMIN, "/fobs/import"),
    ("GET", "/fobs/export.csv", {"admin", "auditor"}, "/fobs/export.csv"),
    ("GET", "/holders", EVERYONE, "/holders"),
    ("GET", "/holders/agencies", EVERYONE, "/holders/agencies"),
    ("GET", "/holders/add", ADMIN, "/holders/add"),
    ("POST", "/holders/add", ADMIN, "/holders/add"),
    ("GET", "/holders/1/edit", ADMIN, "/holders/<int:holder_id>/edit"),
    ("POST", "/holders/1/edit", ADMIN, "/holders/<int:holder_id>/edit"),
    ("GET", "/groups", EVERYONE, "/groups"),
    ("GET", "/groups/add", ADMIN, "/groups/add"),
    ("POST", "/groups/add", ADMIN, "/groups/add"),
    ("GET", "/groups/2/edit", ADMIN, "/groups/<int:group_id>/edit"),
    ("POST", "/groups/2/edit", ADMIN, "/groups/<int:group_id>/edit"),
    ("GET", "/reader", DOOR, "/reader"),
    ("POST", "/reader", DOOR, "/reader"),
    ("GET", "/api/v1/token", EVERYONE, "/api/v1/token"),
    ("POST", "/api/v1/token", EVERYONE, "/api/v1/token"),
    ("GET", "/events", EVERYONE, "/events"),
    ("GET", "/events/export.csv", EVERYONE, "/events/export.csv"),
    ("GET", "/accountability", VIEWERS, "/accountability"),
    ("GET", "/accountability/900000/review", ADMIN, "/accountability/<int:event_id>/review"),
    ("POST", "/accountability/900000/review", ADMIN, "/accountability/<int:event_id>/review"),
    ("GET", "/accountability/reports/never_used", VIEWERS, REPORT),
    ("GET", "/accountability/reports/not_seen", VIEWERS, REPORT),
    ("GET", "/accountability/reports/lost", VIEWERS, REPORT),
    ("GET", "/settings", EVERYONE, "/settings"),
    ("POST", "/settings", ADMIN, "/settings"),
    ("GET", "/settings/wiring.svg", EVERYONE, "/settings/wiring.svg"),
    ("GET", "/fleet", EVERYONE, "/fleet"),
    ("GET", "/door", DOOR, "/door"),
    ("POST", "/door/lockdown_on", DOOR, "/door/<action>"),
    ("POST", "/door/lockdown_off", DOOR, "/door/<action>"),
    ("POST", "/door/unlock", DOOR, "/door/<action>"),
    ("GET", "/users", ADMIN, "/users"),
    ("POST", "/users/add", ADMIN, "/users/add"),
    ("POST", "/users/nobody/disable", ADMIN, "/users/<username>/<any(disable, enable):change>"),
    ("POST", "/users/nobody/enable", ADMIN, "/users/<username>/<any(disable, enable):change>"),
    ("POST", "/users/nobody/role", ADMIN, "/users/<username>/role"),
    ("POST", "/users/nobody/password", ADMIN, "/users/<username>/password"),
    ("GET", "/account/password", EVERYONE, "/account/password"),
    ("POST", "/account/password", EVERYONE, "/account/password"),
]
PUBLIC = {"/login", "/logout", "/setup", "/static/<path:filename>", "/api/docs"}
# The JSON API signs in with tokens, not sessions: tests/webui/test_api.py covers it by role.
API = {
    "/api/v1/openapi.json",
    "/api/v1/status",
    "/api/v1/credentials",
    "/api/v1/credentials/<serial>/status",
    "/api/v1/fleet",
    "/api/v1/holders",
    "/api/v1/events",
    "/api/v1/lockdown",
    "/api/v1/unlock",
    "/api/v1/<path:rest>",
    "/api/",  # sends people to /api/docs; anything else under /api/ is a JSON 404 or 405
    "/api/<path:rest>",
}


@pytest.fixture
def seeded(app: Flask, store: Store) -> Flask:
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
    with sqlite3.connect(store.path) as conn:  # a responder entry to review, at a known id
        conn.execute(
            "INSERT INTO events (id, ts_us, kind, detail) "
            "VALUES (900000, 1, 'granted', '{\"responder\": true}')"
        )
    return app


def test_the_table_covers_every_route(app: Flask) -> None:
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert rules == {r[3] for r in ROUTES} | PUBLIC | API


@pytest.mark.parametrize("role", sorted(EVERYONE))
@pytest.mark.parametrize(("method", "path", "allowed", "rule"), ROUTES)
def test_route_by_role(
    seeded: Flask, store: Store, role: str, method: str, path: str, allowed: set[str], rule: str
) -> None:
    client = seeded.test_client()
    assert AuthActions(client).login(role).status_code == 302
    before = (store.current_rev(), store.door.mode())
    response = client.open(path, method=method, data={})
    if role not in allowed:
        assert response.status_code == 403, response.get_data(as_text=True)
        text = response.get_data(as_text=True)
        needs = " or ".join(r for r in ("admin", "operator", "auditor") if r in allowed)
        if path.endswith(".json"):
            assert response.json == {"error": ANY, "needs": ANY, "role": role}
        else:  # the site's own page: which role the page needs, which one you have
            assert f"<dd>{needs}</dd>" in text and f"<dd>{role} (signed in as {role})" in text
            assert "Sign out" in text
    elif method == "GET":
        assert response.status_code == 200
    else:
        assert response.status_code == 400
    assert (store.current_rev(), store.door.mode()) == before  # nothing changed either way


@pytest.mark.parametrize(("method", "path", "allowed", "rule"), ROUTES)
def test_route_signed_out(
    seeded: Flask, method: str, path: str, allowed: set[str], rule: str
) -> None:
    response = seeded.test_client().open(path, method=method, data={})
    if method == "GET" and not path.endswith(".json"):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")
    else:
        assert response.status_code == 401


def test_navigation_shows_what_the_role_may_do(app: Flask) -> None:
    every_role = {
        "Dashboard",
        "Fobs",
        "Holders",
        "Groups",
        "Events",
        "Door settings",
        "Fleet",
        "API token",
    }
    expected = {
        "admin": every_role
        | {"Accountability", "Lockdown &amp; unlock", "Simulated reader", "Users"},
        "operator": every_role | {"Lockdown &amp; unlock", "Simulated reader"},
        "auditor": every_role | {"Accountability"},
    }
    everything = set().union(*expected.values())
    for role, labels in expected.items():
        client: FlaskClient = app.test_client()
        AuthActions(client).login(role)
        nav = client.get("/").get_data(as_text=True).split("<nav>")[1].split("</nav>")[0]
        assert {label for label in everything if f">{label}</a>" in nav} == labels, role
    admin = app.test_client()
    AuthActions(admin).login("admin")
    assert "Issue a fob" in admin.get("/fobs").get_data(as_text=True)
    auditor = app.test_client()
    AuthActions(auditor).login("auditor")
    assert "Issue a fob" not in auditor.get("/fobs").get_data(as_text=True)
