"""The onsite admin page (Flask): reaches the door only through the store and the control socket."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from appliance.box import files as boxfiles
from appliance.config import Config
from appliance.provision.status import read_status
from appliance.release import read_release
from appliance.store import Store, StoreError
from webui.ratelimit import RateLimiter
from webui.security import add_security_headers, make_hasher
from webui.state import EXTENSION, WebState

__all__ = ["create_app"]


def create_app(
    config: Config, *, store: Store | None = None, test_config: dict[str, Any] | None = None
) -> Flask:
    """Build the admin page for the box described by ``config`` (its store opened if not given)."""
    settings = dict(test_config or {})
    if store is None:
        if not config.db_path.exists():
            raise RuntimeError(f"no database at {config.db_path}: run 'doorward init' first")
        store = Store(config.db_path)
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=boxfiles.session_secret(config.data_dir),
        SESSION_COOKIE_NAME="doorward_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        MAX_CONTENT_LENGTH=1024 * 1024,  # the CSV import allows more for itself
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session (8 h at most)
        TLS=False,
    )
    app.config.update(settings)
    if app.config["TLS"]:
        app.config["SESSION_COOKIE_SECURE"] = True
    clock = settings.get("CLOCK")
    hasher = make_hasher(settings)
    web = WebState(
        config=config,
        store=store,
        hasher=hasher,
        limiter=RateLimiter(clock=clock) if clock else RateLimiter(),
        dummy_hash=hasher.hash("no such account: a hash to check against"),
    )
    app.extensions[EXTENSION] = web
    CSRFProtect(app)
    app.after_request(add_security_headers)
    _register_errors(app)

    from webui import (
        accountability,
        api,
        api_json,
        api_page,
        api_token,
        auth,
        dashboard,
        door,
        events,
        fleet,
        fobs,
        fobs_csv,
        groups,
        holders,
        reader,
        users,
    )
    from webui import settings as door_settings

    blueprints = (
        auth,
        dashboard,
        door,
        fobs,
        fobs_csv,
        holders,
        groups,
        events,
        accountability,
        fleet,
    )
    for module in (*blueprints, door_settings, reader, users, api, api_token, api_json, api_page):
        app.register_blueprint(module.bp)
    mock = config.gpio.backend == "mock"
    app.jinja_env.globals["nav_for"] = lambda role: _nav_for(role, mock=mock)
    # Both change only at boot, before this page starts: read once.
    app.jinja_env.globals["release"] = read_release()
    app.jinja_env.globals["provisioning"] = read_status(config.data_dir)
    return app


# (endpoint, label, roles that see it) in the order the navigation shows them.
NAV = (
    ("dashboard.index", "Dashboard", ("admin", "operator", "auditor")),
    ("fobs.index", "Fobs", ("admin", "operator", "auditor")),
    ("holders.index", "Holders", ("admin", "operator", "auditor")),
    ("groups.index", "Groups", ("admin", "operator", "auditor")),
    ("events.index", "Events", ("admin", "operator", "auditor")),
    ("accountability.index", "Accountability", ("admin", "auditor")),
    ("door.index", "Lockdown & unlock", ("admin", "operator")),
    ("fleet.index", "Fleet", ("admin", "operator", "auditor")),
    ("settings.index", "Door settings", ("admin", "operator", "auditor")),
    ("reader.index", "Simulated reader", ("admin", "operator")),
    ("users.index", "Users", ("admin",)),
    ("api_token.index", "API token", ("admin", "operator", "auditor")),
)
MOCK_ONLY = {"reader.index"}  # the simulated reader exists only on the mock back-end


def _nav_for(role: str, *, mock: bool) -> list[tuple[str, str]]:
    return [
        (endpoint, label)
        for endpoint, label, roles in NAV
        if role in roles and (mock or endpoint not in MOCK_ONLY)
    ]


def _wants_json() -> bool:
    """A poll (``*.json``) or anything under /api/ (a program) gets its errors as JSON."""
    from webui.api_json import is_api_path

    return request.path.endswith(".json") or is_api_path(request.path)


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError) -> tuple[str, int]:
        message = "the form expired or did not come from this page: reload it and try again"
        return render_template("error.html", code=400, message=message), 400

    @app.errorhandler(StoreError)
    def store_failed(exc: StoreError) -> Any:
        # e.g. the database is busy or unreadable: say so plainly; nothing was half-done.
        if _wants_json():
            return {"error": str(exc)}, 503
        return render_template("error.html", code=503, message=str(exc)), 503

    from webui.auth import RoleRequired

    @app.errorhandler(RoleRequired)
    def role_required(exc: RoleRequired) -> Any:
        # Say which role the page needs and which one this account has, in the site's layout.
        if _wants_json():
            return {"error": exc.description, "needs": list(exc.needs), "role": exc.role}, 403
        return render_template(
            "error.html",
            code=403,
            title=f"Not for the {exc.role} role",
            message=exc.description,
            needs=exc.needs,
            role=exc.role,
        ), 403

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if exc.code is None or exc.code < 400:
            return exc
        if _wants_json():
            allow = getattr(exc, "valid_methods", None)  # a 405 says what the path takes
            return (
                {"error": exc.description},
                exc.code,
                {"Allow": ", ".join(allow)} if allow else {},
            )
        return render_template("error.html", code=exc.code, message=exc.description), exc.code
