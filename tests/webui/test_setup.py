"""First boot: no default password; the one-time setup code creates the first admin, once."""

from __future__ import annotations

import pytest
from flask import Flask

from appliance.box import files as boxfiles
from appliance.config import Config
from appliance.store import Store
from tests.webui.conftest import PASSWORD, StepClock, add_user, assert_refused


def setup_form(code: str, **extra: str) -> dict[str, str]:
    return {
        "code": code,
        "username": "principal",
        "password": PASSWORD,
        "confirm": PASSWORD,
    } | extra


@pytest.fixture
def code(config: Config, store: Store) -> str:
    found = boxfiles.ensure_setup_code(config.data_dir, store)
    assert found is not None
    return found


def test_every_page_leads_to_setup_until_an_admin_exists(fresh_app: Flask) -> None:
    client = fresh_app.test_client()
    for path in ("/", "/login", "/fobs", "/users"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/setup"
    assert client.get("/setup").status_code == 200


def test_the_code_creates_the_first_admin_and_then_stops_working(
    fresh_app: Flask, store: Store, config: Config, code: str
) -> None:
    client = fresh_app.test_client()
    response = client.post("/setup", data=setup_form(code))
    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = store.users.get(username="principal")
    assert user is not None and user.role == "admin"
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert not (config.data_dir / boxfiles.SETUP_CODE_FILE).exists()
    assert client.get("/").status_code == 200  # signed in as the new admin
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:principal" and event.detail and event.detail["action"] == "add_user"
    # Reuse, by anyone, is refused and changes nothing.
    other = fresh_app.test_client()
    again = other.post("/setup", data=setup_form(code, username="mallory"))
    assert again.status_code == 403
    assert store.users.get(username="mallory") is None
    assert store.users.count() == 1


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"code": "ABCD-EFGH-JKMN-PQRS"}, "not this box&#39;s setup code"),
        ({"code": ""}, "Setup code is required"),
        ({"password": "short", "confirm": "short"}, "at least 12 characters"),
        ({"confirm": "something else entirely"}, "the two passwords differ"),
        ({"username": "bad name!"}, "may hold only letters"),
        ({"username": ""}, "Username is required"),
    ],
)
def test_bad_setup_input_creates_nothing(
    fresh_app: Flask, store: Store, code: str, changes: dict[str, str], needle: str
) -> None:
    response = fresh_app.test_client().post("/setup", data=setup_form(code) | changes)
    assert_refused(response, needle)
    assert store.users.count() == 0


def test_setup_guesses_are_rate_limited(
    fresh_app: Flask, store: Store, code: str, clock: StepClock
) -> None:
    client = fresh_app.test_client()
    for _ in range(5):
        assert client.post("/setup", data=setup_form("AAAA-AAAA-AAAA-AAAA")).status_code == 400
    locked = client.post("/setup", data=setup_form(code))
    assert locked.status_code == 429 and store.users.count() == 0
    clock.advance(301)
    assert client.post("/setup", data=setup_form(code)).status_code == 302


def test_an_admin_made_elsewhere_ends_setup(fresh_app: Flask, store: Store, code: str) -> None:
    add_user(fresh_app, "admin", "admin", first=True)
    response = fresh_app.test_client().post("/setup", data=setup_form(code))
    assert response.status_code == 403
    assert store.users.get(username="principal") is None


def test_store_refuses_a_second_first_admin(store: Store) -> None:
    from appliance.store import StoreError

    store.users.add("one", "$argon2id$x", "admin", actor="t", first=True)
    with pytest.raises(StoreError, match="setup code no longer works"):
        store.users.add("two", "$argon2id$x", "admin", actor="t", first=True)
    with pytest.raises(StoreError, match="encoded hash"):
        store.users.add("three", "plain password", "admin", actor="t")
    with pytest.raises(StoreError, match="unknown role"):
        store.users.add("four", "$argon2id$x", "root", actor="t")
