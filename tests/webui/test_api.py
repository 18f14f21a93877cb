"""The JSON API: every endpoint for every role and token, validation, and the OpenAPI document."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store
from tests.webui.conftest import FakeController, add_user
from webui import api, api_token
from webui.api_docs import PREFIX, document

ANY = {"admin", "operator", "auditor"}
DOOR = {"admin", "operator"}
ADMIN = {"admin"}
CATCH_ALL = "/api/v1/<path:rest>"


class ApiStore(Store):
    """The Store (its API token methods are ``store.users``'s)."""


def with_api(app: Flask) -> Flask:
    """Register the API's blueprints unless the app factory already did."""
    for module in (api, api_token):
        if module.bp.name not in app.blueprints:
            app.register_blueprint(module.bp)
    return app


def give_token(app: Flask, username: str) -> str:
    """A fresh API token for ``username``, stored as the page would store it."""
    store = app.extensions["doorward"].store
    user = store.users.get(username=username)
    token = api_token.new_token(user.id)
    store.users.set_token_digest(username, api_token.digest(token), actor="test")
    return token


def bearer(token: str | None) -> dict[str, str]:
    return {} if token is None else {"Authorization": f"Bearer {token}"}


def api_store(config: Config, initialised_db: Path) -> Iterator[Store]:
    """The conftest's store, with the API's mixin and one fob (KW-1, Ms. Shah)."""
    config.data_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(initialised_db, config.db_path)
    with ApiStore(config.db_path) as s:
        s.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="t")
        yield s


def make_tokens(app: Flask) -> dict[str, str | None]:
    """A token per role, one of a disabled account, a wrong one, and none."""
    with_api(app)
    add_user(app, "gone", "admin")
    found: dict[str, str | None] = {r: give_token(app, r) for r in ("admin", "operator", "auditor")}
    found["disabled"] = give_token(app, "gone")
    app.extensions["doorward"].store.users.set_disabled("gone", True, actor="test")
    found["bad"] = found["admin"][:-4] + "AAAA"  # type: ignore[index]
    found["none"] = None
    return found


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    yield from api_store(config, initialised_db)


@pytest.fixture
def tokens(app: Flask) -> dict[str, str | None]:
    return make_tokens(app)


@pytest.fixture
def client(app: Flask, tokens: dict[str, str | None]) -> FlaskClient:
    return app.test_client()


def call(
    client: FlaskClient, method: str, path: str, token: str | None, body: Any = None, **kw: Any
) -> Any:
    return client.open(PREFIX + path, method=method, headers=bearer(token), json=body, **kw)


def state(store: Store) -> tuple[int, str, int]:
    """What a refused request must leave alone: rev, mode, and the newest event id."""
    newest = store.events.query(limit=1)
    return store.current_rev(), store.door.mode()[0].value, newest[0].id if newest else 0


ISSUE = {"format": "H10301", "facility": 12, "number": 777, "holder": "Ofc. Lee", "serial": "CPD-9"}
ROUTES = [
    ("GET", "/status", ANY, None, "/status"),
    ("GET", "/credentials", ANY, None, "/credentials"),
    ("POST", "/credentials", ADMIN, ISSUE, "/credentials"),
    ("POST", "/credentials/KW-1/status", ADMIN, {"status": "lost", "reason": "bag stolen"},
     "/credentials/<serial>/status"),
    ("GET", "/fleet", ANY, None, "/fleet"),
    ("GET", "/holders", ANY, None, "/holders"),
    ("POST", "/holders", ADMIN, {"name": "Sgt. Hale", "agency": "CPD"}, "/holders"),
    ("GET", "/events", ANY, None, "/events"),
    ("POST", "/lockdown", DOOR, {"state": "on", "reason": "police request"}, "/lockdown"),
    ("POST", "/unlock", DOOR, {"reason": "delivery"}, "/unlock"),
]  # fmt: skip
WHO = ("admin", "operator", "auditor", "none", "bad", "disabled")


def test_the_table_covers_every_api_route(app: Flask, tokens: dict[str, str | None]) -> None:
    rules = {(PREFIX + r[4], m) for r in ROUTES for m in [r[0]]}
    found = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.rule != CATCH_ALL
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert found == rules | {(PREFIX + "/openapi.json", "GET")}


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("method", "path", "allowed", "body", "rule"), ROUTES)
def test_route_by_token(
    client: FlaskClient,
    store: Store,
    tokens: dict[str, str | None],
    controller: FakeController,
    who: str,
    method: str,
    path: str,
    allowed: set[str],
    body: Any,
    rule: str,
) -> None:
    before = state(store)
    response = call(client, method, path, tokens[who], body)
    assert response.is_json and response.headers["Cache-Control"] == "no-store"
    if who not in ANY:
        assert response.status_code == 401
        assert "Bearer" in response.headers["WWW-Authenticate"]
        assert "token" in response.get_json()["error"] or "Bearer" in response.get_json()["error"]
    elif who not in allowed:
        assert response.status_code == 403
        assert f"the {who} role may not" in response.get_json()["error"]
    else:
        assert response.status_code == (
            201 if path in ("/credentials", "/holders") and body else 200
        )
        if method == "POST":
            if path == "/unlock":
                assert controller.requests[-1] == {
                    "cmd": "unlock",
                    "actor": f"api:{who}",
                    "reason": "delivery",
                }
            else:
                assert state(store) != before
                assert store.events.query(limit=1)[0].actor == f"api:{who}"
        return
    assert state(store) == before
    assert [c for c in controller.commands() if c != "status"] == []


def test_a_session_cookie_does_not_authenticate_the_api(app: Flask, tokens: Any) -> None:
    from tests.webui.conftest import AuthActions

    client = app.test_client()
    assert AuthActions(client).login("admin").status_code == 302
    response = client.post(PREFIX + "/lockdown", json={"state": "on", "reason": "x"})
    assert response.status_code == 401
    assert app.extensions["doorward"].store.door.mode()[0].value == "normal"


@pytest.mark.parametrize(
    "header",
    ["Basic YWRtaW46eA==", "Bearer", "Bearer ", "bearer dw_1_", "Bearer dw_x_abc",
     "Bearer " + "a" * 300, "Bearer dw_99_abcdef", "Bearer dw_1_" + "é" * 10],
)  # fmt: skip
def test_malformed_authorization_is_401(client: FlaskClient, header: str) -> None:
    response = client.get(PREFIX + "/status", headers={"Authorization": header})
    assert response.status_code == 401 and "error" in response.get_json()


def test_a_token_names_its_own_account(
    client: FlaskClient, tokens: dict[str, str | None], store: Store
) -> None:
    # The operator's secret with the admin's id: not the admin.
    admin_id = store.users.get(username="admin").id  # type: ignore[union-attr]
    forged = f"dw_{admin_id}_" + str(tokens["operator"]).split("_", 2)[2]
    assert call(client, "POST", "/holders", forged, {"name": "X"}).status_code == 401


# -- the OpenAPI document ----------------------------------------------------------------------


def test_openapi_needs_no_token_and_describes_every_route(app: Flask, client: FlaskClient) -> None:
    response = client.get(PREFIX + "/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc == document() and doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "description": "A per-user API token."
    }  # fmt: skip
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []
    documented = {(path, m.upper()) for path, ops in doc["paths"].items() for m in ops}
    routed = {
        (rule.rule.removeprefix(PREFIX).replace("<serial>", "{serial}"), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.rule != CATCH_ALL
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented == routed
    for ops in doc["paths"].values():
        for op in ops.values():
            assert "200" in op["responses"] or "201" in op["responses"]
            for code, resp in op["responses"].items():
                if code >= "400":
                    ref = resp["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/Error"


def test_the_document_lists_the_roles_each_operation_checks(
    client: FlaskClient, tokens: dict[str, str | None]
) -> None:
    doc = client.get(PREFIX + "/openapi.json").get_json()
    for method, _path, allowed, _, rule in ROUTES:
        op = doc["paths"][rule.replace("<serial>", "{serial}")][method.lower()]
        assert set(op["x-roles"]) == allowed, rule


def test_unknown_paths_and_methods_answer_json(client: FlaskClient, tokens: Any) -> None:
    missing = call(client, "GET", "/nothing/here", tokens["admin"])
    assert missing.status_code == 404 and "openapi.json" in missing.get_json()["error"]
    wrong = call(client, "DELETE", "/credentials", tokens["admin"])
    assert wrong.status_code == 405 and "GET, POST" in wrong.get_json()["error"]


# -- status, lockdown, unlock --------------------------------------------------------------------


def test_status_without_a_controller_gives_the_stored_mode(
    client: FlaskClient, tokens: Any
) -> None:
    body = call(client, "GET", "/status", tokens["auditor"]).get_json()
    assert body["controller"] == "not running" and body["mode"] == "normal"
    assert "no controller is running" in body["error"]


def test_status_from_the_controller(
    client: FlaskClient, tokens: Any, controller: FakeController
) -> None:
    body = call(client, "GET", "/status", tokens["auditor"]).get_json()
    assert body["controller"] == "running" and body["door"]["locked"] is True


def test_lockdown_on_and_off_is_stored_by_who_and_why(
    client: FlaskClient, tokens: Any, store: Store, controller: FakeController
) -> None:
    on = call(client, "POST", "/lockdown", tokens["operator"], {"state": "on", "reason": "drill"})
    assert on.get_json() == {"mode": "lockdown", "controller_told": True, "applied": "at_the_door"}
    assert store.door.mode()[0].value == "lockdown"
    event = store.events.query(limit=1, kinds=["mode"])[0]
    assert event.actor == "api:operator" and event.reason == "drill"
    assert "refresh" in controller.commands()
    off = call(
        client, "POST", "/lockdown", tokens["admin"], {"state": "off", "reason": "all clear"}
    )
    assert off.get_json()["mode"] == "normal" and store.door.mode()[0].value == "normal"


def test_lockdown_without_a_controller_is_stored_and_says_so(
    client: FlaskClient, tokens: Any, store: Store
) -> None:
    on = call(client, "POST", "/lockdown", tokens["admin"], {"state": "on", "reason": "drill"})
    assert on.status_code == 200 and on.get_json()["controller_told"] is False
    assert on.get_json()["applied"] == "no_controller"
    assert store.door.mode()[0].value == "lockdown"


def test_unlock_without_a_controller_is_503_and_unlocks_nothing(
    client: FlaskClient, tokens: Any
) -> None:
    response = call(client, "POST", "/unlock", tokens["admin"], {"reason": "delivery"})
    assert response.status_code == 503
    assert "the door was not unlocked" in response.get_json()["error"]
