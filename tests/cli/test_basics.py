"""The command as a whole: help, finding and checking the config, init, groups, holders, modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ENV_VAR
from appliance.testing.box import write_config
from tests.cli.util import Cli, assert_clean_error, census

CONTRACT = ["init", "run", "demo", "card", "lockdown", "swipe", "events", "status"]


def test_top_level_help_lists_the_contract_and_examples(cli: Cli) -> None:
    result = cli("--help")
    assert result.code == 0 and result.err == ""
    for command in [*CONTRACT, "holder", "group", "hold", "unlock"]:
        assert command in result.out, command
    assert "examples:" in result.out
    assert "card add --format H10301" in result.out
    assert ENV_VAR in result.out


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["card", "--help"], ["add", "revoke", "import", "export", "list", "lost", "reissue"]),
        (["card", "add", "--help"], ["--format", "--facility", "--number", "--holder", "--group"]),
        (["card", "revoke", "--help"], ["--serial", "--format", "--number", "--reason"]),
        (["card", "import", "--help"], ["format, facility, number, holder, serial, group"]),
        (["events", "--help"], ["--json", "--follow", "--limit"]),
        (["lockdown", "--help"], ["on", "off", "--reason"]),
        (["swipe", "--help"], ["--format", "--facility", "--number", "H10302"]),
        (["demo", "--help"], ["--once", "--dir"]),
        (["group", "add", "--help"], ["--lockdown-immune", "--window"]),
    ],
)
def test_every_level_has_help(cli: Cli, argv: list[str], needles: list[str]) -> None:
    result = cli(*argv)
    assert result.code == 0
    for needle in needles:
        assert needle in result.out, needle


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("--config", "x.toml", "frobnicate")
    assert result.code == 2
    assert "invalid choice: 'frobnicate'" in result.err and "Traceback" not in result.err


def test_no_config_and_no_env_var(cli: Cli) -> None:
    result = cli("init")
    assert_clean_error(result, "--config", ENV_VAR, code=2)
    assert len(result.err_lines) == 1


def test_config_from_env_var(tmp_path: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write_config(tmp_path)
    monkeypatch.setenv(ENV_VAR, str(config))
    result = cli("init")
    assert result.code == 0, result.err
    assert (tmp_path / "data" / "doorward.db").exists()
    assert cli("group", "list").code == 0


def test_missing_config_file(tmp_path: Path, cli: Cli) -> None:
    result = cli.on(tmp_path / "nope.toml", "init")
    assert_clean_error(result, "nope.toml", "no such file", code=2)


def test_config_problems_one_line_each_naming_the_key(tmp_path: Path, cli: Cli) -> None:
    config = write_config(tmp_path, extra='[dps]\npin = 99\ncolour = "red"')
    result = cli.on(config, "init")
    assert_clean_error(result, code=2)
    lines = result.err_lines
    assert len(lines) == 2, lines
    assert any("dps.pin" in line for line in lines)
    assert any("dps.colour" in line and "unknown key" in line for line in lines)
    assert not (tmp_path / "data").exists()  # nothing was created


def test_config_not_toml(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    config.write_text("[door\nname = 'x'\n")
    assert_clean_error(cli.on(config, "init"), "not valid TOML", code=2)


def test_commands_before_init_say_run_init(tmp_path: Path, cli: Cli) -> None:
    config = write_config(tmp_path)
    for argv in (["card", "list"], ["events"], ["lockdown", "on"], ["status"]):
        assert_clean_error(cli.on(config, *argv), "doorward init")


def test_init_is_idempotent_with_the_builtin_groups(box: Path, cli: Cli) -> None:
    first = cli.on(box, "group", "list")
    before = census(box)
    again = cli.on(box, "init")
    assert again.code == 0 and "database ready" in again.out
    assert again.err == ""  # the migration narrative stays out of an installer's stderr
    assert cli.on(box, "group", "list").out == first.out
    assert census(box).groups == before.groups == 2
    lines = {line.split()[0]: line for line in first.out.splitlines()}
    assert set(lines) == {"responders", "staff"}
    assert "all doors" in lines["responders"] and "at all times" in lines["responders"]
    assert "LOCKDOWN-IMMUNE" in lines["responders"]
    assert "Front entrance" in lines["staff"] and "at all times" in lines["staff"]
    assert "LOCKDOWN-IMMUNE" not in lines["staff"]


def test_group_add_and_list(box: Path, cli: Cli) -> None:
    result = cli.on(
        box, "group", "add", "custodians", "--window", "mon-fri,06:00-18:00", "--door", "Gym"
    )
    assert result.code == 0, result.err
    listing = cli.on(box, "group", "list").out
    assert "custodians" in listing and "Gym" in listing and "1 window(s)" in listing


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["group", "add", "night", "--window", "mon-fri"], "DAYS,HH:MM-HH:MM"),
        (["group", "add", "night", "--window", "funday,06:00-18:00"], "funday"),
        (["group", "add", "night", "--window", "mon,25:00-26:00"], "25:00"),
        (["group", "add", "staff"], "staff"),
    ],
)
def test_group_add_refuses_bad_input(box: Path, cli: Cli, argv: list[str], needle: str) -> None:
    before = census(box)
    assert_clean_error(cli.on(box, *argv), needle)
    assert census(box) == before


def test_holder_add_list_and_duplicate(box: Path, cli: Cli) -> None:
    result = cli.on(box, "holder", "add", "Officer Lee", "--agency", "CPD", "--badge", "7")
    assert result.code == 0, result.err
    assert "Officer Lee" in cli.on(box, "holder", "list").out
    before = census(box)
    assert_clean_error(cli.on(box, "holder", "add", "Officer Lee"), "Officer Lee")
    assert census(box) == before


def test_status_without_a_controller(box: Path, cli: Cli) -> None:
    result = cli.on(box, "status")
    assert result.code == 3  # a monitoring script must tell a dead door from a live one
    assert "NOT RUNNING" in result.out and "normal" in result.out
    as_json = cli.on(box, "status", "--json")
    assert as_json.code == 3
    import json

    status = json.loads(as_json.out)
    assert status["mode"] == "normal" and status["controller"].startswith("not running")


@pytest.mark.parametrize(
    ("argv", "mode"),
    [(["lockdown", "on"], "lockdown"), (["hold", "on"], "held_unlocked")],
)
def test_modes_are_stored_when_no_controller_runs(
    box: Path, cli: Cli, argv: list[str], mode: str
) -> None:
    result = cli.on(box, *argv, "--reason", "drill")
    assert result.code == 0, result.err
    assert f"door mode: {mode}" in result.out and "applies when it starts" in result.out
    assert census(box).mode == mode
    off = cli.on(box, argv[0], "off")
    assert off.code == 0 and census(box).mode == "normal"


def test_bad_mode_argument(box: Path, cli: Cli) -> None:
    before = census(box)
    result = cli.on(box, "lockdown", "maybe")
    assert result.code == 2 and "invalid choice" in result.err
    assert census(box) == before


def test_unlock_needs_a_reason_and_a_controller(box: Path, cli: Cli) -> None:
    assert cli.on(box, "unlock").code == 2
    before = census(box)
    assert_clean_error(cli.on(box, "unlock", "--reason", "delivery"), "no controller is running")
    assert census(box) == before
