"""What the commands share: the config, the store, telling a running controller about a change."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.config import Config, load_config
from appliance.control import CLI_APPLY_TIMEOUT, PROBE_TIMEOUT, Control, ControlError
from appliance.store import Store

APPLY_SECONDS = CLI_APPLY_TIMEOUT  # by design a change reaches the controller within 1 s
BOX_CONFIG = "/var/lib/doorward/doorward.toml"  # where a box keeps its config (the data partition)


def examples(*commands: str, note: str = "") -> dict[str, Any]:
    """``add_parser`` keywords for an epilog of example command lines (each after ``doorward``).

    An example may end in ``  # what it does`` and break its line at a newline (shown with a
    backslash); tests parse every one with the real parser.
    """
    lines = [f"  doorward {command}".replace("\n", " \\\n           ") for command in commands]
    epilog = "examples:\n" + "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")
    return {"epilog": epilog, "formatter_class": argparse.RawDescriptionHelpFormatter}


def load(args: argparse.Namespace) -> Config:
    """The box's config, named by --config or $DOORWARD_CONFIG."""
    return load_config(Path(args.config) if args.config else None)


def open_store(config: Config) -> Store:
    """The box's store; says to run ``init`` if the database is not there yet."""
    if not config.db_path.exists():
        raise RuntimeError(f"no database at {config.db_path}: run 'doorward init' first")
    return Store(config.db_path)


def actor() -> str:
    """Who is making a change from the command line (for the audit log)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"cli:{user}"


def notify(config: Config, rev: int | None = None) -> bool:
    """Wake a running controller so a change applies at once (it notices within 1 s anyway).

    With ``rev`` (the store's change counter after the change), wait until the controller's view
    has caught up, so a revocation has taken effect at the door when the command exits. Returns
    whether a running controller has (or, without ``rev``, was told about) the change.
    """
    try:
        applied = Control(config.data_dir, timeout=PROBE_TIMEOUT).refresh(
            wait_for_rev=rev, timeout=APPLY_SECONDS
        )
    except ControlError:
        return False
    if not applied:
        print(
            f"doorward: warning: the change is stored, but the running controller has not "
            f"applied it within {APPLY_SECONDS:g} s: check 'doorward status'",
            file=sys.stderr,
        )
    return applied


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        value = positive_int(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} must be from {low} to {high}")
        return value

    return parse


def paging(p: argparse.ArgumentParser) -> None:
    """A list command's --limit (1 to 10000, default 100) and --offset."""
    p.add_argument("--limit", type=bounded_int(1, 10_000), default=100, help="1 to 10000")
    p.add_argument("--offset", type=positive_int, default=0)


BACKGROUND_NICE = 10


def yield_to_the_door() -> None:
    """Lower this process's CPU priority: the admin page and bulk work must never delay a door.

    Lowering is always allowed (raising the controller's would need privileges it does not have).
    """
    with contextlib.suppress(OSError):  # already as low as it goes
        os.nice(BACKGROUND_NICE)
