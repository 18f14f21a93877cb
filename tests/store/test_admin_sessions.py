"""Admin page accounts in the store: sessions by digest, and every change that ends them."""

from __future__ import annotations

import hashlib

import pytest

from appliance.store import Store, StoreError

from .conftest import T0

HASH = "$argon2id$stand-in"
LIFE = 8 * 3600.0


def _digest(n: int) -> str:
    return hashlib.sha256(f"session {n}".encode()).hexdigest()


@pytest.fixture
def users(store: Store) -> Store:
    store.users.add("boss", HASH, "admin", actor="t", first=True)
    store.users.add("clerk", HASH, "operator", actor="t")
    return store


def _open(store: Store, name: str, n: int, now: float = T0) -> None:
    user = store.users.get(username=name)
    assert user is not None
    store.users.open_session(user.id, _digest(n), now=now, expires_at=now + LIFE, client="10.0.0.1")


def test_a_session_is_found_by_its_digest_until_it_expires(users: Store) -> None:
    _open(users, "clerk", 1)
    found = users.users.session_user(_digest(1), now=T0 + LIFE - 1)
    assert found is not None and found.username == "clerk"
    assert found.last_login_at is not None and found.last_login_at.timestamp() == T0
    assert users.users.session_user(_digest(1), now=T0 + LIFE) is None
    assert users.users.session_user(_digest(2), now=T0) is None
    assert users.users.session_user("not a digest", now=T0) is None


def test_a_session_id_itself_is_never_stored(users: Store) -> None:
    clerk = users.users.get(username="clerk")
    assert clerk is not None
    with pytest.raises(StoreError, match="SHA-256"):
        users.users.open_session(
            clerk.id, "the-raw-session-id", now=T0, expires_at=T0 + LIFE, client="x"
        )
    with pytest.raises(StoreError, match="expire in the future"):
        users.users.open_session(clerk.id, _digest(1), now=T0, expires_at=T0, client="x")


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s.users.sign_out(s.users.get(username="clerk").id, client="x"),
        lambda s: s.users.set_role("clerk", "auditor", actor="t"),
        lambda s: s.users.reset_password("clerk", "$argon2id$new", actor="t"),
        lambda s: s.users.change_password(
            s.users.get(username="clerk").id, "$argon2id$new", actor="t"
        ),
        lambda s: s.users.set_disabled("clerk", True, actor="t"),
    ],
    ids=["sign-out", "role", "reset", "change", "disable"],
)
def test_each_change_ends_every_session_of_that_account_only(users: Store, change: object) -> None:
    _open(users, "clerk", 1)
    _open(users, "clerk", 2)
    _open(users, "boss", 3)
    change(users)  # type: ignore[operator]
    assert users.users.session_user(_digest(1), now=T0) is None
    assert users.users.session_user(_digest(2), now=T0) is None
    assert users.users.session_user(_digest(3), now=T0) is not None


def test_a_disabled_account_cannot_open_a_session(users: Store) -> None:
    users.users.set_disabled("clerk", True, actor="t")
    with pytest.raises(StoreError, match="no enabled account"):
        _open(users, "clerk", 1)


def test_the_last_admin_keeps_the_role(users: Store) -> None:
    with pytest.raises(StoreError, match="last enabled admin and cannot be made operator"):
        users.users.set_role("boss", "operator", actor="t")
    with pytest.raises(StoreError, match="unknown role"):
        users.users.set_role("clerk", "root", actor="t")
    assert users.users.set_role("clerk", "operator", actor="t") is False


def test_a_reset_revokes_the_accounts_api_token_but_a_change_of_ones_own_does_not(
    users: Store,
) -> None:
    clerk = users.users.get(username="clerk")
    assert clerk is not None
    users.users.set_token_digest("clerk", _digest(9), actor="web:clerk")
    users.users.change_password(clerk.id, HASH, actor="web:clerk")
    kept = users.users.token_owner(clerk.id)
    assert kept is not None and kept[1] == _digest(9)
    users.users.reset_password("clerk", HASH, actor="web:boss")
    owner = users.users.token_owner(clerk.id)
    assert owner is not None and owner[1] is None
    event = users.events.query(limit=1)[0]
    assert event.detail is not None and event.detail["api_token_revoked"] is True
