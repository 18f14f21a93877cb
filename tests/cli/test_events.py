"""``doorward events``: JSON lines with the contract's fields, --limit, and --follow live."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from appliance.testing.box import decision, mock, running_box
from appliance.wiegand.formats import encode
from tests.cli.util import Cli, assert_clean_error, census, doorward_cmd

CONTRACT_FIELDS = {"time", "kind", "reason", "credential", "holder", "serial"}


@pytest.fixture
def denver() -> Iterator[None]:
    """Local time is Mountain time, so an offset of +00:00 would be a bug, not luck."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/Denver"
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture
def logged(tmp_path: Path) -> Path:
    """A box whose log holds a responder's grant and a lost fob's denial; returns the config."""
    with running_box(tmp_path) as (c, events, _):
        mock(c).play(encode("H10301", 1001, 100), realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        mock(c).play(encode("H10301", 1003, 100), realtime=False)
        events.wait(decision("denied", "H10301:100:1003"))
        assert c.audit.flush(5)
    return tmp_path / "doorward.toml"


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


def test_json_has_the_contract_fields(logged: Path, cli: Cli, denver: None) -> None:
    result = cli.on(logged, "events", "--json", "--limit", "50")
    assert result.code == 0, result.err
    events = json_lines(result.out)
    assert all(set(e) >= CONTRACT_FIELDS for e in events)
    ids = [e["id"] for e in events]
    assert ids == sorted(ids)  # oldest first, like a log
    granted = next(e for e in events if e["kind"] == "granted")
    assert granted["credential"] == "H10301:100:1001" and granted["reason"] == "granted"
    assert (granted["holder"], granted["serial"]) == ("Officer Ortiz", "CPD-1")
    denied = next(e for e in events if e["kind"] == "denied")
    assert (denied["reason"], denied["serial"], denied["holder"]) == (
        "lost",
        "CPD-3",
        "Officer Becker",
    )
    assert isinstance(granted["time"], str)
    when = datetime.fromisoformat(granted["time"])
    assert when.utcoffset() in (timedelta(hours=-7), timedelta(hours=-6))
    assert granted["time"][-6:] in ("-07:00", "-06:00")
    assert abs(when.timestamp() - time.time()) < 60


def test_table_output_names_the_holder(logged: Path, cli: Cli) -> None:
    out = cli.on(logged, "events").out
    line = next(line for line in out.splitlines() if "Denied:" in line)
    assert line.endswith("  Denied: fob CPD-3 (Officer Becker) is reported lost"), line
    granted = next(line for line in out.splitlines() if "Granted:" in line)
    assert "Granted: Officer Ortiz (CPD-1)" in granted


def test_table_says_what_an_admin_change_did(box: Path, cli: Cli) -> None:
    assert cli.on(box, "holder", "add", "Officer Lee").code == 0
    newest = cli.on(box, "events", "--limit", "1").out
    assert "Holder Officer Lee added by " in newest and "on the command line" in newest
    assert "add_holder" not in newest  # the internal name is for --json only


def test_mode_changes_say_which_way_they_went(box: Path, cli: Cli) -> None:
    assert cli.on(box, "lockdown", "on", "--reason", "drill").code == 0
    assert cli.on(box, "lockdown", "off", "--reason", "drill over").code == 0
    lines = cli.on(box, "events", "--limit", "2").out.splitlines()
    assert "  Lockdown started by " in lines[0] and lines[0].endswith("command line: drill")
    assert "  Lockdown lifted by " in lines[1] and lines[1].endswith("command line: drill over")
    [lifted] = json_lines(cli.on(box, "events", "--json", "--limit", "1").out)
    assert lifted["kind"] == "mode" and lifted["detail"]["mode"] == "normal"
    assert lifted["text"].startswith("Lockdown lifted by ")  # --json keeps its keys, adds text


@pytest.mark.parametrize("kind", ["grant", "GRANTED", "granted;drop"])
def test_an_unknown_kind_is_a_usage_error_listing_the_kinds(box: Path, cli: Cli, kind: str) -> None:
    result = cli.on(box, "events", "--kind", kind)
    assert_clean_error(result, repr(kind), "granted, ", "denied", code=2)


def test_a_misspelt_kind_gets_a_hint(box: Path, cli: Cli) -> None:
    result = cli.on(box, "events", "--kind", "denied", "--kind", "grant")
    assert_clean_error(result, "unknown event kind 'grant' (did you mean 'granted'?)", code=2)
    assert "'denied'" not in result.err


def test_a_kind_on_record_is_valid_even_if_this_version_does_not_know_it(
    box: Path, cli: Cli
) -> None:
    from appliance.config import load_config
    from appliance.store import EventRecord, Store

    with Store(load_config(box).db_path) as store:
        store.events.append([EventRecord(ts=time.time(), kind="door_ajar", reason="sensor")])
    result = cli.on(box, "events", "--kind", "door_ajar")
    assert result.code == 0 and result.out.rstrip().endswith("  Door ajar: sensor"), result


def test_limit_gives_the_newest_oldest_first(logged: Path, cli: Cli) -> None:
    everything = json_lines(cli.on(logged, "events", "--json", "--limit", "10000").out)
    assert len(everything) == census(logged).events > 3
    last_two = json_lines(cli.on(logged, "events", "--json", "--limit", "2").out)
    assert last_two == everything[-2:]
    assert cli.on(logged, "events", "--limit", "0").out == ""
    kinds = json_lines(cli.on(logged, "events", "--json", "--kind", "denied").out)
    assert [e["kind"] for e in kinds] == ["denied"]


@pytest.mark.parametrize("limit", ["-1", "10001", "ten"])
def test_bad_limit_is_a_usage_error(box: Path, cli: Cli, limit: str) -> None:
    result = cli.on(box, "events", "--limit", limit)
    assert result.code == 2 and "--limit" in result.err and "Traceback" not in result.err


def test_events_need_an_initialised_box(tmp_path: Path, cli: Cli) -> None:
    from appliance.testing.box import write_config

    assert_clean_error(cli.on(write_config(tmp_path), "events"), "doorward init", code=1)


def _lines(proc: subprocess.Popen[str]) -> queue.Queue[str]:
    """Every line the process prints, as it prints it (read on a thread of its own)."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def test_follow_prints_new_events_as_they_happen(box: Path, cli: Cli) -> None:
    proc = subprocess.Popen(
        doorward_cmd("--config", str(box), "events", "--follow", "--json", "--limit", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = _lines(proc)
        newest = json.loads(lines.get(timeout=30))  # the backlog: one event, printed at once
        assert newest["kind"] == "admin"
        fields = ["--format", "H10301", "--facility", "7", "--number", "77", "--serial", "F-1"]
        assert cli.on(box, "card", "add", "--holder", "Ms. Follow", *fields).code == 0
        new = json.loads(lines.get(timeout=10))
        assert new["id"] > newest["id"]
        assert (new["credential"], new["holder"], new["serial"]) == (
            "H10301:7:77",
            "Ms. Follow",
            "F-1",
        )
        assert set(new) >= CONTRACT_FIELDS
        assert proc.poll() is None  # still following
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.stderr is not None
    assert "Traceback" not in proc.stderr.read()


def test_fleet_events_refuse_an_unknown_kind_too(tmp_path: Path, cli: Cli) -> None:
    result = cli("fleet", "--district", str(tmp_path), "events", "--kind", "grant")
    assert_clean_error(result, "'grant' (did you mean 'granted'?)", "fleet_rejected", code=2)
