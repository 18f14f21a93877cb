"""Command-line parsing that names a misspelt option before anything else it finds wrong.

argparse reports missing required arguments (or a bad value) before unrecognized ones, so
``card revoke --serail X`` would only say that ``--serial`` or ``--format`` is missing. Here any
parse error first looks for options the command does not know, and reports those with the
closest real one.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

Builder = Callable[[type["DoorwardParser"]], argparse.ArgumentParser]


class ParseError(Exception):
    """A usage error found by ``parser`` (raised instead of argparse's exit)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class DoorwardParser(argparse.ArgumentParser):
    """An ArgumentParser that raises ParseError instead of exiting on a usage error."""

    def error(self, message: str) -> NoReturn:
        raise ParseError(self, message)


class _LenientParser(DoorwardParser):
    """The same tree with nothing required and no help: only to find unknown options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)


def parse(build: Builder, argv: Sequence[str]) -> Any:
    """Parse ``argv`` with the tree ``build`` makes; on a usage error print it and exit 2."""
    parser = build(DoorwardParser)
    try:
        return parser.parse_args(argv)
    except ParseError as exc:
        unknown = _unknown_options(build, argv)
        if unknown:
            where = _chain(parser, argv)
            _fail(where[-1], "; ".join(_describe(token, where) for token in unknown))
        _fail(exc.parser, exc.message)


def _fail(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    parser.print_usage(sys.stderr)
    print(f"{parser.prog}: error: {message}", file=sys.stderr)
    raise SystemExit(2)


def _unknown_options(build: Builder, argv: Sequence[str]) -> list[str]:
    """The options in ``argv`` that its command does not take (none if that cannot be told)."""
    lenient = build(_LenientParser)
    _relax(lenient)
    try:
        _, extras = lenient.parse_known_args(argv)
    except ParseError:  # e.g. an unknown command: the real error says it best
        return []
    return [
        token
        for token in extras
        if token.startswith("-") and token not in ("-h", "--help") and token != "-"
    ]


def _relax(parser: argparse.ArgumentParser) -> None:
    """Nothing required, no types or choices: what is left to fail is an unknown option."""
    for group in parser._mutually_exclusive_groups:
        group.required = False
    for action in parser._actions:
        action.required = False
        action.type = None
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                _relax(sub)
            continue
        action.choices = None
        if not action.option_strings and action.nargs in (None, "+"):
            action.nargs = "?" if action.nargs is None else "*"


def _chain(parser: argparse.ArgumentParser, argv: Sequence[str]) -> list[argparse.ArgumentParser]:
    """The parser of each command level named in ``argv``: doorward, card, card revoke."""
    chain = [parser]
    for token in argv:
        subs = [a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)]
        if subs and token in subs[0].choices:
            chain.append(subs[0].choices[token])
    return chain


def _options(parser: argparse.ArgumentParser) -> list[str]:
    return [s for s in parser._option_string_actions if s.startswith("--")]


def _describe(token: str, chain: list[argparse.ArgumentParser]) -> str:
    """``unknown option --serail (did you mean --serial?)``."""
    name = token.split("=", 1)[0]
    here = chain[-1]
    for outer in chain[:-1]:
        if name in outer._option_string_actions and name not in here._option_string_actions:
            return f"{name} goes before the command: {outer.prog} {name} ... {_tail(outer, here)}"
    close = difflib.get_close_matches(name, _options(here), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]}?)" if close else f" (see {here.prog} --help)"
    return f"unknown option {name}{hint}"


def _tail(outer: argparse.ArgumentParser, inner: argparse.ArgumentParser) -> str:
    """``card revoke``: the command words from ``outer`` down to ``inner``."""
    return inner.prog.removeprefix(outer.prog).strip()
