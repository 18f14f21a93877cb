"""The dashboard: the door now (or plainly: no controller), the latest events, the poll endpoint."""

from __future__ import annotations

from pathlib import Path

from flask.testing import FlaskClient

from appliance.config import Config
from appliance.store import EventRecord, Store
from appliance.testing.box import decision, mock
from appliance.wiegand.formats import encode
from tests.webui.conftest import (
    AuthActions,
    FakeController,
    StepClock,
    add_user,
    admin_on_real_box,
    make_app,
)


def add_events(store: Store, n: int, holder: str = "Officer Ortiz") -> None:
    store.events.append(
        [
            EventRecord(ts=1_700_000_000 + i, kind="granted", holder=holder, credential=f"H:{i}")
            for i in range(n)
        ]
    )


def test_without_a_controller_it_says_so_and_shows_the_stored_mode(
    client: FlaskClient, auth: AuthActions, store: Store
) -> None:
    store.door.set_mode("lockdown", reason="police request", actor="test")
    auth.login("auditor")
    page = client.get("/").get_data(as_text=True)
    assert "The door controller is not running" in page and "doorward run" in page
    assert "lockdown" in page and "police request" in page


def test_with_a_controller_it_shows_lock_door_alarms_health_latency(
    client: FlaskClient, auth: AuthActions, controller: FakeController
) -> None:
    controller.status.update(locked=False, open=True, alarms=["held_open"], degraded=True)
    auth.login("operator")
    page = client.get("/").get_data(as_text=True)
    assert "Controller running" in page and "degraded" in page
    # In words and ms now (the raw counters behind a <details>), not names and raw µs.
    for text in ("unlocked", "open", "door held open", "parity errors", "frames", "0.04 ms"):
        assert text in page, text
    assert "0.09 ms" in page and "41.0" not in page


def test_the_last_twenty_events_newest_first(
    client: FlaskClient, auth: AuthActions, store: Store
) -> None:
    auth.login("auditor")
    add_events(store, 30)
    page = client.get("/").get_data(as_text=True)
    shown = [f"H:{i}<" for i in range(30) if f"H:{i}<" in page]
    assert len(shown) == 20 and "H:29<" in page and "H:9<" not in page
    assert page.index("H:29<") < page.index("H:28<")


def test_live_json_gives_new_events_oldest_first_and_the_door(
    client: FlaskClient, auth: AuthActions, store: Store
) -> None:
    auth.login("auditor")
    last = store.events.query(limit=1)[0].id
    add_events(store, 3)
    data = client.get(f"/dashboard/live.json?after={last}").get_json()
    assert [e["credential"] for e in data["events"]] == ["H:0", "H:1", "H:2"]
    assert data["door"]["running"] is False and data["door"]["mode"] == "normal"
    newest = data["events"][-1]["id"]
    assert client.get(f"/dashboard/live.json?after={newest}").get_json()["events"] == []


def test_live_json_refuses_a_bad_after(client: FlaskClient, auth: AuthActions) -> None:
    auth.login("auditor")
    for bad in ("-1", "abc", "1.5", "9" * 40, ""):
        response = client.get(f"/dashboard/live.json?after={bad}")
        assert response.status_code == 400, bad
        assert "'after' must be an event id" in response.get_json()["error"]


def test_holder_names_with_markup_are_shown_as_text(
    client: FlaskClient, auth: AuthActions, store: Store
) -> None:
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    add_events(store, 1, holder=evil)
    auth.login("auditor")
    page = client.get("/").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;alert(" in page
    # The poll hands the name over as JSON data; the page script inserts it with textContent.
    polled = client.get("/dashboard/live.json?after=0")
    assert polled.mimetype == "application/json"  # with nosniff: never rendered as HTML
    assert [e["holder"] for e in polled.get_json()["events"] if e["kind"] == "granted"] == [evil]


def test_events_read_as_sentences_on_the_page_and_in_the_poll(
    client: FlaskClient, auth: AuthActions, store: Store
) -> None:
    store.door.set_mode("lockdown", reason="drill", actor="web:alice")
    add_events(store, 1)
    auth.login("auditor")
    page = client.get("/").get_data(as_text=True)
    assert "<td>Lockdown started by alice: drill</td>" in page
    assert "<td>Granted: Officer Ortiz (H:0)</td>" in page and "<td>mode</td>" not in page
    polled = client.get("/dashboard/live.json?after=0").get_json()["events"]
    texts = [e["text"] for e in polled]
    assert "Lockdown started by alice: drill" in texts and "Granted: Officer Ortiz (H:0)" in texts
    assert {"kind", "reason", "holder", "actor"} <= set(polled[0])  # the old keys stay


def test_dashboard_against_a_real_controller(tmp_path: Path) -> None:
    with admin_on_real_box(tmp_path) as box:
        mock(box.controller).play(encode("H10301", 1001, 100), realtime=False)
        box.events.wait(decision("granted", "H10301:100:1001"))
        data = box.client.get("/dashboard/live.json?after=0").get_json()
        door = data["door"]
        assert door["running"] is True and door["mode"] == "normal"
        assert door["locked"] in (True, False) and "reader" in door
        page = box.client.get("/").get_data(as_text=True)
        assert "Controller running" in page and "Reader health" in page


READER = {
    "frames": 1203,
    "cards": 1190,
    "keys": 0,
    "noise_pulses": 2,
    "parity_failures": 0,
    "short_frames": 0,
    "long_frames": 0,
    "wiring_faults": 0,
    "last_fault": None,
}
LATENCY = {
    "edge_to_relay": {"p50": 812.0, "p99": 2710.5, "max": 13406.0, "count": 1203},
    "decide": {"p50": 41.0, "p99": 90.0, "max": 120.0, "count": 1203},
}


def test_figures_for_people_latency_in_ms_reader_in_words_the_door_name(
    client: FlaskClient, auth: AuthActions, controller: FakeController
) -> None:
    controller.status.update(reader=READER, latency_us=LATENCY, uptime_s=11_520.0)
    auth.login("auditor")
    page = client.get("/").get_data(as_text=True)
    row = page.split("<td>Last bit to relay</td>", 1)[1].split("</tr>", 1)[0]
    assert [cell.split("<")[0] for cell in row.split('">')[1:]] == [
        "0.8 ms",
        "2.7 ms",
        "13.4 ms",
        "1,203",
    ]
    assert "13406" not in page and "<td>Decision</td>" in page and "0.04 ms" in page
    assert (
        "Reader OK — 1,203 frames (1,190 cards), 2 noise pulses since the controller started "
        "3 h 12 min ago." in page
    )
    counters = page.split("<details>", 1)[1].split("</details>", 1)[0]
    assert (
        "<dt>noise pulses</dt><dd>2</dd>" in counters and "<dt>frames</dt><dd>1203</dd>" in counters
    )
    assert '<h1 class="door-heading">Front entrance</h1>' in page
    assert "<title>Dashboard · Front entrance · Doorward</title>" in page
    assert 'class="mode-display mode-normal"' in page and ">Normal</strong>" in page


def test_the_mode_is_big_and_coloured(
    client: FlaskClient, auth: AuthActions, store: Store, controller: FakeController
) -> None:
    store.door.set_mode("lockdown", reason="drill", actor="test")
    controller.status["mode"] = "lockdown"
    auth.login("auditor")
    page = client.get("/").get_data(as_text=True)
    assert 'class="mode-display mode-lockdown"' in page
    assert '<strong class="mode-value" data-field="mode">Lockdown</strong>' in page


def test_times_are_local_on_the_page_and_in_the_poll(
    config: Config, store: Store, clock: StepClock
) -> None:
    app = make_app(config.model_copy(update={"timezone": "America/Denver"}), store, clock)
    add_user(app, "admin", "admin", first=True)
    client = app.test_client()
    AuthActions(client).login()
    last = store.events.query(limit=1)[0].id
    add_events(store, 1)  # 1_700_000_000 = 2023-11-14 22:13:20 UTC, 15:13:20 in Denver (MST)
    page = client.get("/").get_data(as_text=True)
    assert '<td class="time">2023-11-14 15:13:20 MST</td>' in page
    assert "Times are in America/Denver" in page and "2023-11-14T22:13:20" not in page
    polled = client.get(f"/dashboard/live.json?after={last}").get_json()["events"]
    assert [e["time"] for e in polled] == ["2023-11-14 15:13:20 MST"]


def test_a_lockdown_stored_but_not_yet_applied_is_shown_as_a_lockdown(
    client: FlaskClient, auth: AuthActions, store: Store, controller: FakeController
) -> None:
    store.door.set_mode(
        "lockdown", reason="drill", actor="test"
    )  # the controller still says normal
    auth.login("operator")
    page = client.get("/").get_data(as_text=True)
    assert 'class="mode-display mode-lockdown"' in page and ">Lockdown</strong>" in page
    assert "the controller is normal until it applies it" in page
    live = client.get("/dashboard/live.json").get_json()["door"]
    assert live["mode"] == "normal" and live["shown_mode"] == "lockdown"


def test_a_hold_by_the_schedule_is_shown_as_held_unlocked(
    client: FlaskClient, auth: AuthActions, controller: FakeController
) -> None:
    controller.status["mode"] = "held_unlocked"  # the stored mode stays normal
    auth.login("auditor")
    page = client.get("/").get_data(as_text=True)
    assert 'class="mode-display mode-held_unlocked"' in page
    assert "held by the door&#39;s unlock schedule" in page
