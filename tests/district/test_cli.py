"""``doorward fleet --district DIR agency|officer|fob ...``: exit codes, --json, publishing."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appliance.district.console import District
from appliance.district.state import VERSION, DistrictStore
from tests.cli.util import Cli, Result

REGISTER = ["fob", "register", "--format", "H10301", "--facility", "100", "--agency", "Casper PD"]


def fleet(cli: Cli, district: District, *argv: str) -> Result:
    return cli("fleet", "--district", str(district.path), *argv)


def ok(cli: Cli, district: District, *argv: str) -> Result:
    result = fleet(cli, district, *argv)
    assert result.code == 0, f"{argv}: {result.err}"
    return result


def version(district: District) -> int:
    with district.store() as store:
        state = DistrictStore(store)
        assert state.unpublished() == []
        return state.meta_int(VERSION)


def statuses(district: District) -> dict[str | None, str]:
    with district.store() as store:
        return {r.serial: r.status.value for r in store.cards.list()}


@pytest.fixture
def staffed(cli: Cli, district: District) -> District:
    ok(cli, district, "agency", "add", "Casper PD", "--kind", "police")
    ok(cli, district, "agency", "add", "Natrona Sheriff", "--kind", "sheriff")
    ok(cli, district, "officer", "add", "Jane Ortiz", "--agency", "Casper PD", "--badge", "4411")
    ok(cli, district, "officer", "add", "Sam Reed", "--agency", "Natrona Sheriff", "--badge", "7")
    for n in (1, 2):
        ok(cli, district, *REGISTER, "--number", str(n), "--serial", f"CPD-{n}")
    return district


def lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.out.splitlines()]


def test_lists_as_json(cli: Cli, staffed: District) -> None:
    agencies = lines(ok(cli, staffed, "agency", "list", "--json"))
    assert [(a["name"], a["kind"], a["officers"]) for a in agencies] == [
        ("Casper PD", "police", 1),
        ("Natrona Sheriff", "sheriff", 1),
    ]
    officers = lines(ok(cli, staffed, "officer", "list", "--agency", "Casper PD", "--json"))
    assert [(o["name"], o["badge"], o["status"], o["fobs"]) for o in officers] == [
        ("Jane Ortiz", "4411", "active", 0)
    ]
    fobs = lines(ok(cli, staffed, "fob", "list", "--json"))
    assert [(f["serial"], f["status"], f["custodian"]) for f in fobs] == [
        ("CPD-1", "returned", None),
        ("CPD-2", "returned", None),
    ]
    assert "CPD-1" in ok(cli, staffed, "fob", "list").out


def test_each_custody_change_is_published(cli: Cli, staffed: District) -> None:
    start = version(staffed)
    issue = ["fob", "issue", "--serial", "CPD-1", "--officer", "Jane Ortiz", "--ack", "JANE ORTIZ"]
    assert "held by Jane Ortiz" in ok(cli, staffed, *issue).out
    assert version(staffed) == start + 1
    assert statuses(staffed)["CPD-1"] == "issued"
    ok(cli, staffed, "fob", "lost", "--serial", "CPD-1", "--reason", "dropped")
    assert version(staffed) == start + 2
    assert statuses(staffed)["CPD-1"] == "lost"
    # the card commands act on the same register
    ok(cli, staffed, "card", "lost", "--serial", "CPD-2")
    assert statuses(staffed)["CPD-2"] == "lost"
    history = ok(cli, staffed, "fob", "history", "--serial", "CPD-1")
    assert "chain of custody intact" in history.err
    assert [line.split()[2] for line in history.out.splitlines()] == [
        "registered",
        "issued",
        "lost",
    ]
    links = lines(ok(cli, staffed, "fob", "history", "--serial", "CPD-1", "--json"))
    assert links[1]["acknowledgement"] == "JANE ORTIZ" and all(r["intact"] for r in links)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (
            ["fob", "issue", "--serial", "CPD-1", "--officer", "Jane Ortiz", "--ack", "J"],
            1,
            "typed",
        ),
        (
            ["fob", "issue", "--serial", "CPD-1", "--officer", "Sam Reed", "--ack", "Sam Reed"],
            1,
            "of Natrona",
        ),
        (["fob", "lost", "--serial", "CPD-9"], 1, "no fob with serial 'CPD-9'"),
        (["fob", "return", "--serial", "CPD-1"], 1, "only a fob an officer holds"),
        (["fob", "issue", "--serial", "CPD-1", "--officer", "Jane Ortiz"], 2, "--ack"),
        (["agency", "add", "Cody FD", "--kind", "navy"], 2, "invalid choice"),
        (["agency", "add", "casper pd", "--kind", "police"], 1, "already on record"),
        (["officer", "add", "Ann", "--agency", "Casper PD", "--badge", "4411"], 1, "already used"),
        (["officer", "list", "--agency", "Nowhere"], 1, "no agency named 'Nowhere'"),
        (["fob", "list", "--status", "gone"], 2, "invalid choice"),
        ([*REGISTER, "--number", "1", "--serial", "CPD-3"], 1, "already on record"),
    ],
)
def test_refusals_exit_1_or_2_and_change_nothing(
    cli: Cli, staffed: District, argv: list[str], code: int, message: str
) -> None:
    before = (version(staffed), statuses(staffed))
    result = fleet(cli, staffed, *argv)
    assert (result.code, message in result.err) == (code, True), result.err
    assert (version(staffed), statuses(staffed)) == before


def test_separate_asks_then_revokes_every_fob_at_every_box(
    cli: Cli, staffed: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in (1, 2):
        ack = ["--officer", "Jane Ortiz", "--ack", "Jane Ortiz"]
        ok(cli, staffed, "fob", "issue", "--serial", f"CPD-{n}", *ack)
    start = version(staffed)
    asked: list[str] = []

    def answer_no(question: str) -> str:
        asked.append(question)
        return "n"

    monkeypatch.setattr("builtins.input", answer_no)
    result = fleet(cli, staffed, "officer", "separate", "Jane Ortiz")
    assert result.code == 1 and "nothing changed" in result.err
    assert asked == ["separate officer Jane Ortiz and revoke their 2 fob(s) at every box? [y/N] "]
    assert statuses(staffed) == {"CPD-1": "issued", "CPD-2": "issued"}
    monkeypatch.setattr("builtins.input", lambda q: "y")
    result = ok(cli, staffed, "officer", "separate", "Jane Ortiz", "--reason", "retired")
    assert "2 fob(s) revoked at every box" in result.out
    assert statuses(staffed) == {"CPD-1": "revoked", "CPD-2": "revoked"}
    assert version(staffed) == start + 1  # one change for both fobs
    officers = lines(ok(cli, staffed, "officer", "list", "--status", "separated", "--json"))
    assert [o["name"] for o in officers] == ["Jane Ortiz"]


def test_destroy_asks_unless_yes(
    cli: Cli, staffed: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_answer(question: str) -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", no_answer)
    assert fleet(cli, staffed, "fob", "destroy", "--serial", "CPD-1").code == 1
    assert statuses(staffed)["CPD-1"] == "returned"
    assert "destroyed" in ok(cli, staffed, "fob", "destroy", "--serial", "CPD-1", "--yes").out
    refused = fleet(cli, staffed, "fob", "issue", "--serial", "CPD-1", "--officer", "Jane Ortiz",
                    "--ack", "Jane Ortiz")  # fmt: skip
    assert refused.code == 1 and "never used again" in refused.err


def test_history_of_a_tampered_chain_exits_1(cli: Cli, staffed: District) -> None:
    conn = sqlite3.connect(staffed.data_dir / "doorward.db")
    try:
        conn.execute("DROP TRIGGER district_custody_no_update")
        conn.execute("UPDATE district_custody SET actor = 'mallory' WHERE serial = 'CPD-1'")
        conn.commit()
    finally:
        conn.close()
    result = fleet(cli, staffed, "fob", "history", "--serial", "CPD-1")
    assert result.code == 1 and "NOT intact" in result.err and "TAMPERED" in result.out
    assert ok(cli, staffed, "fob", "history", "--serial", "CPD-2").code == 0


def test_import_and_export(cli: Cli, staffed: District, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "format,facility,number,serial,agency\nH10301,100,5,,Casper PD\nH10301,1,x,A,B\n"
    )
    result = fleet(cli, staffed, "fob", "import", str(bad))
    assert result.code == 2
    assert f"{bad}:2: serial is empty" in result.err_lines
    assert any(line.startswith(f"{bad}:3: ") for line in result.err_lines)
    good = tmp_path / "good.csv"
    good.write_text("format,facility,number,serial,agency\nH10301,100,5,NSO-5,Natrona Sheriff\n")
    start = version(staffed)
    assert "registered 1 fob(s)" in ok(cli, staffed, "fob", "import", str(good)).out
    assert version(staffed) == start + 1
    out = tmp_path / "out.csv"
    ok(cli, staffed, "fob", "export", "-o", str(out))
    text = out.read_text()
    assert (
        text.splitlines()[0]
        == "format,facility,number,serial,agency,group,status,custodian,badge,since"
    )
    assert "NSO-5,Natrona Sheriff,responders,returned" in text
