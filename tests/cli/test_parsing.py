"""Parsing: a misspelt option is named first, and every example in --help parses."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator

import pytest

from appliance.cli import build_parser
from tests.cli.util import Cli


def _levels(
    parser: argparse.ArgumentParser, words: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser in the tree with the command words that reach it."""
    yield words, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _levels(sub, (*words, name))


LEVELS = list(_levels(build_parser()))
LEAVES = [
    words
    for words, p in LEVELS
    if words and not any(isinstance(a, argparse._SubParsersAction) for a in p._actions)
]


@pytest.mark.parametrize("words", LEAVES, ids=" ".join)
def test_every_command_names_an_unknown_option(cli: Cli, words: tuple[str, ...]) -> None:
    result = cli(*words, "--zzz-nonsense")
    assert result.code == 2, result
    assert "unknown option --zzz-nonsense" in result.err_lines[-1], result.err
    assert "are required" not in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(
    ("argv", "wrong", "meant"),
    [
        (["card", "revoke", "--serail", "CPD-1"], "--serail", "--serial"),
        (["card", "lost", "--serail", "CPD-1"], "--serail", "--serial"),
        (["card", "add", "--format", "H1", "--numbr", "3", "--holder", "X"], "--numbr", "--number"),
        (["card", "add", "--facility", "abc", "--holdr", "X"], "--holdr", "--holder"),
        (["lockdown", "--reasn", "drill"], "--reasn", "--reason"),
        (["unlock", "--reasn", "delivery"], "--reasn", "--reason"),
        (["status", "--jsn"], "--jsn", "--json"),
        (["events", "--folow"], "--folow", "--follow"),
        (["fleet", "revoke", "--serail", "CPD-1"], "--serail", "--serial"),
        (["--config", "x.toml", "card", "revoke", "--serail=CPD-1"], "--serail", "--serial"),
    ],
)
def test_a_misspelt_option_is_reported_first_with_the_close_match(
    cli: Cli, argv: list[str], wrong: str, meant: str | None
) -> None:
    result = cli(*argv)
    assert result.code == 2, result
    last = result.err_lines[-1]
    assert f"unknown option {wrong}" in last, result.err
    if meant is not None:
        assert f"did you mean {meant}?" in last, last
    assert "are required" not in result.err and "invalid" not in result.err
    assert result.out == ""


def test_a_top_level_option_after_the_command_says_where_it_goes(cli: Cli) -> None:
    result = cli("card", "list", "--config", "x.toml")
    assert result.code == 2
    assert "--config goes before the command: doorward --config ... card list" in result.err


def test_without_an_unknown_option_the_real_error_is_reported(cli: Cli) -> None:
    missing = cli("card", "add", "--format", "H10301")
    assert missing.code == 2 and "the following arguments are required" in missing.err
    bad_value = cli("card", "list", "--limit", "0")
    assert bad_value.code == 2 and "'0' must be from 1 to 10000" in bad_value.err
    assert "unknown option" not in missing.err + bad_value.err


def _help_texts() -> Iterator[tuple[str, str]]:
    for words, parser in LEVELS:
        yield " ".join(("doorward", *words)), parser.format_help()


def test_no_help_text_names_etc_doorward_toml() -> None:
    for where, text in _help_texts():
        assert "/etc/doorward.toml" not in text, where


def _examples(epilog: str) -> Iterator[str]:
    """The command lines in an epilog: ``doorward ...``, continued after a trailing backslash."""
    lines = iter(epilog.splitlines())
    for line in lines:
        if line.strip().startswith("doorward "):
            command = line.strip()
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
            yield command


def test_every_example_in_help_parses_with_the_real_parser() -> None:
    parser = build_parser()
    found = 0
    for words, level in LEVELS:
        for example in _examples(level.epilog or ""):
            argv = shlex.split(example, comments=True)
            assert argv[0] == "doorward", example
            try:
                parser.parse_args(argv[1:])
            except SystemExit as exc:  # pragma: no cover - the message says which one failed
                raise AssertionError(f"{' '.join(words)}: {example!r} does not parse") from exc
            found += 1
    assert found >= 10  # the top level's and those of the commands people use most


def test_a_lost_fob_is_taught_as_card_lost(cli: Cli) -> None:
    top = cli("--help").out
    assert "card lost --serial" in top and "card revoke --serial CPD-0042 --reason" not in top
