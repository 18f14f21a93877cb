"""Fixtures for the admin page: an app on a temporary store, a client, signing in as each role."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from appliance.config import Config, load_config
from appliance.controller import Controller
from appliance.controller.control import ControlServer
from appliance.store import Store
from appliance.testing.box import EventWaiter, running_box, write_config
from webui import create_app

PASSWORD = "correct horse battery"
# A list page's paging and search, as every list page reads them (webui's args helpers).
BAD_LIST_QUERIES = [("page=0", "Page must be from 1"), ("q=" + "x" * 201, "limit is 200")]
ROLES = ("admin", "operator", "auditor")


class StepClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeController:
    """A stand-in controller on the real control socket path and wire format: canned status."""

    def __init__(
        self, data_dir: Path, status: dict[str, Any] | None = None, store: Store | None = None
    ) -> None:
        self.requests: list[dict[str, Any]] = []
        # With a store, the fake applies every change at once: its view_revision is the store's
        # rev (unless ``applies`` is set False: a controller that never catches up).
        self.store = store
        self.applies = True
        self.status: dict[str, Any] = status or {
            "locked": True,
            "open": False,
            "mode": "normal",
            "alarms": [],
            "degraded": False,
            "reader": {"frames": 7, "parity_errors": 1},
            "latency_us": {"decide": {"p50": 41.0, "p99": 90.0, "max": 120.0, "count": 7}},
            "view_revision": 1,
        }
        self.refused: str | None = None
        self._lock = threading.Lock()
        self._server = ControlServer(data_dir, self.handle, poll_interval=0.01)
        self.path = self._server.path

    def start(self) -> None:
        self._server.start()

    def close(self) -> None:
        self._server.close()

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(request)
        if self.refused:
            raise ValueError(self.refused)
        if request["cmd"] == "status":
            status = self.status
            if self.store is not None and self.applies:
                status = {**status, "view_revision": self.store.current_rev()}
            return {"ok": True, "status": status}
        return {"ok": True}

    def commands(self) -> list[str]:
        with self._lock:
            return [r["cmd"] for r in self.requests]


def make_app(config: Config, store: Store, clock: StepClock, **extra: Any) -> Flask:
    """The admin page with cheap password hashing and (unless asked) CSRF off."""
    settings: dict[str, Any] = {
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_KIB": 64,
        "CLOCK": clock,
    }
    settings.update(extra)
    return create_app(config, store=store, test_config=settings)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path))


@pytest.fixture(scope="session")
def initialised_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly initialised database, made once: migrating for every test would be slow."""
    path = tmp_path_factory.mktemp("template") / "doorward.db"
    with Store(path) as s:
        s.init("Front entrance")
    return path


@contextmanager
def copied_store(config: Config, initialised_db: Path, **store_kw: Any) -> Iterator[Store]:
    """The box's store, a copy of the initialised database (``store_kw`` go to ``Store``)."""
    config.data_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(initialised_db, config.db_path)
    with Store(config.db_path, **store_kw) as s:
        yield s


@pytest.fixture
def store(config: Config, initialised_db: Path) -> Iterator[Store]:
    with copied_store(config, initialised_db) as s:
        yield s


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def fresh_app(config: Config, store: Store, clock: StepClock) -> Flask:
    """An app on a box with no admin account yet."""
    return make_app(config, store, clock)


_HASHES: dict[Any, str] = {}


def add_user(app: Flask, username: str, role: str, *, first: bool = False) -> None:
    web = app.extensions["doorward"]
    if web.hasher not in _HASHES:
        _HASHES[web.hasher] = web.hasher.hash(PASSWORD)
    web.store.users.add(username, _HASHES[web.hasher], role, actor="test", first=first)


@pytest.fixture
def app(fresh_app: Flask) -> Flask:
    """An app with one account per role: admin, operator, auditor (password PASSWORD)."""
    add_user(fresh_app, "admin", "admin", first=True)
    add_user(fresh_app, "operator", "operator")
    add_user(fresh_app, "auditor", "auditor")
    return fresh_app


def client_from(app: Flask, address: str) -> FlaskClient:
    """A test client whose requests come from ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class AuthActions:
    """Sign in and out through the real forms."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str = "admin", password: str = PASSWORD, **extra: str) -> Any:
        return self._client.post(
            "/login", data={"username": username, "password": password, **extra}
        )

    def logout(self) -> Any:
        return self._client.post("/logout")


def signed_in(app: Flask, username: str) -> FlaskClient:
    """A new client on ``app``, signed in as ``username`` through the form."""
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 302
    return client


def assert_refused(response: TestResponse, needle: str) -> None:
    """The page refused the input (400) and says ``needle``."""
    assert response.status_code == 400
    assert needle in response.get_data(as_text=True)


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def controller(config: Config, store: Store) -> Iterator[FakeController]:
    fake = FakeController(config.data_dir, store=store)
    fake.start()
    try:
        yield fake
    finally:
        fake.close()


def csrf_token(html: str) -> str:
    """The CSRF token in a page's first form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


@pytest.fixture
def admin(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    """A client signed in as the admin."""
    auth.login("admin")
    return client


class RealBox(NamedTuple):
    """A running controller on the mock door, its audit waiter, the page's store and an admin."""

    controller: Controller
    events: EventWaiter
    store: Store
    client: FlaskClient


@contextmanager
def admin_on_real_box(tmp_path: Path, **box_kw: Any) -> Iterator[RealBox]:
    """``running_box`` (seeded) with the admin page on its store, an admin signed in."""
    with running_box(tmp_path, **box_kw) as (controller, events, config):
        store = Store(config.db_path)
        try:
            app = make_app(config, store, StepClock())
            add_user(app, "admin", "admin", first=True)
            client = app.test_client()
            assert AuthActions(client).login().status_code == 302
            yield RealBox(controller, events, store, client)
        finally:
            store.close()


def wait_for_view(client: FlaskClient, store: Store) -> dict[str, Any]:
    """The dashboard's door status once the controller's view has the store's current rev.

    The refresh woke the controller: this asks again, no sleep (the bound is for a wedged one).
    """
    rev = store.current_rev()
    for _ in range(1000):
        door: dict[str, Any] = client.get("/dashboard/live.json?after=0").get_json()["door"]
        if door["view_revision"] >= rev:
            break
    return door
