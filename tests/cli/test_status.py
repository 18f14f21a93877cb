"""``doorward status``: words for people, exit codes for monitoring scripts, JSON for machines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import status as status_cli
from appliance.config import load_config
from appliance.testing.box import decision, mock, running_box, write_config
from appliance.wiegand.formats import encode
from tests.cli.util import Cli, assert_clean_error

PYTHON_VALUES = ("True", "False", "None", "{'", "['", "_us", "_s:")


def assert_for_people(text: str) -> None:
    for needle in PYTHON_VALUES:
        assert needle not in text, (needle, text)


def test_a_running_healthy_door_exits_0_in_words(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (c, events, _):
        mock(c).play(encode("H10301", 1001, 100), realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        result = cli.on(config, "status")
    assert result.code == 0 and result.err == ""
    lines = result.out.splitlines()
    assert lines[0] == "Door:         Front entrance"
    labels = [line.split(":", 1)[0] for line in lines]
    values = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines}
    assert labels[:5] == ["Door", "Controller", "Health", "Mode", "Lock"]
    assert (
        len({line.index(values[label]) for line, label in zip(lines, labels, strict=True)}) == 1
    )  # aligned
    assert values["Mode"] == "normal" and values["Health"] == "healthy"
    assert values["Lock"] in ("locked", "UNLOCKED")
    assert values["Controller"].startswith("running on the mock back-end")
    assert " s (since 20" in values["Controller"]  # a local date and time
    assert values["Reader"] == "1 frame read: 1 card; no errors"
    assert values["Latency"].startswith("last edge to relay ") and " ms p99" in values["Latency"]
    assert values["Cards"] == "4 credentials loaded"
    assert_for_people(result.out)


def test_json_keeps_its_keys_and_the_exit_status(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path):
        result = cli.on(config, "status", "--json")
    assert result.code == 0
    status = json.loads(result.out)
    assert status["door"] == "Front entrance" and status["backend"] == "mock"
    assert status["locked"] is True and "reader" in status and "latency_us" in status


@pytest.mark.parametrize("how", ["alarm", "degraded"])
def test_a_degraded_door_or_an_alarm_exits_1(tmp_path: Path, cli: Cli, how: str) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (c, _, _):
        if how == "alarm":
            c.call(lambda: c.door.alarms.add("held_open"))
        else:
            c.call(lambda: setattr(c, "degraded", True))
        human = cli.on(config, "status")
        machine = cli.on(config, "status", "--json")
    assert human.code == machine.code == 1
    assert "DEGRADED" in human.out
    if how == "alarm":
        assert "Alarms:       held open" in human.out
        assert json.loads(machine.out)["alarms"] == ["held_open"]
    else:
        assert "cannot read its database" in human.out
    assert_for_people(human.out)


def test_no_controller_exits_3_in_words_and_in_json(box: Path, cli: Cli) -> None:
    human = cli.on(box, "status")
    assert human.code == 3 and human.err == ""
    assert "Controller:   NOT RUNNING: no controller is running" in human.out
    assert "Mode:         normal (stored" in human.out
    assert_for_people(human.out)
    machine = cli.on(box, "status", "--json")
    assert machine.code == 3
    status = json.loads(machine.out)
    assert status["controller"].startswith("not running") and status["mode"] == "normal"


def test_no_database_and_no_controller_exits_3(tmp_path: Path, cli: Cli) -> None:
    result = cli.on(write_config(tmp_path), "status")
    assert_clean_error(result, "doorward init", code=3)


def test_an_unreadable_database_and_no_controller_exits_3(box: Path, cli: Cli) -> None:
    """A dead door is 3 even when its database cannot be read (1 would say it is running)."""
    data = load_config(box).data_dir
    for leftover in data.glob("doorward.db*"):
        leftover.unlink()
    (data / "doorward.db").write_bytes(b"this is not a database " * 200)
    result = cli.on(box, "status")
    assert result.code == 3, result
    assert "controller not running" in result.err and result.err.count("\n") == 1


def test_the_exit_codes_are_in_the_help(cli: Cli) -> None:
    text = cli("status", "--help").out
    for code in (
        "0  the controller is running and healthy",
        "1  the controller is running but",
        "3  the controller is not running",
    ):
        assert code in text, code


def _status(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "version": "1.0",
        "door": "Gym",
        "backend": "gpiod",
        "locked": True,
        "open": False,
        "mode": "held_unlocked",
        "alarms": ["forced_open"],
        "degraded": False,
        "clock_synchronised": False,
        "credentials_loaded": 1,
        "view_revision": 3,
        "reader": {
            "frames": 5,
            "cards": 3,
            "keys": 1,
            "pins": 0,
            "noise_pulses": 2,
            "parity_failures": 1,
            "short_frames": 0,
            "long_frames": 0,
            "keypad_errors": 0,
            "wiring_faults": 1,
            "internal_errors": 0,
            "last_fault": "D0 stuck low",
        },
        "latency_us": {"edge_to_relay": {"p50": 420.0, "p99": 910.5, "max": 1000, "count": 3}},
        "last_unknown_card": "H10301:55:999",
        "audit_failures": 2,
        "uptime_s": 7384.2,
    }
    return {**base, **changes}


def test_every_fact_is_in_words(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path))
    lines = dict(status_cli.running_lines(_status(), config))
    assert lines["Mode"] == "held unlocked" and lines["Alarms"] == "forced open"
    assert lines["Door switch"] == "closed" and lines["Cards"] == "1 credential loaded"
    assert "up 2 h 3 min" in lines["Controller"]
    assert (
        lines["Clock"].startswith("NOT synchronised") and "responders always open" in lines["Clock"]
    )
    assert lines["Reader"] == (
        "5 frames read: 3 cards, 1 key; 2 noise pulses, 1 parity failure, 1 wiring fault "
        "(last fault: D0 stuck low)"
    )
    assert lines["Latency"] == "last edge to relay 0.42 ms p50, 0.91 ms p99 (last 3 reads)"
    assert lines["Unknown card"] == "last one presented: H10301:55:999"
    assert lines["Audit log"] == "2 failed writes (retried)"
    assert status_cli.health(_status()) == 1 and status_cli.health(_status(alarms=[])) == 0
    unknown = dict(status_cli.running_lines(_status(open=None, locked=None), config))
    assert unknown["Door switch"] == "none fitted" and unknown["Lock"] == "not known"
    assert_for_people("\n".join(lines.values()) + "\n".join(unknown.values()))
