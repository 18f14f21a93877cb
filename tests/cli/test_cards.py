"""``doorward card``: add, revoke and the other status changes, list; bad input changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.store import Store
from appliance.testing.district import add_district_card
from tests.cli.util import Cli, assert_clean_error, census

ADD = ["card", "add", "--holder", "Officer Jane Ortiz"]


def card(config: Path, serial: str) -> tuple[str, str, str, str]:
    """(credential, status, group, holder) of the card with ``serial``."""
    with Store(load_config(config).db_path) as store:
        row = store.cards.get(serial=serial)
    assert row is not None
    return row.credential, row.status.value, row.group, row.holder


@pytest.mark.parametrize(
    ("fields", "credential"),
    [
        (["--format", "H10301", "--facility", "12", "--number", "3456"], "H10301:12:3456"),
        (["--format", "h10306", "--facility", "65535", "--number", "65535"], "H10306:65535:65535"),
        (
            ["--format", "c1k35s", "--facility", "4095", "--number", "1048575"],
            "C1K35S:4095:1048575",
        ),
        (["--format", "H10304", "--facility", "0", "--number", "524287"], "H10304:0:524287"),
        (["--format", "H10302", "--number", "34359738367"], "H10302:34359738367"),
        (["--format", "C1K48S", "--facility", "4194303", "--number", "1"], "C1K48S:4194303:1"),
    ],
)
def test_add_each_format(box: Path, cli: Cli, fields: list[str], credential: str) -> None:
    result = cli.on(box, *ADD, *fields, "--serial", "CPD-0042")
    assert result.code == 0, result.err
    assert result.out == f"added {credential} for Officer Jane Ortiz (serial CPD-0042)\n"
    assert card(box, "CPD-0042") == (credential, "issued", "staff", "Officer Jane Ortiz")


def test_add_to_a_group_and_list(box: Path, cli: Cli) -> None:
    fields = ["--format", "H10301", "--facility", "100", "--number", "1001"]
    result = cli.on(box, *ADD, *fields, "--serial", "CPD-1", "--group", "responders")
    assert result.code == 0, result.err
    assert (
        cli.on(box, *ADD, "--format", "H10301", "--facility", "100", "--number", "1002").code == 0
    )
    assert card(box, "CPD-1")[2] == "responders"
    listing = cli.on(box, "card", "list").out.splitlines()
    assert listing[0].split() == ["CREDENTIAL", "SERIAL", "STATUS", "GROUP", "SOURCE", "HOLDER"]
    rows = {line.split()[0]: line.split() for line in listing[1:]}
    assert rows["H10301:100:1001"][:4] == ["H10301:100:1001", "CPD-1", "issued", "responders"]
    assert rows["H10301:100:1002"][:5] == ["H10301:100:1002", "-", "issued", "staff", "local"]
    assert cli.on(box, "card", "list", "--search", "CPD-1").out.count("\n") == 2


@pytest.mark.parametrize(
    ("fields", "code", "needle"),
    [
        (["--format", "H99999", "--facility", "1", "--number", "1"], 2, "unknown Wiegand format"),
        (["--format", "H10301", "--facility", "256", "--number", "1"], 2, "facility 256"),
        (["--format", "H10301", "--facility", "1", "--number", "65536"], 2, "65536"),
        (["--format", "H10302", "--facility", "1", "--number", "5"], 2, "no facility"),
        (["--format", "H10301", "--number", "5"], 2, "facility"),
        (["--format", "H10301", "--facility", "1", "--number", "5", "--group", "nope"], 1, "nope"),
        (["--format", "H10301", "--facility", "1", "--number", "5", "--pin", "12"], None, "PIN"),
        (["--format", "H10301", "--facility", "1", "--number", "5", "--serial", " "], 2, "serial"),
    ],
)
def test_add_refuses_bad_input(
    box: Path, cli: Cli, fields: list[str], code: int | None, needle: str
) -> None:
    before = census(box)
    result = cli.on(box, *ADD, *fields)
    assert_clean_error(result, needle, code=code)
    assert len(result.err_lines) == 1
    assert census(box) == before


@pytest.mark.parametrize(
    "fields",
    [
        ["--format", "H10301", "--facility", "-1", "--number", "1"],
        ["--format", "H10301", "--facility", "1", "--number", "x"],
        ["--format", "H10301", "--facility", "1"],  # no --number
        ["--facility", "1", "--number", "1"],  # no --format
    ],
)
def test_add_argument_errors_are_usage_errors(box: Path, cli: Cli, fields: list[str]) -> None:
    before = census(box)
    result = cli.on(box, *ADD, *fields)
    assert result.code == 2 and "error:" in result.err and "Traceback" not in result.err
    assert census(box) == before


def test_add_duplicate_serial_and_duplicate_card(box: Path, cli: Cli) -> None:
    first = ["--format", "H10301", "--facility", "1", "--number", "5", "--serial", "S-1"]
    assert cli.on(box, *ADD, *first).code == 0
    before = census(box)
    other = ["--format", "H10301", "--facility", "1", "--number", "6", "--serial", "S-1"]
    assert_clean_error(cli.on(box, *ADD, *other), "serial 'S-1' is already used")
    same_card = ["--format", "H10301", "--facility", "1", "--number", "5"]
    assert_clean_error(cli.on(box, *ADD, *same_card), "H10301:1:5")
    assert census(box) == before


@pytest.fixture
def issued(box: Path, cli: Cli) -> Path:
    """A box with one card, serial CPD-0042 (H10301:12:3456), and one without a serial."""
    fields = ["--format", "H10301", "--facility", "12", "--number", "3456", "--serial", "CPD-0042"]
    assert cli.on(box, *ADD, *fields).code == 0
    fields = ["--format", "H10302", "--number", "777"]
    assert cli.on(box, "card", "add", "--holder", "Mr. Cole", *fields).code == 0
    return box


def test_revoke_by_serial_with_reason(issued: Path, cli: Cli) -> None:
    result = cli.on(issued, "card", "revoke", "--serial", "CPD-0042", "--reason", "reported lost")
    assert result.code == 0, result.err
    assert result.out == "H10301:12:3456 (Officer Jane Ortiz): revoked\n"
    assert card(issued, "CPD-0042")[1] == "revoked"
    with Store(load_config(issued).db_path) as store:
        event = store.events.query(limit=1)[0]
    assert (event.kind, event.reason, event.serial) == ("admin", "reported lost", "CPD-0042")
    assert event.actor is not None and event.actor.startswith("cli:")


def test_revoke_by_card_fields(issued: Path, cli: Cli) -> None:
    by_card = ["card", "revoke", "--format", "h10301", "--facility", "12", "--number", "3456"]
    assert cli.on(issued, *by_card).code == 0
    assert card(issued, "CPD-0042")[1] == "revoked"
    no_facility = ["card", "revoke", "--format", "H10302", "--number", "777"]
    result = cli.on(issued, *no_facility)
    assert result.code == 0 and "H10302:777 (Mr. Cole): revoked" in result.out


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["--serial", "NOPE"], 1, "no credential with serial 'NOPE'"),
        (["--format", "H10301", "--facility", "12", "--number", "9"], 1, "H10301:12:9"),
        ([], 2, "either --serial"),
        (["--serial", "CPD-0042", "--format", "H10301", "--number", "1"], 2, "either --serial"),
        (["--format", "H10301", "--facility", "12"], 2, "--number"),
        (["--format", "H10302", "--facility", "1", "--number", "777"], 2, "no facility"),
        (["--format", "ZZZ", "--number", "1"], 2, "unknown Wiegand format"),
    ],
)
def test_revoke_refuses_bad_input(
    issued: Path, cli: Cli, argv: list[str], code: int, needle: str
) -> None:
    before = census(issued)
    assert_clean_error(cli.on(issued, "card", "revoke", *argv), needle, code=code)
    assert census(issued) == before
    assert card(issued, "CPD-0042")[1] == "issued"


@pytest.mark.parametrize("action", ["lost", "stolen", "return", "revoke"])
def test_status_changes_and_reissue(issued: Path, cli: Cli, action: str) -> None:
    status = {"return": "returned", "revoke": "revoked"}.get(action, action)
    result = cli.on(issued, "card", action, "--serial", "CPD-0042")
    assert result.code == 0, result.err
    assert card(issued, "CPD-0042")[1] == status
    listed = cli.on(issued, "card", "list", "--status", status).out
    assert "CPD-0042" in listed
    back = cli.on(issued, "card", "reissue", "--serial", "CPD-0042", "--reason", "found")
    assert back.code == 0 and card(issued, "CPD-0042")[1] == "issued"


def test_card_list_refuses_a_bad_status(issued: Path, cli: Cli) -> None:
    result = cli.on(issued, "card", "list", "--status", "misplaced")
    assert result.code == 2 and "invalid choice" in result.err


@pytest.fixture
def district_card(box: Path) -> Path:
    """A box with one district card, H10301:12:7001 (serial PD-1), as the fleet agent writes it."""
    with Store(load_config(box).db_path) as store:
        add_district_card(store, 7001, "Ofc. Diaz", serial="PD-1")
    return box


@pytest.mark.parametrize("action", ["lost", "stolen", "return", "revoke", "reissue"])
@pytest.mark.parametrize(
    "selector",
    [["--serial", "PD-1"], ["--format", "H10301", "--facility", "12", "--number", "7001"]],
)
def test_status_of_a_district_card_is_refused(
    district_card: Path, cli: Cli, action: str, selector: list[str]
) -> None:
    before = census(district_card)
    result = cli.on(district_card, "card", action, *selector, "--reason", "found it")
    assert_clean_error(
        result, "H10301:12:7001", "comes from the district list", "district console", code=1
    )
    assert census(district_card) == before
    assert card(district_card, "PD-1")[1] == "issued"


def test_enrolling_over_a_district_card_is_refused(district_card: Path, cli: Cli) -> None:
    before = census(district_card)
    fields = ["--format", "H10301", "--facility", "12", "--number", "7001"]
    assert_clean_error(cli.on(district_card, *ADD, *fields), "from the district list", code=1)
    assert census(district_card) == before


def test_list_shows_where_a_card_came_from(district_card: Path, cli: Cli) -> None:
    [row] = cli.on(district_card, "card", "list").out.splitlines()[1:]
    assert row.split()[:5] == ["H10301:12:7001", "PD-1", "issued", "responders", "district"]
