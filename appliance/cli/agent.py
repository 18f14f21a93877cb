"""``doorward fleet-agent``: this box's link to its district, beside the controller."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from appliance.cli.common import load


def register(sub: Any) -> None:
    """Add ``fleet-agent`` to the parser."""
    a = sub.add_parser("fleet-agent", help="this box's link to its district (until SIGTERM)")
    a.set_defaults(handler=cmd_agent)


def cmd_agent(args: argparse.Namespace) -> int:
    from appliance.fleet.agent import Agent

    agent = Agent(load(args))
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    agent.run()
    return 0


__all__ = ["register"]
