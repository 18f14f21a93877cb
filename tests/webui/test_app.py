"""The app factory: security headers, cookies, assets from the box, no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import Store
from tests.webui.conftest import AuthActions, StepClock, make_app

TEMPLATES = Path(__file__).resolve().parents[2] / "webui" / "templates"


def assert_secure_headers(response) -> None:  # type: ignore[no-untyped-def]
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/login", "/setup", "/", "/nowhere", "/static/style.css", "/dashboard/live.json"]
)
def test_security_headers_on_every_response(client: FlaskClient, path: str) -> None:
    assert_secure_headers(client.get(path))


def test_security_headers_on_signed_in_pages_and_errors(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login("auditor")
    for path in ("/", "/fobs", "/users", "/door"):
        response = client.get(path)
        assert_secure_headers(response)
        assert response.headers["Cache-Control"] == "no-store"


def test_session_cookie_is_httponly_lax_and_not_secure_without_tls(
    client: FlaskClient, auth: AuthActions
) -> None:
    cookies = auth.login().headers.getlist("Set-Cookie")  # the device cookie comes too
    cookie = next(c for c in cookies if c.startswith("doorward_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_under_tls(config: Config, store: Store, clock: StepClock) -> None:
    app = make_app(config, store, clock, TLS=True)
    app.extensions["doorward"].store.users.add(
        "admin", app.extensions["doorward"].hasher.hash("x" * 12), "admin", actor="t", first=True
    )
    cookie = AuthActions(app.test_client()).login(password="x" * 12).headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_assets_are_served_from_the_box(client: FlaskClient) -> None:
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/dashboard.js").status_code == 200
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert "http://" not in text and "https://" not in text, template


@pytest.mark.parametrize("template", sorted(TEMPLATES.rglob("*.html")), ids=lambda p: p.name)
def test_templates_have_no_inline_script_or_style(template: Path) -> None:
    text = template.read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>"
    assert "<style" not in text and " style=" not in text
    assert not re.search(r"\son[a-z]+=", text), "inline event handler"


def test_create_app_without_a_database_says_run_init(tmp_path: Path, config: Config) -> None:
    with pytest.raises(RuntimeError, match="doorward init"):
        from webui import create_app

        create_app(config)


def test_create_app_opens_the_store_itself(config: Config, store: Store) -> None:
    from webui import create_app

    app = create_app(config, test_config={"TESTING": True})
    assert isinstance(app, Flask)
    assert app.test_client().get("/login").status_code == 302  # no admin yet: to setup
    app.extensions["doorward"].store.close()


def test_bodies_over_a_megabyte_are_refused(client: FlaskClient) -> None:
    response = client.post("/login", data={"username": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_a_store_failure_is_a_plain_503(
    client: FlaskClient, auth: AuthActions, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.store import StoreError

    auth.login("auditor")

    def busy(**_: object) -> None:
        raise StoreError("querying events: database is busy")

    monkeypatch.setattr(store.events, "query", busy)
    page = client.get("/")
    assert page.status_code == 503 and "database is busy" in page.get_data(as_text=True)
    assert_secure_headers(page)
    poll = client.get("/dashboard/live.json?after=0")
    assert poll.status_code == 503 and "database is busy" in poll.get_json()["error"]
