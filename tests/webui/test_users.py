"""Users and roles: an admin adds accounts and disables them; every change is on record."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.store import Store, StoreError
from tests.webui.conftest import PASSWORD, AuthActions

NEW = {"username": "office", "password": PASSWORD, "confirm": PASSWORD, "role": "operator"}


def test_users_page_lists_accounts(admin: FlaskClient) -> None:
    page = admin.get("/users").get_data(as_text=True)
    for name in ("admin", "operator", "auditor"):
        assert f"<td>{name}</td>" in page


def test_add_a_user_who_can_then_sign_in(app: Flask, admin: FlaskClient, store: Store) -> None:
    response = admin.post("/users/add", data=NEW)
    assert response.status_code == 302
    user = store.get_admin_user(username="office")
    assert user is not None and user.role == "operator" and not user.disabled
    assert PASSWORD not in user.password_hash
    event = store.query_events(limit=1)[0]
    assert event.actor == "web:admin" and event.detail and event.detail["action"] == "add_user"
    other = app.test_client()
    assert AuthActions(other).login("office").status_code == 302
    assert other.get("/door").status_code == 200 and other.get("/users").status_code == 403


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"username": "operator"}, "already taken"),
        ({"username": ""}, "Username is required"),
        ({"username": "<b>x</b>"}, "may hold only letters"),
        ({"password": "short", "confirm": "short"}, "at least 12 characters"),
        ({"confirm": "another password"}, "the two passwords differ"),
        ({"role": "root"}, "Role must be one of"),
    ],
)
def test_bad_new_user_changes_nothing(
    admin: FlaskClient, store: Store, changes: dict[str, str], needle: str
) -> None:
    before = store.list_admin_users()
    response = admin.post("/users/add", data=NEW | changes)
    assert response.status_code == 400 and needle in response.get_data(as_text=True)
    assert store.list_admin_users() == before


def test_disable_and_enable(app: Flask, admin: FlaskClient, store: Store) -> None:
    operator = app.test_client()
    AuthActions(operator).login("operator")
    assert admin.post("/users/operator/disable").status_code == 302
    user = store.get_admin_user(username="operator")
    assert user is not None and user.disabled
    assert operator.get("/").status_code == 302  # signed out at the next request
    event = store.query_events(limit=1)[0]
    assert event.actor == "web:admin" and event.detail and event.detail["action"] == "disable_user"
    assert admin.post("/users/operator/enable").status_code == 302
    assert AuthActions(operator).login("operator").status_code == 302


def test_an_admin_cannot_disable_themselves_or_a_stranger(admin: FlaskClient, store: Store) -> None:
    before = store.list_admin_users()
    mine = admin.post("/users/admin/disable")
    assert mine.status_code == 400 and "your own account" in mine.get_data(as_text=True)
    nobody = admin.post("/users/nobody/disable")
    assert nobody.status_code == 400 and "no account named" in nobody.get_data(as_text=True)
    assert admin.post("/users/operator/delete").status_code == 404
    assert store.list_admin_users() == before


def test_the_store_keeps_one_enabled_admin(store: Store) -> None:
    store.add_admin_user("only", "$argon2id$x", "admin", actor="t", first=True)
    with pytest.raises(StoreError, match="last enabled admin"):
        store.set_admin_user_disabled("only", True, actor="t")
    store.add_admin_user("second", "$argon2id$x", "admin", actor="t")
    store.set_admin_user_disabled("only", True, actor="t")
    with pytest.raises(StoreError, match="last enabled admin"):
        store.set_admin_user_disabled("second", True, actor="t")
