"""The ``doorward`` command: one entry point for installers, operators and the district's scripts.

Bad input gets one line on stderr saying what was wrong, a non-zero exit, and changes nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from appliance import __version__
from appliance.config import ConfigError
from appliance.control import ControlError
from appliance.hw import HardwareError
from appliance.store import StoreError
from appliance.wiegand.formats import WiegandError

EPILOG = """\
examples:
  doorward --config /var/lib/doorward/doorward.toml init
  doorward --config /var/lib/doorward/doorward.toml card add --format H10301 --facility 12 \\
           --number 3456 --holder "Officer Jane Ortiz" --serial CPD-0042 --group responders
  doorward --config /var/lib/doorward/doorward.toml card lost --serial CPD-0042
  doorward --config /var/lib/doorward/doorward.toml lockdown on --reason "police request"
  doorward --config /var/lib/doorward/doorward.toml events --follow
  doorward --config /var/lib/doorward/doorward.toml status    # exit 0 healthy, 1 degraded, 3 down
  doorward demo    # the box on simulated hardware, with a seeded district

A box keeps its config at /var/lib/doorward/doorward.toml; it can also be given as
$DOORWARD_CONFIG. Each command has its own --help.
"""


class UsageError(Exception):
    """Bad input on the command line (exit status 2)."""


Handler = Callable[[argparse.Namespace], int]


def build_parser(
    parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser,
) -> argparse.ArgumentParser:
    """The whole command tree (every level built with ``parser_class``)."""
    from appliance.cli import agent, cards, demo, door, events, provision, web
    from appliance.district import cli as district

    parser = parser_class(
        prog="doorward",
        description="Doorward: the controller, card store and audit log of one school door.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config", metavar="PATH", help="the box's TOML config (default: $DOORWARD_CONFIG)"
    )
    if parser.add_help:  # the lenient copy that looks for misspelt options has neither
        parser.add_argument("--version", action="version", version=f"doorward {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debugging detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    door.register(sub)
    cards.register(sub)
    events.register(sub)
    demo.register(sub)
    web.register(sub)
    provision.register(sub)
    district.register(sub)  # the district console (``fleet --district DIR``)
    agent.register(sub)  # this box's side of the fleet
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit status."""
    from appliance.cli.parsing import parse

    try:
        args = parse(build_parser, sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:  # --help, --version or a usage error: argparse has said why
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        # Alembic narrates every init at INFO; an installer's script wants stderr for problems.
        logging.getLogger("alembic").setLevel(logging.WARNING)
    handler: Handler = args.handler
    try:
        return handler(args)
    except BrokenPipeError:
        # e.g. `doorward events --follow | head`: the reader left, which is not an error to report
        _silence_stdout()
        return 141
    except (UsageError, ConfigError, WiegandError, ValueError) as exc:
        _error(exc)
        return 2
    except (StoreError, ControlError, HardwareError, RuntimeError, OSError) as exc:
        _error(exc)
        return 1
    except KeyboardInterrupt:
        return 130


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # not a real file (e.g. captured in a test)
        pass


def _error(exc: BaseException) -> None:
    for line in str(exc).splitlines() or [type(exc).__name__]:
        print(f"doorward: error: {line}", file=sys.stderr)


def config_path(args: argparse.Namespace) -> Path | None:
    """The --config given, if any (else $DOORWARD_CONFIG is used)."""
    return Path(args.config) if args.config else None


if __name__ == "__main__":
    raise SystemExit(main())
