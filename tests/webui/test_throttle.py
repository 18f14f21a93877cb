"""Sign-in throttling: a guesser locks out only themselves, never the account for its owner."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from appliance.store import Store
from tests.webui.conftest import PASSWORD, AuthActions, StepClock, client_from
from webui.ratelimit import SIGN_IN_RULES
from webui.sessions import DEVICE_COOKIE

WRONG = "wrong password here"
PAIR = SIGN_IN_RULES["pair"]
CLIENT = SIGN_IN_RULES["client"]
ACCOUNT = SIGN_IN_RULES["account"]


def _login(client: FlaskClient, username: str = "admin", password: str = PASSWORD) -> Any:
    return AuthActions(client).login(username, password)


def _lockouts(store: Store) -> list[dict[str, Any]]:
    return [
        dict(e.detail)
        for e in store.events.query(limit=1000)
        if e.detail and e.detail.get("action") == "login_locked"
    ]


def test_the_guesser_is_throttled_and_the_real_user_signs_in(
    app: Flask, store: Store, clock: StepClock
) -> None:
    attacker = client_from(app, "10.0.0.66")
    for _ in range(PAIR.limit):
        assert _login(attacker, password=WRONG).status_code == 401
    refused = _login(attacker)  # even the right password: this address is throttled
    assert refused.status_code == 429 and "too many failed attempts" in refused.get_data(
        as_text=True
    )
    assert int(refused.headers["Retry-After"]) > 0
    owner = client_from(app, "10.0.0.5")  # a browser that never signed in before
    assert _login(owner).status_code == 302 and owner.get("/").status_code == 200
    assert _lockouts(store) == [
        {
            "action": "login_locked",
            "target": "admin",
            "client": "10.0.0.66",
            "scope": "pair",
            "seconds": PAIR.window,
        }
    ]
    clock.advance(PAIR.window - 1)
    assert _login(attacker).status_code == 429
    clock.advance(2)  # the oldest failure has expired
    assert _login(attacker).status_code == 302


def test_an_address_spraying_many_accounts_is_refused(
    app: Flask, store: Store, clock: StepClock
) -> None:
    sprayer = client_from(app, "10.9.9.9")
    for n in range(CLIENT.limit):
        assert _login(sprayer, f"guess{n}", WRONG).status_code == 401
    refused = _login(sprayer, "auditor")
    assert refused.status_code == 429
    assert "too many failed attempts from this address: try again" in refused.get_data(as_text=True)
    assert [e["scope"] for e in _lockouts(store)] == ["client"]
    assert _login(client_from(app, "10.9.9.8"), "auditor").status_code == 302
    clock.advance(CLIENT.window + 1)
    assert _login(sprayer, "auditor").status_code == 302


def test_one_persons_typos_behind_a_nat_lock_out_only_themselves(app: Flask) -> None:
    nat = "192.0.2.10"  # the school's one public address: everyone looks alike
    typist = client_from(app, nat)
    for _ in range(PAIR.limit + 3):
        _login(typist, "operator", WRONG)
    assert _login(typist, "operator").status_code == 429  # their own account, from here
    for name in ("admin", "auditor"):
        colleague = client_from(app, nat)
        assert _login(colleague, name).status_code == 302, name


def test_a_trusted_browser_signs_in_behind_a_nat_an_attacker_has_flooded(app: Flask) -> None:
    nat = "192.0.2.10"
    owner = client_from(app, nat)
    assert _login(owner, "operator").status_code == 302  # sets the device cookie
    assert owner.get_cookie(DEVICE_COOKIE) is not None
    AuthActions(owner).logout()
    attacker = client_from(app, nat)
    for n in range(CLIENT.limit):
        _login(attacker, "operator" if n < PAIR.limit else f"x{n}", WRONG)
    assert _login(client_from(app, nat), "operator").status_code == 429
    assert _login(owner, "operator").status_code == 302  # counted by its own cookie only


def test_the_global_limit_stops_distributed_guessing_but_not_trusted_browsers(
    app: Flask, store: Store, clock: StepClock
) -> None:
    owner = client_from(app, "10.1.0.1")
    assert _login(owner).status_code == 302
    AuthActions(owner).logout()
    for n in range(ACCOUNT.limit):  # one guess from each of many addresses
        assert _login(client_from(app, f"10.2.0.{n}"), password=WRONG).status_code == 401
    stranger = client_from(app, "10.3.0.1")
    refused = _login(stranger)
    assert refused.status_code == 429
    assert "a browser you have signed in from before" in refused.get_data(as_text=True)
    assert _login(owner).status_code == 302  # its device cookie: not held up
    assert [e["scope"] for e in _lockouts(store)] == ["account"]
    assert _lockouts(store)[0]["target"] == "admin"
    assert _login(client_from(app, "10.3.0.2"), "operator").status_code == 302
    clock.advance(ACCOUNT.window + 1)
    assert _login(stranger).status_code == 302


def test_a_trusted_browser_that_guesses_is_throttled_by_its_cookie(
    app: Flask, store: Store
) -> None:
    browser = client_from(app, "10.4.0.1")
    assert _login(browser).status_code == 302
    AuthActions(browser).logout()
    for _ in range(SIGN_IN_RULES["device"].limit):
        assert _login(browser, password=WRONG).status_code == 401
    assert _login(browser).status_code == 429
    assert [e["scope"] for e in _lockouts(store)] == ["device"]
    assert _login(client_from(app, "10.4.0.2")).status_code == 302  # others unaffected


def test_a_forged_device_cookie_is_no_pass(app: Flask) -> None:
    attacker = client_from(app, "10.5.0.1")
    attacker.set_cookie(DEVICE_COOKIE, "W1siYWRtaW4iLCJ4Il1d.forged.sig")
    for _ in range(PAIR.limit):
        _login(attacker, password=WRONG)
    assert _login(attacker).status_code == 429


def test_the_device_cookie_is_httponly_and_strict(app: Flask) -> None:
    cookies = _login(client_from(app, "10.6.0.1")).headers.getlist("Set-Cookie")
    device = next(c for c in cookies if c.startswith(f"{DEVICE_COOKIE}="))
    assert "HttpOnly" in device and "SameSite=Strict" in device and "Max-Age=" in device
