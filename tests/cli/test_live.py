"""Commands against a running controller: swipe, lockdown, hold, unlock, status."""

from __future__ import annotations

import json
from pathlib import Path

from appliance.testing.box import decision, mock, running_box
from appliance.wiegand.formats import encode
from tests.cli.util import SWIPE_INTERVAL, Cli, assert_clean_error, census

RESPONDER = ["--format", "H10301", "--facility", "100", "--number", "1001"]
STAFF = ["--format", "h10301", "--facility", "12", "--number", "3456"]
LOST = ["--format", "H10301", "--facility", "100", "--number", "1003"]


def swipe(cli: Cli, config: Path, card: list[str]) -> str:
    result = cli.on(config, "swipe", *card, *SWIPE_INTERVAL)
    assert result.code == 0, result.err
    first, second = result.out.splitlines()
    assert first.startswith("presented ")
    return second


def test_swipe_prints_the_decision_and_the_holder(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (_, events, _):
        assert swipe(cli, config, RESPONDER) == "granted  H10301:100:1001  Officer Ortiz [CPD-1]"
        assert swipe(cli, config, STAFF) == "granted  H10301:12:3456  Ms. Shah [KW-1]"
        lost = swipe(cli, config, LOST)
        assert lost == "denied (lost)  H10301:100:1003  Officer Becker [CPD-3]"
        unknown = ["--format", "H10301", "--facility", "55", "--number", "999"]
        assert swipe(cli, config, unknown) == "denied (unknown card)  H10301:55:999"
        events.wait(decision("denied", "H10301:55:999"))


def test_swipe_refuses_bad_cards_before_reaching_the_door(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (_, events, _):
        mark = events.mark()
        for card, needle in (
            (["--format", "H10301", "--facility", "256", "--number", "1"], "facility 256"),
            (["--format", "H10302", "--facility", "1", "--number", "1"], "no facility"),
            (["--format", "X1", "--number", "1"], "unknown Wiegand format"),
            (["--facility", "1", "--number", "1"], "--format and --number"),
            (["--bits", "0120"], "'bits'"),
        ):
            result = cli.on(config, "swipe", *card)
            assert result.code != 0 and needle in result.err, (card, result)
            assert "Traceback" not in result.err
        assert [r.kind for r in events.records[mark:]] == []


def test_swipe_with_no_controller_running(box: Path, cli: Cli) -> None:
    before = census(box)
    result = cli.on(box, "swipe", *RESPONDER)
    assert_clean_error(result, "no controller is running", "doorward run", code=1)
    assert census(box) == before


def test_lockdown_denies_staff_and_lets_responders_in(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (c, _, _):
        on = cli.on(config, "lockdown", "on", "--reason", "police request")
        assert on.code == 0, on.err
        assert on.out == "door mode: lockdown (in force at the door)\n"
        assert c.door.mode.value == "lockdown"  # confirmed before the command returned
        assert swipe(cli, config, STAFF) == "denied (lockdown)  H10301:12:3456  Ms. Shah [KW-1]"
        assert swipe(cli, config, RESPONDER).startswith("granted  H10301:100:1001")
        status = json.loads(cli.on(config, "status", "--json").out)
        assert status["mode"] == "lockdown"
        off = cli.on(config, "lockdown", "off")
        assert off.code == 0 and off.out == "door mode: normal (in force at the door)\n"
        assert swipe(cli, config, STAFF).startswith("granted  H10301:12:3456")
    modes = cli.on(config, "events", "--json", "--kind", "mode").out.splitlines()
    assert [json.loads(line)["reason"] for line in modes][-2:] == [
        "police request",
        "lockdown lifted from the command line",
    ]


def test_hold_on_and_off(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (c, _, _):
        result = cli.on(config, "hold", "on", "--reason", "open house")
        assert result.code == 0 and "held_unlocked (in force at the door)" in result.out
        assert c.door.mode.value == "held_unlocked" and not c.door.locked
        assert cli.on(config, "hold", "off").code == 0
        assert c.door.mode.value == "normal" and c.door.locked


def test_unlock_once(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (_, events, _):
        result = cli.on(config, "unlock", "--reason", "delivery")
        assert result.code == 0 and result.out == "door unlocked once\n"
        rec = events.wait(lambda r: r.kind == "unlock")
        assert rec.reason == "delivery" and rec.actor and rec.actor.startswith("cli:")
        events.wait(lambda r: r.kind == "unlocked")
        long_reason = cli.on(config, "unlock", "--reason", "x" * 201)
        assert_clean_error(long_reason, "'reason'", code=1)


def test_status_of_a_running_controller(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as (c, events, _):
        mock(c).play(encode("H10301", 1001, 100), realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        status = json.loads(cli.on(config, "status", "--json").out)
        assert status["door"] == "Front entrance" and status["backend"] == "mock"
        assert status["mode"] == "normal" and status["degraded"] is False
        assert status["credentials_loaded"] == 4
        assert "controller" not in status  # it is running
        table = cli.on(config, "status").out
        assert "Door:         Front entrance" in table and "Mode:         normal" in table
        assert "Cards:        4 credentials loaded" in table


def test_a_card_added_from_the_cli_opens_the_running_door(tmp_path: Path, cli: Cli) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path) as _:
        new = ["--format", "H10306", "--facility", "300", "--number", "4000"]
        added = cli.on(config, "card", "add", "--holder", "Deputy Cruz", "--serial", "D-1", *new)
        assert added.code == 0, added.err
        assert swipe(cli, config, new) == "granted  H10306:300:4000  Deputy Cruz [D-1]"
        assert cli.on(config, "card", "revoke", "--serial", "D-1").code == 0
        assert swipe(cli, config, new).startswith("denied (revoked)")


def test_swipe_of_something_not_a_card_says_what_the_reader_took_it_for(
    tmp_path: Path, cli: Cli
) -> None:
    config = tmp_path / "doorward.toml"
    with running_box(tmp_path):
        result = cli.on(config, "swipe", "--bits", "0101")
        assert result.code == 0, result.err
        assert result.out.splitlines()[1] == (
            "the reader did not take it as a card: a frame too short for a card"
        )
