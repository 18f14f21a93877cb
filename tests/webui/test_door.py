"""Lockdown on/off and momentary unlock: a reason, a confirmation, the store, the controller."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient

from appliance.store import Store
from tests.webui.conftest import (
    AuthActions,
    FakeController,
    admin_on_real_box,
    assert_refused,
    wait_for_view,
)


@pytest.fixture
def operator(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    auth.login("operator")
    return client


def test_lockdown_asks_to_confirm_before_changing_anything(
    operator: FlaskClient, store: Store
) -> None:
    rev = store.current_rev()
    page = operator.post("/door/lockdown_on", data={"reason": "police request"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Put the door in lockdown?" in text
    assert 'name="confirm" value="yes"' in text and 'value="police request"' in text
    assert store.current_rev() == rev and store.door.mode()[0].value == "normal"


def test_confirmed_lockdown_is_stored_by_who_and_why_and_wakes_the_controller(
    operator: FlaskClient, store: Store, controller: FakeController
) -> None:
    response = operator.post(
        "/door/lockdown_on", data={"reason": "police request", "confirm": "yes"}
    )
    assert response.status_code == 302
    assert store.door.mode() == (store.door.mode()[0], "police request")
    assert store.door.mode()[0].value == "lockdown"
    event = store.events.query(limit=1, kinds=["mode"])[0]
    assert event.actor == "web:operator" and event.reason == "police request"
    assert "refresh" in controller.commands()
    page = operator.get("/door").get_data(as_text=True)
    assert "the controller has been told" in page
    operator.post("/door/lockdown_off", data={"reason": "all clear", "confirm": "yes"})
    assert store.door.mode()[0].value == "normal"


def test_lockdown_without_a_controller_is_stored_and_says_so(
    operator: FlaskClient, store: Store
) -> None:
    operator.post("/door/lockdown_on", data={"reason": "drill", "confirm": "yes"})
    assert store.door.mode()[0].value == "lockdown"
    assert "no controller is running" in operator.get("/door").get_data(as_text=True)


@pytest.mark.parametrize(
    ("reason", "needle"),
    [
        ("", "Reason is required"),
        ("   ", "Reason is required"),
        ("x" * 201, "limit is 200"),
        ("line\x00break", "control character"),
    ],
)
@pytest.mark.parametrize("action", ["lockdown_on", "lockdown_off", "unlock"])
def test_a_bad_reason_changes_nothing(
    operator: FlaskClient,
    store: Store,
    controller: FakeController,
    action: str,
    reason: str,
    needle: str,
) -> None:
    rev = store.current_rev()
    response = operator.post(f"/door/{action}", data={"reason": reason, "confirm": "yes"})
    assert_refused(response, needle)
    assert store.current_rev() == rev
    assert set(controller.commands()) <= {"status"}  # only read, for the page


def test_an_unknown_action_is_404(operator: FlaskClient, store: Store) -> None:
    rev = store.current_rev()
    response = operator.post("/door/hold_on", data={"reason": "x", "confirm": "yes"})
    assert response.status_code == 404 and store.current_rev() == rev


def test_unlock_goes_to_the_controller_with_who_and_why(
    operator: FlaskClient, controller: FakeController
) -> None:
    confirm = operator.post("/door/unlock", data={"reason": "delivery"})
    assert "Unlock the door once?" in confirm.get_data(as_text=True)
    assert set(controller.commands()) <= {"status"}  # only read, for the page's banner
    done = operator.post("/door/unlock", data={"reason": "delivery", "confirm": "yes"})
    assert done.status_code == 302
    unlock = [r for r in controller.requests if r["cmd"] == "unlock"]
    assert unlock == [{"cmd": "unlock", "actor": "web:operator", "reason": "delivery"}]


def test_unlock_without_a_controller_says_the_door_was_not_unlocked(
    operator: FlaskClient,
) -> None:
    response = operator.post("/door/unlock", data={"reason": "delivery", "confirm": "yes"})
    assert response.status_code == 503
    assert "the door was not unlocked" in response.get_data(as_text=True)


def test_unlock_refused_by_the_controller(
    operator: FlaskClient, controller: FakeController
) -> None:
    controller.refused = "'reason' must be a non-empty string"
    response = operator.post("/door/unlock", data={"reason": "x", "confirm": "yes"})
    assert response.status_code == 503 and "must be a non-empty" in response.get_data(as_text=True)


def test_unlock_and_lockdown_reach_a_real_controller(tmp_path: Path) -> None:
    with admin_on_real_box(tmp_path) as box:
        mark = box.events.mark()
        box.client.post("/door/unlock", data={"reason": "delivery", "confirm": "yes"})
        rec = box.events.wait(lambda r: r.kind == "unlock", start=mark)
        assert rec.actor == "web:admin" and rec.reason == "delivery"
        box.client.post("/door/lockdown_on", data={"reason": "police", "confirm": "yes"})
        assert box.store.door.mode()[0].value == "lockdown"
        assert wait_for_view(box.client, box.store)["mode"] == "lockdown"


def door_buttons(page: str) -> list[str]:
    """The door page's action buttons, as their markup."""
    return [
        b.split(">", 1)[0] + ">" + b.split(">", 1)[1].split("<", 1)[0]
        for b in page.split("<main>", 1)[1].split("<button")[1:]
    ]


@pytest.mark.parametrize(
    ("mode", "buttons"),
    [
        (
            "normal",
            [
                ' type="submit" class="danger">Put the door in lockdown…',
                ' type="submit">Unlock the door once…',
            ],
        ),
        ("lockdown", [' type="submit">Lift lockdown…', ' type="submit">Unlock the door once…']),
        (
            "held_unlocked",
            [
                ' type="submit" class="danger">Put the door in lockdown…',
                ' type="submit">End the hold (lock the door)…',
            ],
        ),
    ],
)
def test_the_door_page_offers_the_actions_of_its_mode(
    operator: FlaskClient, store: Store, mode: str, buttons: list[str]
) -> None:
    store.door.set_mode(mode, reason="set by the test", actor="test")
    page = operator.get("/door").get_data(as_text=True)
    assert door_buttons(page) == buttons
    if mode == "lockdown":
        assert 'id="lift"' in page and "Put the door in lockdown" not in page


def test_the_confirmation_of_a_lockdown_is_a_danger_button_and_of_a_lift_a_plain_one(
    operator: FlaskClient, store: Store
) -> None:
    page = operator.post("/door/lockdown_on", data={"reason": "drill"}).get_data(as_text=True)
    assert '<button type="submit" class="danger">Yes: put the door in lockdown</button>' in page
    store.door.set_mode("lockdown", reason="drill", actor="test")
    page = operator.post("/door/lockdown_off", data={"reason": "over"}).get_data(as_text=True)
    assert "Lift lockdown?" in page and '<button type="submit">Yes: lift lockdown</button>' in page


@pytest.mark.parametrize(
    ("mode", "action", "needle"),
    [
        ("normal", "lockdown_off", "the door is not in lockdown (it is normal)"),
        ("held_unlocked", "lockdown_off", "the door is not in lockdown (it is held unlocked)"),
        ("lockdown", "lockdown_on", "the door is already in lockdown"),
        ("normal", "hold_off", "the door is not held unlocked"),
        ("held_unlocked", "unlock", "the door is held unlocked already"),
    ],
)
@pytest.mark.parametrize("confirm", ["", "yes"])
def test_an_action_that_does_not_apply_in_the_mode_changes_nothing(
    operator: FlaskClient,
    store: Store,
    controller: FakeController,
    mode: str,
    action: str,
    needle: str,
    confirm: str,
) -> None:
    store.door.set_mode(mode, reason="before", actor="test")
    rev = store.current_rev()
    response = operator.post(f"/door/{action}", data={"reason": "stale page", "confirm": confirm})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and needle in text and "nothing was changed" in text
    assert store.current_rev() == rev and store.door.mode()[0].value == mode
    assert set(controller.commands()) <= {"status"}


def test_ending_a_hold_returns_the_door_to_normal_by_who_and_why(
    operator: FlaskClient, store: Store, controller: FakeController
) -> None:
    store.door.set_mode("held_unlocked", reason="open house", actor="test")
    done = operator.post("/door/hold_off", data={"reason": "event over", "confirm": "yes"})
    assert done.status_code == 302 and store.door.mode()[0].value == "normal"
    event = store.events.query(limit=1, kinds=["mode"])[0]
    assert event.actor == "web:operator" and event.reason == "event over"
    assert "refresh" in controller.commands()
    assert "Door mode is now normal" in operator.get("/door").get_data(as_text=True)


def test_a_lockdown_begun_after_the_page_was_drawn_is_not_undone(
    operator: FlaskClient,
    store: Store,
    controller: FakeController,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page saw a hold; the lockdown button was pressed since: 'End the hold' does nothing."""
    from webui import door, doorstate

    store.door.set_mode("lockdown", reason="button", actor="button")
    seen = doorstate.StoredMode("held_unlocked", "open house", None, None)
    monkeypatch.setattr(door, "stored_mode", lambda: seen)  # the mode when the page checked
    rev = store.current_rev()
    response = operator.post("/door/hold_off", data={"reason": "event over", "confirm": "yes"})
    text = response.get_data(as_text=True)
    assert response.status_code == 409 and "now lockdown: nothing was changed" in text
    assert store.current_rev() == rev and store.door.mode()[0].value == "lockdown"
    assert "refresh" not in controller.commands()
