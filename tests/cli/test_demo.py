"""The demo box: a pin map the product calls safe, and closing words a person can act on."""

from __future__ import annotations

import stat
from pathlib import Path

from appliance.cli.demo import prepare_dir
from appliance.cli.demo_web import (
    ADMIN_FILE,
    DEMO_USER,
    closing_block,
    doorward_command,
    write_admin_file,
)
from appliance.config import load_config
from appliance.firmware import power_on_problems
from appliance.store import Store
from tests.webui.conftest import PASSWORD, StepClock, add_user, make_app

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_pins_pass_the_power_on_check(tmp_path: Path) -> None:
    config = load_config(prepare_dir(tmp_path / "demo"))
    assert power_on_problems(config) == []
    installer = load_config(REPO / "wiring" / "doorward.toml")
    assert (config.reader.d0, config.reader.d1) == (installer.reader.d0, installer.reader.d1)
    assert config.strike.pin == installer.strike.pin and config.strike.active_low is False
    assert config.reader.led_pin == installer.reader.led_pin
    assert config.dps is not None and installer.dps is not None
    assert config.dps.pin == installer.dps.pin
    assert config.rex is not None and installer.rex is not None
    assert config.rex.pin == installer.rex.pin


def test_the_demo_door_settings_page_shows_no_warning(tmp_path: Path) -> None:
    config = load_config(prepare_dir(tmp_path / "demo"))
    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
        app = make_app(config, store, StepClock())
        add_user(app, "admin", "admin", first=True)
        client = app.test_client()
        client.post("/login", data={"username": "admin", "password": PASSWORD})
        page = client.get("/settings").get_data(as_text=True)
    assert "Every output is already at its off (locked) level from power-on" in page
    assert 'class="warn"' not in page


def test_the_closing_words_end_with_the_admin_page_and_its_password(tmp_path: Path) -> None:
    config = tmp_path / "demo" / "doorward.toml"
    admin = tmp_path / "demo" / ADMIN_FILE
    text = closing_block(config, ".venv/bin/doorward", ("http://127.0.0.1:8080/", "s3cret"), admin)
    lines = text.splitlines()
    assert lines[-1] == "Ctrl-C stops the demo."
    assert (
        lines[-3] == f"The admin page: http://127.0.0.1:8080/  (user {DEMO_USER}, password s3cret)"
    )
    assert str(admin) in lines[-2]
    commands = [line.strip() for line in lines if line.startswith("  .venv/bin/doorward")]
    assert len(commands) == 4
    assert f".venv/bin/doorward --config {config} card lost --serial CPD-0043" in commands
    assert not any("revoke" in c for c in commands)
    without_web = closing_block(config, "doorward", None, admin)
    assert "password" not in without_web and without_web.endswith("Ctrl-C stops the demo.")


def test_the_admin_file_is_for_its_owner_only(tmp_path: Path) -> None:
    path = tmp_path / ADMIN_FILE
    path.write_text("old")
    path.chmod(0o644)
    write_admin_file(path, "http://127.0.0.1:8080/", "s3cret")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == "url = http://127.0.0.1:8080/\nuser = demo\npassword = s3cret\n"


def test_a_reseeded_demo_forgets_the_old_password(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    prepare_dir(home)
    write_admin_file(home / ADMIN_FILE, "http://127.0.0.1:8080/", "old")
    prepare_dir(home)
    assert not (home / ADMIN_FILE).exists()


def test_the_doorward_command_is_what_works_when_pasted(tmp_path: Path) -> None:
    bin_dir = tmp_path / "repo" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "doorward").write_text("#!/bin/sh\n")
    python = str(bin_dir / "python")
    mine = str(bin_dir / "doorward")
    repo = tmp_path / "repo"
    assert doorward_command(repo, python, which=mine) == "doorward"  # on PATH: this one
    other = str(tmp_path / "other" / "doorward")
    assert doorward_command(repo, python, which=other) == ".venv/bin/doorward"
    assert doorward_command(repo, python, which="") == ".venv/bin/doorward"
    assert doorward_command(tmp_path / "elsewhere", python, which="") == mine
    no_script = str(tmp_path / "bare" / "python3")
    assert doorward_command(repo, no_script, which="") == f"{no_script} -m appliance.cli"
