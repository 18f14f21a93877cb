"""After a change the admin page says the door has it only once the controller's view does.

A fake controller that applies every change at once (its view_revision is the store's rev), one
that never catches up (waited on for the page's bound on a fake clock), and none at all.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config
from appliance.control import PAGE_APPLY_TIMEOUT, POLL_INTERVAL, Control
from appliance.store import Store
from tests.webui.conftest import AuthActions, FakeController, admin_on_real_box
from tests.webui.test_fob_edit import form_of
from webui.state import Applied

NOT_CONFIRMED = f"stored, but the controller has not confirmed it within {PAGE_APPLY_TIMEOUT:g} s"
FOB = "/fobs/H10301:12:3456"


class SleepClock:
    """A fake clock for the page's wait: sleeping moves it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


@pytest.fixture
def operator(client: FlaskClient, auth: AuthActions) -> FlaskClient:
    auth.login("operator")
    return client


@pytest.fixture
def fob(store: Store) -> Store:
    store.cards.add("H10301", 12, 3456, "Ann Lee", serial="S-1", actor="test")
    return store


@pytest.fixture
def lagging(app: Flask, config: Config, controller: FakeController) -> SleepClock:
    """A controller that answers but never has the change; the page waits on a fake clock."""
    controller.applies = False
    clock = SleepClock()
    web = app.extensions["doorward"]
    web.control = Control(
        config.data_dir, timeout=web.control.timeout, clock=clock, sleep=clock.sleep
    )
    return clock


def flashed(client: FlaskClient, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def test_a_fob_status_change_the_door_has(
    admin: FlaskClient, fob: Store, controller: FakeController
) -> None:
    reply = admin.post(f"{FOB}/status", data={"status": "lost", "reason": "dropped"})
    assert reply.status_code == 302
    assert controller.commands() == ["refresh", "status"]
    page = flashed(admin, reply.headers["Location"])
    assert "H10301:12:3456 (Ann Lee) is now lost: the door refuses it now." in page
    assert NOT_CONFIRMED not in page


def test_a_fob_status_change_the_door_has_not_confirmed(
    admin: FlaskClient, fob: Store, controller: FakeController, lagging: SleepClock
) -> None:
    reply = admin.post(f"{FOB}/status", data={"status": "revoked", "reason": "left"})
    assert reply.status_code == 302
    assert fob.cards.get(serial="S-1").status == "revoked"  # type: ignore[union-attr]
    asked = controller.commands()
    assert asked[0] == "refresh" and asked.count("status") == lagging.sleeps + 1
    page = flashed(admin, reply.headers["Location"])
    assert f"(Ann Lee) is now revoked: {NOT_CONFIRMED}: see the dashboard." in page
    assert "the door refuses it now" not in page
    assert lagging.now == pytest.approx(PAGE_APPLY_TIMEOUT, abs=POLL_INTERVAL)


def test_a_fob_status_change_without_a_controller(admin: FlaskClient, fob: Store) -> None:
    reply = admin.post(f"{FOB}/status", data={"status": "stolen", "reason": "car"})
    page = flashed(admin, reply.headers["Location"])
    assert "is now stolen: no controller is running: applies at its start." in page


def test_a_fob_edit_says_when_the_door_has_not_confirmed(
    admin: FlaskClient, fob: Store, controller: FakeController, lagging: SleepClock
) -> None:
    data = form_of(admin.get(f"{FOB}/edit").get_data(as_text=True))
    reply = admin.post(f"{FOB}/edit", data=data | {"group": "responders"})
    assert reply.status_code == 302
    page = flashed(admin, reply.headers["Location"])
    assert f"Fob S-1 saved ({NOT_CONFIRMED}: see the dashboard)." in page
    controller.applies = True
    data = form_of(admin.get(f"{FOB}/edit").get_data(as_text=True))
    reply = admin.post(f"{FOB}/edit", data=data | {"group": "staff"})
    assert "Fob S-1 saved." in flashed(admin, reply.headers["Location"])


def test_a_setting_the_door_has_and_one_it_has_not_confirmed(
    admin: FlaskClient, store: Store, controller: FakeController, lagging: SleepClock
) -> None:
    admin.post("/settings", data={"key": "unlock_seconds", "value": "2.5"})
    page = flashed(admin, "/settings")
    assert f"Unlock time (seconds) is now 2.5: {NOT_CONFIRMED}: see the dashboard." in page
    assert "the door uses it now" not in page
    controller.applies = True
    admin.post("/settings", data={"key": "unlock_seconds", "value": "3"})
    assert "Unlock time (seconds) is now 3: the door uses it now." in flashed(admin, "/settings")


def test_a_lockdown_the_door_has_and_one_it_has_not_confirmed(
    operator: FlaskClient, store: Store, controller: FakeController, app: Flask, config: Config
) -> None:
    operator.post("/door/lockdown_on", data={"reason": "police", "confirm": "yes"})
    page = flashed(operator, "/door")
    assert "Door mode is now lockdown; the controller has been told and has applied it." in page
    controller.applies = False
    clock = SleepClock()
    app.extensions["doorward"].control = Control(config.data_dir, clock=clock, sleep=clock.sleep)
    operator.post("/door/lockdown_off", data={"reason": "all clear", "confirm": "yes"})
    page = flashed(operator, "/door")
    assert f"Door mode normal: {NOT_CONFIRMED}: see the dashboard." in page
    assert "has applied it" not in page
    assert store.door.mode()[0].value == "normal"


def test_confirm_reads_the_stores_rev_after_the_write(
    app: Flask, store: Store, controller: FakeController, lagging: SleepClock
) -> None:
    web = app.extensions["doorward"]
    controller.status["view_revision"] = store.current_rev()
    assert web.confirm() is Applied.AT_THE_DOOR  # the view has every change so far
    store.holders.add("Bo Park", actor="test")
    assert web.confirm() is Applied.NOT_CONFIRMED  # one more change: not in the view
    controller.close()
    assert web.confirm() is Applied.NO_CONTROLLER


def test_a_real_door_confirms_a_revocation(tmp_path: Path) -> None:
    with admin_on_real_box(tmp_path) as box:
        url = "/fobs/H10301:100:1001/status"
        reply = box.client.post(url, data={"status": "lost", "reason": "left in car"})
        page = flashed(box.client, reply.headers["Location"])
        assert "is now lost: the door refuses it now." in page
        rev = box.store.current_rev()
        assert box.client.get("/dashboard/live.json").get_json()["door"]["view_revision"] >= rev


def test_a_group_save_and_a_csv_import_say_when_the_door_has_not_confirmed(
    admin: FlaskClient, store: Store, controller: FakeController, lagging: SleepClock
) -> None:
    from tests.webui.test_fobs_csv import upload
    from tests.webui.test_groups import TWO_WINDOWS

    reply = admin.post("/groups/add", data=TWO_WINDOWS)
    assert reply.status_code == 302
    assert NOT_CONFIRMED in flashed(admin, reply.headers["Location"])
    reply = upload(admin, "format,facility,number,holder\nH10301,1,7,Bo Park\n")
    assert reply.status_code == 302
    page = flashed(admin, reply.headers["Location"])
    assert f"Imported 1 fob(s). ({NOT_CONFIRMED}: see the dashboard)" in page
    controller.applies = True
    reply = upload(admin, "format,facility,number,holder\nH10301,1,8,Bo Park\n")
    page = flashed(admin, reply.headers["Location"])
    assert "Imported 1 fob(s)." in page and NOT_CONFIRMED not in page


def test_the_api_says_whether_the_door_has_a_status_change(
    app: Flask, fob: Store, controller: FakeController, lagging: SleepClock
) -> None:
    from tests.webui.test_api import call, make_tokens

    tokens, client = make_tokens(app), app.test_client()
    body = {"status": "lost", "reason": "dropped"}
    lost = call(client, "POST", "/credentials/S-1/status", tokens["admin"], body)
    assert lost.status_code == 200
    assert (lost.get_json()["controller_told"], lost.get_json()["applied"]) == (
        True,
        "not_confirmed",
    )
    controller.applies = True
    body = {"status": "returned", "reason": "found"}
    back = call(client, "POST", "/credentials/S-1/status", tokens["admin"], body)
    assert back.get_json()["applied"] == "at_the_door"
