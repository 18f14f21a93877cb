"""Every example in ``--help`` runs as written: in one order, on a box (and a district) made here.

The examples are read from the real parsers' epilogs; a box's run against a fresh box with its
controller on the mock back-end, the district console's against a district made by ``fleet init``
with a real broker. Each must exit 0, or what its comment says (``# exit 0 healthy ...`` is
documentation, not an expectation).
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.cli import build_parser, main
from tests.test_readme import PARSE_ONLY, Bench, _argv, _parse_only

# The order the examples run in: a fob is issued before it is lost, stolen, returned or reissued.
ORDER = [
    " init",
    "card add",
    "card import",
    "card list",
    " status",
    "lockdown on",
    "lockdown off",
    " unlock",
    " swipe",
    "card stolen",
    "card reissue",
    "card lost",
    "card return",
    "card revoke",
    "agency add",
    "officer add",
    "fob register",
    "fob import",
    "fob issue",
    "fob reassign",
    "officer set-status",
    "fob return",
    "fob lost",
    "fob found",
    "fob stolen",
    "fob list",
    "fob history",
    "fob export",
    "officer list",
    "agency list",
    "officer separate",
    "fob destroy",
]
FOBS_CSV = "format,facility,number,holder,serial,group\nH10301,12,4000,Ms. Kim Lee,KW-0012,staff\n"
REGISTER_CSV = "format,facility,number,serial,agency\nH10301,100,4002,CPD-4002,Casper PD\n"


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in dict.fromkeys(action.choices.values()):
                yield from _parsers(sub)


def help_examples() -> list[str]:
    """Every example command line of every ``--help``, continuations joined, once each."""
    found: list[str] = []
    for parser in _parsers(build_parser()):
        epilog = parser.epilog or ""
        if "examples:" not in epilog:
            continue
        text = epilog.split("examples:", 1)[1].split("\n\n", 1)[0].replace("\\\n", " ")
        for line in text.splitlines():
            line = re.sub(r"\s+", " ", line.strip())
            if line.startswith("doorward ") and line not in found:
                found.append(line)
    return found


def _rank(line: str) -> tuple[bool, int]:
    """The box's examples first, then the district's, each in ORDER."""
    step = next((i for i, key in enumerate(ORDER) if key in line), len(ORDER))
    return line.startswith("doorward fleet"), step


def test_the_help_has_examples_for_the_commands_people_type() -> None:
    lines = help_examples()
    for command in ("card add", "card lost", "card import", "status", "lockdown on", "unlock"):
        assert any(command in line for line in lines), f"no --help example of {command!r}"
    assert any(line.startswith("doorward fleet --district") for line in lines)
    assert PARSE_ONLY  # the same commands as the README's are only parsed


def test_every_help_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fobs.csv").write_text(FOBS_CSV)
    (tmp_path / "register.csv").write_text(REGISTER_CSV)
    bench = Bench(tmp_path, seeded=False)
    try:
        district = ["fleet", "--district", str(tmp_path / "district")]
        broker = bench.district_broker()
        tls = ["--ca-file", "ca.pem", "--cert-file", "console.pem", "--key-file", "console.key"]
        assert main([*district, "init", "--name", "natrona", "--broker", broker, *tls]) == 0
        capsys.readouterr()
        ran = 0
        for line in sorted(help_examples(), key=_rank):
            argv = _argv(line, bench)
            if _parse_only(argv) is not None:
                build_parser().parse_args(argv)
                continue
            code = main(argv)
            out = capsys.readouterr()
            assert code == 0, f"--help example: {line}\nexit {code}\n{out.out}{out.err}"
            ran += 1
        assert ran >= 15
    finally:
        bench.close()
