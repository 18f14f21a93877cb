"""Commands for the door itself: init, run, status, lockdown, unlock, swipe."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from typing import Any

from appliance.cli.common import actor, load, notify, open_store, positive_int
from appliance.controller import control
from appliance.core.model import Mode
from appliance.store import Store
from appliance.wiegand.formats import credential_from_fields


def register(sub: Any) -> None:
    """Add the door commands to the parser."""
    p = sub.add_parser("init", help="create or upgrade the database (idempotent)")
    p.set_defaults(handler=cmd_init)
    p = sub.add_parser("run", help="the door controller, until SIGTERM")
    p.set_defaults(handler=cmd_run)
    p = sub.add_parser("status", help="the door now: mode, lock, alarms, reader health, latency")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_status)
    p = sub.add_parser("lockdown", help="lockdown on or off (only lockdown-immune groups open)")
    p.add_argument("state", choices=["on", "off"])
    p.add_argument("--reason", default=None, help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_lockdown)
    p = sub.add_parser("hold", help="hold the door unlocked (on) or return it to normal (off)")
    p.add_argument("state", choices=["on", "off"])
    p.add_argument("--reason", default=None, help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_hold)
    p = sub.add_parser("unlock", help="unlock the door once, for unlock_seconds")
    p.add_argument("--reason", required=True, help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_unlock)
    p = sub.add_parser("swipe", help="present a card to a running controller (mock back-end only)")
    p.add_argument("--format", help="H10301, H10306, C1K35S, H10304, H10302, C1K48S or RAW<N>")
    p.add_argument("--facility", type=positive_int)
    p.add_argument("--number", type=positive_int)
    p.add_argument("--bits", help="send these raw bits instead (e.g. a corrupted frame)")
    p.add_argument(
        "--interval-us", type=positive_int, default=2000, help="bit interval (200-20000)"
    )
    p.add_argument("--pulse-us", type=positive_int, default=50, help="pulse width (20-100)")
    p.set_defaults(handler=cmd_swipe)


def cmd_init(args: argparse.Namespace) -> int:
    config = load(args)
    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
    print(f"database ready at {config.db_path}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from appliance.controller import Controller

    config = load(args)
    controller = Controller(config)
    signal.signal(signal.SIGTERM, lambda *_: controller.stop())
    signal.signal(signal.SIGINT, lambda *_: controller.stop())
    controller.run()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    config = load(args)
    try:
        status = control.request(config.data_dir, "status")["status"]
    except control.ControlError as exc:
        with open_store(config) as store:
            mode, reason = store.door_mode()
        status = {"controller": f"not running ({exc})", "mode": mode.value, "mode_reason": reason}
    if args.json:
        print(json.dumps(status, indent=2, default=str))
        return 0
    for key, value in status.items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items())
        print(f"{key:>20}: {value}")
    return 0


def _set_mode(args: argparse.Namespace, mode: Mode, default_reason: str) -> int:
    config = load(args)
    with open_store(config) as store:
        store.set_mode(mode, reason=args.reason or default_reason, actor=actor())
    live = notify(config)
    print(
        f"door mode: {mode.value}"
        + ("" if live else " (no controller running: applies when it starts)")
    )
    return 0


def cmd_lockdown(args: argparse.Namespace) -> int:
    if args.state == "on":
        return _set_mode(args, Mode.LOCKDOWN, "lockdown from the command line")
    return _set_mode(args, Mode.NORMAL, "lockdown lifted from the command line")


def cmd_hold(args: argparse.Namespace) -> int:
    if args.state == "on":
        return _set_mode(args, Mode.HELD_UNLOCKED, "held unlocked from the command line")
    return _set_mode(args, Mode.NORMAL, "returned to normal from the command line")


def cmd_unlock(args: argparse.Namespace) -> int:
    config = load(args)
    control.request(config.data_dir, "unlock", actor=actor(), reason=args.reason)
    print("door unlocked once")
    return 0


def cmd_swipe(args: argparse.Namespace) -> int:
    config = load(args)
    if args.bits is not None:
        bits, label = args.bits, f"raw bits {args.bits}"
    else:
        if args.format is None or args.number is None:
            raise ValueError(
                "give --format and --number (and --facility where the format has one), or --bits"
            )
        cred = credential_from_fields(args.format, args.facility, args.number)
        bits, label = cred.bits, str(cred)
    with open_store(config) as store:
        newest = store.query_events(limit=1)
        after = newest[0].id if newest else 0
        control.request(
            config.data_dir,
            "swipe",
            bits=bits,
            interval_us=args.interval_us,
            pulse_us=args.pulse_us,
        )
        print(f"presented {label}")
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # show what the door decided
            for event in store.query_events(
                after_id=after, kinds=["granted", "denied"], newest_first=False
            ):
                who = f" ({event.holder}, {event.serial})" if event.holder else ""
                print(f"{event.kind}: {event.reason}{who}")
                return 0
            time.sleep(0.05)
    print("no decision recorded yet (is the controller running?)", file=sys.stderr)
    return 1
