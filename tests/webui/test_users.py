"""Users and roles: an admin adds accounts and disables them; every change is on record."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.store import Store, StoreError
from tests.webui.conftest import PASSWORD, AuthActions, add_user, assert_refused

NEW = {"username": "office", "password": PASSWORD, "confirm": PASSWORD, "role": "operator"}


def test_users_page_lists_accounts(admin: FlaskClient) -> None:
    page = admin.get("/users").get_data(as_text=True)
    for name in ("admin", "operator", "auditor"):
        assert f"<td>{name}</td>" in page


def test_add_a_user_who_can_then_sign_in(app: Flask, admin: FlaskClient, store: Store) -> None:
    response = admin.post("/users/add", data=NEW)
    assert response.status_code == 302
    user = store.users.get(username="office")
    assert user is not None and user.role == "operator" and not user.disabled
    assert PASSWORD not in user.password_hash
    event = store.events.query(limit=1)[0]
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
    before = store.users.list()
    response = admin.post("/users/add", data=NEW | changes)
    assert_refused(response, needle)
    assert store.users.list() == before


def test_disable_and_enable(app: Flask, admin: FlaskClient, store: Store) -> None:
    operator = app.test_client()
    AuthActions(operator).login("operator")
    assert admin.post("/users/operator/disable").status_code == 302
    user = store.users.get(username="operator")
    assert user is not None and user.disabled
    assert operator.get("/").status_code == 302  # signed out at the next request
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:admin" and event.detail and event.detail["action"] == "disable_user"
    assert admin.post("/users/operator/enable").status_code == 302
    assert AuthActions(operator).login("operator").status_code == 302


def test_an_admin_cannot_disable_themselves_or_a_stranger(admin: FlaskClient, store: Store) -> None:
    before = store.users.list()
    mine = admin.post("/users/admin/disable")
    assert_refused(mine, "your own account")
    nobody = admin.post("/users/nobody/disable")
    assert_refused(nobody, "no account named")
    assert admin.post("/users/operator/delete").status_code == 404
    assert store.users.list() == before


def test_the_store_keeps_one_enabled_admin(store: Store) -> None:
    store.users.add("only", "$argon2id$x", "admin", actor="t", first=True)
    with pytest.raises(StoreError, match="last enabled admin"):
        store.users.set_disabled("only", True, actor="t")
    store.users.add("second", "$argon2id$x", "admin", actor="t")
    store.users.set_disabled("only", True, actor="t")
    with pytest.raises(StoreError, match="last enabled admin"):
        store.users.set_disabled("second", True, actor="t")


def test_a_new_users_role_must_be_chosen(admin: FlaskClient, store: Store) -> None:
    before = store.users.list()
    response = admin.post("/users/add", data={k: v for k, v in NEW.items() if k != "role"})
    assert_refused(response, "Role is required: choose admin, operator or auditor")
    assert store.users.list() == before
    form = admin.get("/users").get_data(as_text=True).split("Add a user")[1]
    assert '<option value="" selected disabled>Choose a role' in form
    assert 'value="admin" selected' not in form


def test_change_a_role(app: Flask, admin: FlaskClient, store: Store) -> None:
    response = admin.post("/users/operator/role", data={"role": "auditor"})
    assert response.status_code == 302
    user = store.users.get(username="operator")
    assert user is not None and user.role == "auditor"
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:admin" and event.detail
    assert dict(event.detail) == {
        "action": "set_role",
        "username": "operator",
        "role": "auditor",
        "was": "operator",
        "sessions_ended": 0,
    }
    again = admin.post("/users/operator/role", data={"role": "auditor"}, follow_redirects=True)
    assert "already had the auditor role" in again.get_data(as_text=True)
    assert store.events.query(limit=1)[0].id == event.id  # nothing changed, nothing recorded


@pytest.mark.parametrize(
    ("path", "data", "needle"),
    [
        ("/users/operator/role", {"role": "root"}, "Role must be one of admin, operator, auditor"),
        ("/users/operator/role", {}, "Role must be one of"),
        ("/users/nobody/role", {"role": "admin"}, "no account named"),
        ("/users/admin/role", {"role": "auditor"}, "last enabled admin"),
        ("/users/admin/password", {}, "your own account"),
        ("/users/nobody/password", {}, "no account named"),
        ("/users/admin/disable", {}, "last enabled admin"),
    ],
)
def test_bad_user_changes_change_nothing(
    admin: FlaskClient, store: Store, path: str, data: dict[str, str], needle: str
) -> None:
    before = (store.users.list(), store.current_rev())
    response = admin.post(path, data=data)
    assert_refused(response, needle)
    assert (store.users.list(), store.current_rev()) == before


def test_an_admin_with_a_colleague_is_told_to_ask_them(app: Flask, store: Store) -> None:
    add_user(app, "deputy", "admin")
    client = app.test_client()
    AuthActions(client).login("admin")
    response = client.post("/users/admin/role", data={"role": "auditor"})
    assert_refused(response, "your own account: ask another admin")
    deputy = app.test_client()
    AuthActions(deputy).login("deputy")
    assert deputy.post("/users/admin/role", data={"role": "auditor"}).status_code == 302
    with pytest.raises(StoreError, match="last enabled admin"):
        store.users.set_role("deputy", "operator", actor="t")


def test_reset_password_then_the_user_must_choose_a_new_one(
    app: Flask, admin: FlaskClient, store: Store
) -> None:
    page = admin.post("/users/operator/password")
    assert page.status_code == 200
    temporary = re.search(r'<code id="temporary">([^<]+)</code>', page.get_data(as_text=True))
    assert temporary is not None and len(temporary.group(1)) >= 12
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:admin" and event.detail
    assert event.detail["action"] == "reset_password" and event.detail["username"] == "operator"
    assert temporary.group(1) not in str(store.events.query(limit=5))
    user = store.users.get(username="operator")
    assert user is not None and user.must_change_password
    operator = app.test_client()
    assert AuthActions(operator).login("operator").status_code == 401  # the old one is gone
    signed_in = AuthActions(operator).login("operator", temporary.group(1))
    assert signed_in.headers["Location"] == "/account/password"
    assert operator.get("/door").headers["Location"] == "/account/password"
    assert operator.get("/dashboard/live.json").status_code == 403
    new = "my own new passphrase"
    same = {"current": temporary.group(1), "password": temporary.group(1)}
    assert (
        operator.post("/account/password", data=same | {"confirm": same["password"]}).status_code
        == 400
    )
    wrong = {"current": "not the temporary one", "password": new, "confirm": new}
    assert "not your current password" in operator.post("/account/password", data=wrong).get_data(
        as_text=True
    )
    done = operator.post(
        "/account/password", data={"current": temporary.group(1), "password": new, "confirm": new}
    )
    assert done.status_code == 302 and operator.get("/door").status_code == 200
    user = store.users.get(username="operator")
    assert user is not None and not user.must_change_password
    event = store.events.query(limit=1)[0]
    assert event.actor == "web:operator" and event.detail
    assert event.detail["action"] == "change_password"
    assert AuthActions(app.test_client()).login("operator", new).status_code == 302


def test_the_page_shows_status_last_sign_in_and_re_enable(
    app: Flask, admin: FlaskClient, store: Store
) -> None:
    AuthActions(app.test_client()).login("operator")
    store.users.set_disabled("auditor", True, actor="test")
    page = admin.get("/users").get_data(as_text=True)
    rows = {
        name: page.split(f'<tr id="user-{name}">')[1].split("</tr>")[0]
        for name in ("admin", "operator", "auditor")
    }
    operator = store.users.get(username="operator")
    assert operator is not None and operator.last_login_at is not None
    shown = operator.last_login_at.astimezone().strftime("%Y-%m-%d %H:%M")
    assert shown in rows["operator"] and "active" in rows["operator"]
    assert "never" in rows["auditor"] and "disabled" in rows["auditor"]
    assert ">Re-enable</button>" in rows["auditor"] and ">Disable</button>" not in rows["auditor"]
    assert ">Disable</button>" in rows["operator"] and "Reset password" in rows["operator"]
    assert "Change role" not in rows["admin"] and "Change your password" in rows["admin"]


def test_a_forbidden_page_names_the_roles(app: Flask) -> None:
    operator = app.test_client()
    AuthActions(operator).login("operator")
    response = operator.get("/users")
    text = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "<h1>Not for the operator role</h1>" in text
    assert "This page is for the admin role only; you are signed in with the operator role" in text
    assert "<nav>" in text and "permission to access the requested resource" not in text
