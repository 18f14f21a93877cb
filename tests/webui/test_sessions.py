"""Sessions that really end: a copy of the cookie stops working after each revoking action."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.store import Store
from tests.webui.conftest import PASSWORD, AuthActions
from webui.auth import require_role

COOKIE = "doorward_session"
NEW_PASSWORD = "a brand new passphrase"


def _signed_in(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def _copy(client: FlaskClient) -> str:
    cookie = client.get_cookie(COOKIE)
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    thief = app.test_client()
    thief.set_cookie(COOKIE, cookie)
    return thief


def _sign_out(app: Flask, store: Store) -> None:
    AuthActions(_signed_in(app, "operator")).logout()


def _change_own_password(app: Flask, store: Store) -> None:
    other = _signed_in(app, "operator")
    data = {"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    assert other.post("/account/password", data=data).status_code == 302
    assert other.get("/").status_code == 200  # the browser that changed it stays signed in


def _admin_does(path: str, **data: str) -> Callable[[Flask, Store], None]:
    def act(app: Flask, store: Store) -> None:
        response = _signed_in(app, "admin").post(path, data=data)
        assert response.status_code in (200, 302), response.get_data(as_text=True)

    return act


@pytest.mark.parametrize(
    "action",
    [
        _sign_out,
        _change_own_password,
        _admin_does("/users/operator/role", role="auditor"),
        _admin_does("/users/operator/password"),
        _admin_does("/users/operator/disable"),
    ],
    ids=["sign-out", "password-change", "role-change", "password-reset", "disable"],
)
def test_a_copied_cookie_stops_working(
    app: Flask, store: Store, action: Callable[[Flask, Store], None]
) -> None:
    victim = _signed_in(app, "operator")
    copy = _copy(victim)
    assert _replay(app, copy).get("/").status_code == 200  # the copy works, for now
    action(app, store)
    page = _replay(app, copy).get("/door")
    assert page.status_code == 302 and page.headers["Location"].startswith("/login")
    assert _replay(app, copy).get("/dashboard/live.json").status_code == 401
    lockdown = {"reason": "x", "confirm": "yes"}
    assert _replay(app, copy).post("/door/lockdown_on", data=lockdown).status_code == 401
    assert store.door.mode()[0].value == "normal"
    assert victim.get("/").status_code == 302  # every session of that user ended


def test_sign_out_ends_only_that_users_sessions(app: Flask) -> None:
    admin = _signed_in(app, "admin")
    operator = _signed_in(app, "operator")
    AuthActions(operator).logout()
    assert admin.get("/").status_code == 200


def test_a_session_expires_on_the_server(app: Flask, store: Store) -> None:
    now = [1_800_000_000.0]
    app.config["WALL_CLOCK"] = lambda: now[0]
    client = _signed_in(app, "auditor")
    now[0] += app.permanent_session_lifetime.total_seconds() - 1
    assert client.get("/").status_code == 200
    now[0] += 2  # eight hours after signing in: over, whatever the cookie says
    assert client.get("/").status_code == 302


def test_the_cookie_holds_no_account_and_the_store_no_session_id(app: Flask, store: Store) -> None:
    import sqlite3

    client = _signed_in(app, "admin")
    with client.session_transaction() as session:
        assert set(session) <= {"sid", "_permanent", "_flashes", "csrf_token"}
        sid = session["sid"]
    with sqlite3.connect(store.path) as raw:
        rows = raw.execute("SELECT id_digest FROM admin_sessions").fetchall()
    assert len(rows) == 1 and sid not in rows[0][0] and len(rows[0][0]) == 64


def test_a_json_page_answers_403_naming_the_role(app: Flask) -> None:
    def probe() -> dict[str, bool]:
        return {"ok": True}

    app.add_url_rule("/probe.json", "probe", require_role("admin", "operator")(probe))
    response = _signed_in(app, "auditor").get("/probe.json")
    assert response.status_code == 403
    assert response.json == {
        "error": "This page is for the admin or operator roles only; you are signed in with "
        "the auditor role. Ask an admin if you need it.",
        "needs": ["admin", "operator"],
        "role": "auditor",
    }


def test_api_tokens_are_not_sessions(app: Flask, store: Store) -> None:
    admin = _signed_in(app, "admin")
    copy = _copy(admin)
    assert _replay(app, copy).get("/api/v1/status").status_code == 401  # as before: tokens only
