"""The API token page: create (shown once), replace, revoke; CSRF on the page, none on the API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store, StoreError
from tests.webui.conftest import AuthActions, StepClock, add_user, csrf_token, make_app
from tests.webui.test_api import api_store, call, with_api
from webui import api_token

TOKEN_RE = r'id="f-token" type="text" readonly value="(dw_[^"]+)"'


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    yield from api_store(config, initialised_db)


@pytest.fixture
def csrf_app(config: Config, store: Store) -> Flask:
    """The admin page with CSRF on, as it runs on the box."""
    app = with_api(make_app(config, store, StepClock(), WTF_CSRF_ENABLED=True))
    for role in ("admin", "operator", "auditor"):
        add_user(app, role, role, first=role == "admin")
    return app


def signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    AuthActions(client).login(username, csrf_token=csrf_token(page))
    assert client.get("/api/v1/token").status_code == 200
    return client


def post_action(client: FlaskClient, action: str) -> tuple[int, str]:
    page = client.get("/api/v1/token").get_data(as_text=True)
    response = client.post("/api/v1/token", data={"action": action, "csrf_token": csrf_token(page)})
    return response.status_code, response.get_data(as_text=True)


def shown_token(html: str) -> str:
    found = re.search(TOKEN_RE, html)
    assert found, "no token on the page"
    return found.group(1)


@pytest.mark.parametrize("role", ["admin", "operator", "auditor"])
def test_create_use_replace_and_revoke(csrf_app: Flask, store: Store, role: str) -> None:
    client = signed_in(csrf_app, role)
    assert "You have no API token." in client.get("/api/v1/token").get_data(as_text=True)
    code, html = post_action(client, "create")
    assert code == 200 and "it is shown only once" in html
    first = shown_token(html)
    api = csrf_app.test_client()  # no cookie, no CSRF token: only the bearer token
    assert call(api, "GET", "/events", first).status_code == 200
    again = client.get("/api/v1/token").get_data(as_text=True)
    assert first not in again and "You have an API token" in again
    event = store.events.query(limit=1)[0]
    assert event.actor == f"web:{role}" and event.detail is not None
    assert event.detail["action"] == "create_api_token"
    _, html = post_action(client, "create")
    second = shown_token(html)
    assert second != first
    assert call(api, "GET", "/events", first).status_code == 401
    assert call(api, "GET", "/events", second).status_code == 200
    code, _ = post_action(client, "revoke")
    assert code == 302
    assert "is revoked" in client.get("/api/v1/token").get_data(as_text=True)
    assert call(api, "GET", "/events", second).status_code == 401


def test_only_the_digest_is_stored(csrf_app: Flask, store: Store) -> None:
    client = signed_in(csrf_app, "admin")
    token = shown_token(post_action(client, "create")[1])
    assert isinstance(store, Store)
    user = store.users.get(username="admin")
    assert user is not None
    owner = store.users.token_owner(user.id)
    assert owner is not None and owner[1] == api_token.digest(token)
    assert token.encode() not in store.path.read_bytes()


def test_the_page_needs_its_csrf_token_and_changes_nothing_without(
    csrf_app: Flask, store: Store
) -> None:
    client = signed_in(csrf_app, "admin")
    rev = store.current_rev()
    response = client.post("/api/v1/token", data={"action": "create"})
    assert response.status_code == 400 and "dw_" not in response.get_data(as_text=True)
    assert store.current_rev() == rev


def test_the_api_needs_no_csrf_token(csrf_app: Flask, store: Store) -> None:
    client = signed_in(csrf_app, "operator")
    token = shown_token(post_action(client, "create")[1])
    api = csrf_app.test_client()
    response = call(api, "POST", "/lockdown", token, {"state": "on", "reason": "drill"})
    assert response.status_code == 200 and store.door.mode()[0].value == "lockdown"


def test_a_bad_action_is_400_and_changes_nothing(csrf_app: Flask, store: Store) -> None:
    client = signed_in(csrf_app, "admin")
    rev = store.current_rev()
    code, html = post_action(client, "steal")
    assert code == 400 and "Action must be one of create, revoke" in html
    assert store.current_rev() == rev


def test_revoking_without_a_token_leaves_no_trace(csrf_app: Flask, store: Store) -> None:
    client = signed_in(csrf_app, "auditor")
    rev = store.current_rev()
    assert post_action(client, "revoke")[0] == 302
    assert store.current_rev() == rev


def test_signed_out_visitors_are_sent_to_sign_in(csrf_app: Flask) -> None:
    response = csrf_app.test_client().get("/api/v1/token")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_a_disabled_account_loses_its_token(csrf_app: Flask, store: Store) -> None:
    add_user(csrf_app, "temp", "operator")
    client = signed_in(csrf_app, "temp")
    token = shown_token(post_action(client, "create")[1])
    api = csrf_app.test_client()
    assert call(api, "GET", "/status", token).status_code == 200
    store.users.set_disabled("temp", True, actor="test")
    assert call(api, "GET", "/status", token).status_code == 401


@pytest.mark.parametrize(
    "digest", ["dw_1_plaintoken", "A" * 64, "0" * 63, "$argon2id$v=19$x", 12345]
)
def test_the_store_refuses_anything_but_a_sha256_digest(store: Store, digest: object) -> None:
    assert isinstance(store, Store)
    rev = store.current_rev()
    with pytest.raises(StoreError, match="SHA-256 hex digest"):
        store.users.set_token_digest("nobody", digest, actor="t")  # type: ignore[arg-type]
    assert store.current_rev() == rev


def test_the_store_refuses_an_unknown_account(store: Store) -> None:
    assert isinstance(store, Store)
    with pytest.raises(StoreError, match="no account named 'ghost'"):
        store.users.set_token_digest("ghost", "0" * 64, actor="t")
