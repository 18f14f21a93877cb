"""What the commands share: the config, the store, telling a running controller about a change."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from appliance.config import Config, load_config
from appliance.controller import control
from appliance.store import Store


def load(args: argparse.Namespace) -> Config:
    """The config named by --config or $DOORWARD_CONFIG."""
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


def notify(config: Config) -> bool:
    """Wake a running controller so a change applies at once (it notices within 1 s anyway)."""
    try:
        control.request(config.data_dir, "refresh", timeout=1.0)
    except control.ControlError:
        return False
    return True


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 0."""
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must not be negative")
    return value
