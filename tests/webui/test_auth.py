"""Signing in: argon2 passwords, rate limits, no open redirect, CSRF on every form."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store
from tests.webui.conftest import (
    PASSWORD,
    AuthActions,
    StepClock,
    add_user,
    csrf_token,
    make_app,
)


def test_login_and_logout(client: FlaskClient, auth: AuthActions, store: Store) -> None:
    assert client.get("/").headers["Location"].startswith("/login")
    response = auth.login()
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "admin (admin)" in client.get("/").get_data(as_text=True)
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:admin" and event.detail and event.detail["action"] == "login"
    assert auth.logout().status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/logout").status_code == 405  # signing out is a POST (CSRF-protected)


@pytest.mark.parametrize(
    ("username", "password"),
    [("admin", "wrong password here"), ("nobody", PASSWORD), ("admin", "x" * 1024)],
)
def test_wrong_credentials(
    client: FlaskClient, auth: AuthActions, username: str, password: str
) -> None:
    response = auth.login(username, password)
    assert response.status_code == 401
    assert "wrong username or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize(
    ("username", "password", "needle"),
    [("", PASSWORD, "Username is required"), ("admin", "", "Password is required")],
)
def test_missing_fields_are_named(
    auth: AuthActions, username: str, password: str, needle: str
) -> None:
    response = auth.login(username, password)
    assert response.status_code == 400 and needle in response.get_data(as_text=True)


def test_failed_logins_are_in_the_audit_log(auth: AuthActions, store: Store) -> None:
    auth.login("admin", "wrong password here")
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:admin" and event.detail and event.detail["action"] == "login_failed"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
        "/\r\nLocation: https://evil.example",
        " //evil.example",
        "fobs",
    ],
)
def test_no_open_redirect_after_login(auth: AuthActions, target: str) -> None:
    response = auth.login(next=target)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_local_next_is_followed(client: FlaskClient, auth: AuthActions) -> None:
    sent = client.get("/fobs?q=CPD")
    assert sent.headers["Location"] == "/login?next=/fobs?q%3DCPD"
    response = auth.login(next="/fobs?q=CPD")
    assert response.headers["Location"] == "/fobs?q=CPD"


def test_a_disabled_account_is_signed_out_and_cannot_sign_in(app: Flask, store: Store) -> None:
    operator = app.test_client()
    assert AuthActions(operator).login("operator").status_code == 302
    assert operator.get("/").status_code == 200
    store.users.set_disabled("operator", True, actor="test")
    assert operator.get("/").status_code == 302
    assert AuthActions(operator).login("operator").status_code == 401


def test_a_forged_session_cookie_is_ignored(client: FlaskClient) -> None:
    client.set_cookie("doorward_session", "eyJ1aWQiOjF9.forged.signature")
    assert client.get("/").status_code == 302


@pytest.fixture
def csrf_app(config: Config, store: Store, clock: StepClock) -> Flask:
    app = make_app(config, store, clock, WTF_CSRF_ENABLED=True)
    add_user(app, "admin", "admin", first=True)
    return app


def test_forms_without_a_csrf_token_are_refused(csrf_app: Flask, store: Store) -> None:
    client = csrf_app.test_client()
    refused = AuthActions(client).login()
    assert refused.status_code == 400 and "reload it and try again" in refused.get_data(
        as_text=True
    )
    token = csrf_token(client.get("/login").get_data(as_text=True))
    signed_in = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token}
    )
    assert signed_in.status_code == 302
    before = store.door.mode()
    data = {"reason": "drill", "confirm": "yes"}
    assert client.post("/door/lockdown_on", data=data).status_code == 400
    assert client.post("/users/add", data={"username": "x", "role": "admin"}).status_code == 400
    assert store.door.mode() == before and store.users.count() == 1
    token = csrf_token(client.get("/door").get_data(as_text=True))
    done = client.post("/door/lockdown_on", data=data | {"csrf_token": token})
    assert done.status_code == 302 and store.door.mode()[0].value == "lockdown"
