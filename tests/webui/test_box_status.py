"""What the admin page says about the box: release, provisioning errors, the clock, power-on."""

from __future__ import annotations

import http.client
import socket
import ssl
from pathlib import Path

import pytest
from flask import Flask

from appliance import __version__
from appliance.config import Config
from appliance.provision.status import ProvisionStatus, write_status
from appliance.release import Release, parse_release, read_release
from appliance.store import Store
from tests.cli.util import start_process
from tests.webui.conftest import AuthActions, FakeController, StepClock, add_user, make_app
from webui.unprovisioned import create_status_app

RELEASE = """\
DOORWARD_VERSION=0.1.0
DOORWARD_COMMIT="3f2a9c1d7e5b4a6c8d9e0f1a2b3c4d5e6f7a8b9c"
DOORWARD_BUILD_DATE=2025-05-01
DEBIAN_RELEASE='bookworm'
# a comment
garbage line
"""
REFUSED = ProvisionStatus(
    "failed",
    "doorward.toml: strike.pin: Input should be less than or equal to 27\n"
    "doorward.toml: door.colour: unknown key (check its spelling and section)",
    "2025-05-02T07:00:00+00:00",
    "2025-05-01T08:00:00+00:00",
)


def test_release_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_release(RELEASE)["DEBIAN_RELEASE"] == "bookworm"
    path = tmp_path / "doorward-release"
    path.write_text(RELEASE)
    monkeypatch.setenv("DOORWARD_RELEASE_FILE", str(path))
    release = read_release()
    assert release == Release(
        "0.1.0", "3f2a9c1d7e5b4a6c8d9e0f1a2b3c4d5e6f7a8b9c", "2025-05-01", "bookworm"
    )
    assert release.label == "Doorward 0.1.0 (3f2a9c1d7e5b, built 2025-05-01, Debian bookworm)"
    monkeypatch.setenv("DOORWARD_RELEASE_FILE", str(tmp_path / "missing"))
    assert read_release() == Release(__version__)
    assert read_release().label == f"Doorward {__version__}"
    assert parse_release('DOORWARD_COMMIT="<script>"\nX="unclosed\nY=' + "y" * 100) == {
        "DOORWARD_COMMIT": "<script>"
    }  # what is shown is escaped by the template; an absurd value is dropped


def build(config: Config, store: Store, clock: StepClock) -> Flask:
    app = make_app(config, store, clock)
    add_user(app, "admin", "admin", first=True)
    return app


def test_every_page_shows_the_release_and_a_refused_provisioning(
    config: Config, store: Store, clock: StepClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "release").write_text(RELEASE)
    monkeypatch.setenv("DOORWARD_RELEASE_FILE", str(tmp_path / "release"))
    write_status(config.data_dir, REFUSED)
    client = build(config, store, clock).test_client()
    page = client.get("/login").get_data(as_text=True)  # even before signing in
    assert "Doorward 0.1.0 (3f2a9c1d7e5b, built 2025-05-01, Debian bookworm)" in page
    assert "The boot partition's files were not applied" in page
    assert "strike.pin: Input should be less than or equal to 27" in page
    assert "keeps the configuration applied at 2025-05-01T08:00:00+00:00" in page
    AuthActions(client).login("admin")
    assert "door.colour: unknown key" in client.get("/").get_data(as_text=True)


def test_an_applied_provisioning_shows_no_banner(
    config: Config, store: Store, clock: StepClock
) -> None:
    write_status(config.data_dir, ProvisionStatus("applied", "provisioned", "t", "t"))
    page = build(config, store, clock).test_client().get("/login").get_data(as_text=True)
    assert 'id="provisioning"' not in page and f"Doorward {__version__}" in page


@pytest.mark.parametrize(
    ("synced", "policy", "text"),
    [
        (True, "deny_scheduled", "synchronised"),
        (False, "deny_scheduled", "scheduled groups are refused until it is"),
        (False, "allow", "schedules follow it anyway"),
    ],
)
def test_the_clock(
    config: Config,
    store: Store,
    clock: StepClock,
    controller: FakeController,
    synced: bool,
    policy: str,
    text: str,
) -> None:
    config = config.model_copy(
        update={"clock": config.clock.model_copy(update={"unsynced_policy": policy})}
    )
    controller.status["clock_synchronised"] = synced
    client = build(config, store, clock).test_client()
    AuthActions(client).login("admin")
    page = client.get("/").get_data(as_text=True)
    assert f'<dd data-field="clock">{"" if synced else "not "}synchronised' in page
    assert text in page
    live = client.get("/dashboard/live.json").get_json()
    assert text in live["door"]["clock"]
    assert ("not synchronised yet" in live["door"]["clock"]) is not synced


def test_settings_show_the_firmware_lines_and_power_on_problems(
    config: Config, store: Store, clock: StepClock
) -> None:
    client = build(config, store, clock).test_client()
    AuthActions(client).login("admin")
    page = client.get("/settings").get_data(as_text=True)
    # the test box: reader on the serial console's pins, an active-low strike on GPIO 26
    assert "gpio=26=op,dh" in page and "gpio=14=ip,pu" in page
    assert "reader.d0: GPIO 14 is the serial console" in page
    assert "strike.pin: GPIO 26 is pulled down from power-on" in page


def test_the_status_page_of_an_unprovisioned_box(tmp_path: Path) -> None:
    write_status(tmp_path, REFUSED)
    client = create_status_app(tmp_path, f"{tmp_path}/doorward.toml: no such file").test_client()
    for path in ("/", "/login", "/fobs/anything"):
        reply = client.get(path)
        page = reply.get_data(as_text=True)
        assert reply.status_code == 503
        assert "not working as a door yet" in page and "door.colour: unknown key" in page
        assert "doorward.toml: no such file" in page
        assert "default-src 'self'" in reply.headers["Content-Security-Policy"]
    assert client.get("/static/style.css").status_code == 200
    fresh = create_status_app(tmp_path / "empty").test_client().get("/").get_data(as_text=True)
    assert "To provision it" in fresh and "were refused" not in fresh


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_web_without_a_config_serves_the_status_over_https(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write_status(data, REFUSED)
    port = _free_port()
    args = ("--config", str(tmp_path / "missing.toml"), "web", "--tls", "--port", str(port))
    proc, out = start_process(*args, "--data", str(data), ready="Listening at: https://")
    try:
        assert "no usable config" in out and "no such file" in out
        context = ssl.create_default_context(cafile=str(data / "tls" / "cert.pem"))
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=context)
        conn.request("GET", "/")
        response = conn.getresponse()
        assert response.status == 503 and b"door.colour: unknown key" in response.read()
        conn.close()
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
