"""``doorward events``: the audit log, as a table or JSON lines, optionally followed live."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from typing import Any

from appliance.cli import UsageError
from appliance.cli.common import bounded_int, load, open_store
from appliance.core import event_wire
from appliance.core.describe import sentence
from appliance.core.event_kinds import unknown_kinds
from appliance.store import EventRow

MAX_EVENTS = 10_000  # the store's most per query


def register(sub: Any) -> None:
    """Add the events command to the parser."""
    p = sub.add_parser("events", help="the audit log: reads, door events, alarms, changes")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing new events")
    p.add_argument(
        "--limit",
        type=bounded_int(0, MAX_EVENTS),
        default=20,
        help=f"how many recent events, 0 to {MAX_EVENTS} (default 20; 0 with --follow: only new)",
    )
    p.add_argument(
        "--kind", action="append", dest="kinds", help="only this kind, e.g. granted (repeat)"
    )
    p.add_argument("--serial", help="only this fob's events")
    p.set_defaults(handler=cmd_events)


def event_json(event: EventRow) -> dict[str, Any]:
    """An event as the contract's JSON object (``event_wire.view``: local time, ISO 8601)."""
    return event_wire.view(event)


def event_line(event: EventRow) -> str:
    """An event as one line for people: local time, then what happened as a sentence."""
    when = event.ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    return f"{when}  {sentence(event)}"


def _print(events: Sequence[EventRow], as_json: bool) -> None:
    for event in events:
        print(json.dumps(event_json(event)) if as_json else event_line(event), flush=True)


def cmd_events(args: argparse.Namespace) -> int:
    config = load(args)
    with open_store(config) as store:
        if args.kinds:
            # A misspelt kind would match nothing and exit 0: say so, listing the kinds.
            problem = unknown_kinds(args.kinds, store.events.kinds())
            if problem:
                raise UsageError(problem)
        recent = (
            store.events.query(limit=args.limit, kinds=args.kinds, serial=args.serial)
            if args.limit
            else []
        )
        recent = list(reversed(recent))  # oldest first, like a log
        _print(recent, args.json)
        last = recent[-1].id if recent else _newest_id(store)
        while args.follow:
            time.sleep(0.2)
            new = store.events.query(
                after_id=last, kinds=args.kinds, serial=args.serial, newest_first=False, limit=1000
            )
            if new:
                _print(new, args.json)
                last = new[-1].id
    return 0


def _newest_id(store: Any) -> int:
    newest = store.events.query(limit=1)
    return newest[0].id if newest else 0
