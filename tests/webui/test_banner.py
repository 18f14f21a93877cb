"""The banner on every page: lockdown, held unlocked, alarms; the action that ends it, by role."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from appliance.config import Config
from appliance.control import SOCKET_NAME
from appliance.store import Store
from tests.webui.conftest import (
    FakeController,
    StepClock,
    add_user,
    make_app,
    signed_in,
)
from webui.banner import who

PAGES = ("/", "/fobs", "/events", "/settings", "/holders", "/groups", "/fleet")
LIFT = '<a class="button alert-action" href="/door#lift">Lift lockdown</a>'
END_HOLD = '<a class="button alert-action" href="/door#hold">End the hold</a>'


def alerts_of(page: str) -> str:
    """The banner's markup alone."""
    return page.split('<div class="alerts" id="alerts"', 1)[1].split("</div>\n<main>", 1)[0]


def banner_for(app: Flask, role: str, path: str) -> str:
    """The banner on ``path`` as ``role`` sees it, signed in afresh."""
    return alerts_of(signed_in(app, role).get(path).get_data(as_text=True))


def in_mode(store: Store, controller: FakeController, mode: str, reason: str, actor: str) -> None:
    """The door's mode set in the store by ``actor`` and held by the controller too."""
    store.door.set_mode(mode, reason=reason, actor=actor)
    controller.status["mode"] = mode


@pytest.mark.parametrize("path", PAGES)
def test_lockdown_on_every_page_with_who_when_why_and_the_lift_for_an_operator(
    app: Flask, store: Store, controller: FakeController, path: str
) -> None:
    in_mode(store, controller, "lockdown", "police request", "web:operator")
    banner = banner_for(app, "operator", path)
    assert "LOCKDOWN IN FORCE" in banner and "alert-lockdown" in banner
    assert "Started by operator (admin page) at " in banner and ": police request." in banner
    assert LIFT in banner


@pytest.mark.parametrize("path", PAGES)
def test_an_auditor_sees_the_lockdown_but_not_the_lift(
    app: Flask, store: Store, controller: FakeController, path: str
) -> None:
    in_mode(store, controller, "lockdown", "police request", "button")
    banner = banner_for(app, "auditor", path)
    assert "LOCKDOWN IN FORCE" in banner and "the lockdown button at the door" in banner
    assert "Lift lockdown" not in banner and "/door" not in banner


def test_the_users_page_and_the_title_carry_it_too(
    app: Flask, store: Store, controller: FakeController
) -> None:
    store.door.set_mode("lockdown", reason="drill", actor="cli:root")
    page = signed_in(app, "admin").get("/users").get_data(as_text=True)
    assert LIFT in alerts_of(page) and "root (command line)" in page
    assert "<title>LOCKDOWN IN FORCE · Users · Front entrance · Doorward</title>" in page
    # Stored, not yet applied by the controller: said so, still a lockdown.
    assert "has not applied it yet" in page


@pytest.mark.parametrize("path", PAGES)
def test_held_unlocked_on_every_page_with_the_action_that_ends_it(
    app: Flask, store: Store, controller: FakeController, path: str
) -> None:
    in_mode(store, controller, "held_unlocked", "open house", "fleet:natrona")
    for role, action in (("admin", True), ("operator", True), ("auditor", False)):
        banner = banner_for(app, role, path)
        assert "DOOR HELD UNLOCKED" in banner and "alert-held" in banner
        assert "the district (natrona)" in banner and "open house" in banner
        assert (END_HOLD in banner) is action, role


def test_held_unlocked_by_the_schedule_says_so(
    app: Flask, store: Store, controller: FakeController
) -> None:
    controller.status["mode"] = "held_unlocked"  # the stored mode stays normal
    banner = banner_for(app, "operator", "/fobs")
    assert "DOOR HELD UNLOCKED" in banner and "unlock schedule" in banner
    assert 'href="/door#lockdown"' in banner


@pytest.mark.parametrize("path", PAGES)
def test_alarms_on_every_page(app: Flask, controller: FakeController, path: str) -> None:
    controller.status.update(
        alarms=["forced_open", "held_open"],
        degraded=True,
        reader={"frames": 3, "wiring_faults": 2, "last_fault": "D0 stuck low"},
    )
    banner = banner_for(app, "auditor", path)
    for title in ("DOOR FORCED OPEN", "DOOR HELD OPEN", "DATABASE UNREADABLE"):
        assert title in banner, title
    assert "READER WIRING FAULT" in banner and "D0 stuck low" in banner
    assert "alert-alarm" in banner and "LOCKDOWN" not in banner


@pytest.mark.parametrize("path", PAGES)
def test_normal_mode_with_no_alarm_has_no_banner(
    app: Flask, controller: FakeController, path: str
) -> None:
    for role in ("admin", "operator", "auditor"):
        page = signed_in(app, role).get(path).get_data(as_text=True)
        assert 'id="alerts"' in page and 'class="alert ' not in page, (role, path)


def test_a_lockdown_lifted_in_the_store_but_still_held_by_the_controller(
    app: Flask, controller: FakeController
) -> None:
    controller.status["mode"] = "lockdown"
    banner = banner_for(app, "admin", "/")
    assert "LOCKDOWN IN FORCE" in banner and "still holds the lockdown" in banner
    assert "Lift lockdown" not in banner  # nothing to lift in the store


def test_without_a_controller_the_banner_shows_the_stored_mode_and_says_so(
    app: Flask, store: Store
) -> None:
    store.door.set_mode("lockdown", reason="police request", actor="web:admin")
    banner = banner_for(app, "operator", "/events")
    assert "LOCKDOWN IN FORCE" in banner and LIFT in banner
    assert "DOOR CONTROLLER NOT RUNNING" in banner and "doorward run" in banner


def test_no_banner_before_signing_in(app: Flask, store: Store) -> None:
    store.door.set_mode("lockdown", reason="police request", actor="web:admin")
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "LOCKDOWN" not in page and "police request" not in page
    assert "Front entrance" in page  # the door's name is in every page's header


class SilentController:
    """A control socket that accepts and never answers (a controller stuck in a long task)."""

    def __init__(self, data_dir: Path) -> None:
        self.accepted = 0
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(str(data_dir / SOCKET_NAME))
        self._sock.listen(8)
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(conn)

    def close(self) -> None:
        self._sock.close()
        for conn in self._held:
            conn.close()


@pytest.fixture
def silent(config: Config) -> Iterator[SilentController]:
    fake = SilentController(config.data_dir)
    try:
        yield fake
    finally:
        fake.close()


def test_a_controller_that_does_not_answer_never_holds_a_page_for_long(
    config: Config, store: Store, silent: SilentController
) -> None:
    app = make_app(config, store, StepClock(), STATUS_TIMEOUT=0.05)
    add_user(app, "admin", "admin", first=True)
    store.door.set_mode("lockdown", reason="police request", actor="web:admin")
    client = signed_in(app, "admin")
    first = client.get("/fobs").get_data(as_text=True)
    assert "DOOR CONTROLLER NOT ANSWERING" in first and "LOCKDOWN IN FORCE" in first
    asked = silent.accepted
    assert asked >= 1
    # After a timeout, pages stop asking for a while: the next ones show the stored mode at once.
    for path in ("/", "/events", "/dashboard/live.json"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert silent.accepted == asked
    live = client.get("/dashboard/live.json").get_json()
    assert live["door"]["running"] is False and live["door"]["mode"] == "lockdown"
    titles = [a["title"] for a in live["alerts"]]
    assert titles == ["LOCKDOWN IN FORCE", "DOOR CONTROLLER NOT ANSWERING"]


def test_the_dashboard_poll_carries_the_banner(
    app: Flask, store: Store, controller: FakeController
) -> None:
    client = signed_in(app, "operator")
    assert client.get("/dashboard/live.json").get_json()["alerts"] == []
    in_mode(store, controller, "lockdown", "police request", "web:operator")
    data = client.get("/dashboard/live.json").get_json()
    assert data["door"]["mode_label"] == "Lockdown"
    [alert] = data["alerts"]
    assert alert["level"] == "lockdown" and alert["title"] == "LOCKDOWN IN FORCE"
    assert alert["action"] == "Lift lockdown" and alert["url"] == "/door#lift"
    auditor = signed_in(app, "auditor").get("/dashboard/live.json").get_json()
    assert auditor["alerts"][0]["url"] is None


def test_a_hostile_reason_is_text_in_the_banner(
    app: Flask, store: Store, controller: FakeController
) -> None:
    store.door.set_mode("lockdown", reason="<script>alert(1)</script>", actor="web:<b>x</b>")
    page = signed_in(app, "auditor").get("/fobs").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert "<b>x</b>" not in page


@pytest.mark.parametrize(
    ("actor", "words"),
    [
        ("web:alice", "alice (admin page)"),
        ("cli:root", "root (command line)"),
        ("api:bot", "bot (API)"),
        ("fleet:natrona", "the district (natrona)"),
        ("button", "the lockdown button at the door"),
        ("demo", "demo"),
        (None, "someone (not on record)"),
    ],
)
def test_who_changed_the_mode_in_words(actor: str | None, words: str) -> None:
    assert who(actor) == words


def test_an_error_page_shows_the_stored_lockdown_without_asking_the_controller(
    app: Flask, store: Store, controller: FakeController
) -> None:
    store.door.set_mode("lockdown", reason="police request", actor="web:admin")
    response = signed_in(app, "auditor").get("/users")
    assert response.status_code == 403
    assert "LOCKDOWN IN FORCE" in alerts_of(response.get_data(as_text=True))
    assert controller.commands() == []


def test_the_controller_is_asked_once_per_page(
    app: Flask, store: Store, controller: FakeController
) -> None:
    store.door.set_mode("lockdown", reason="drill", actor="web:admin")
    client = signed_in(app, "admin")
    # The enrolment page reads the controller's status itself: it shares it with the banner.
    for path in ("/", "/door", "/fobs", "/fobs/issue?from=last_unknown"):
        before = len(controller.commands())
        assert client.get(path).status_code == 200, path
        assert controller.commands()[before:] == ["status"], path
