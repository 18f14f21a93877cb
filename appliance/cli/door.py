"""Commands for the door itself: init, run, status, lockdown, unlock, swipe."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from typing import Any

from appliance.cli import status
from appliance.cli.common import (
    BOX_CONFIG,
    actor,
    examples,
    load,
    notify,
    open_store,
    positive_int,
)
from appliance.config import Config
from appliance.control import CLI_APPLY_TIMEOUT, PROBE_TIMEOUT, Control, ControlError
from appliance.core.model import Mode
from appliance.store import EventRow, Store
from appliance.wiegand.formats import credential_from_fields

CONFIRM_SECONDS = CLI_APPLY_TIMEOUT  # a mode change reaches a running controller within 1 s
SWIPE_WAIT_SECONDS = 3.0


def register(sub: Any) -> None:
    """Add the door commands to the parser."""
    p = sub.add_parser("init", help="create or upgrade the database (idempotent)")
    p.set_defaults(handler=cmd_init)
    p = sub.add_parser("run", help="the door controller, until SIGTERM")
    p.set_defaults(handler=cmd_run)
    status.register(sub)
    p = sub.add_parser(
        "lockdown",
        help="lockdown on or off (only lockdown-immune groups open)",
        **examples(
            f'--config {BOX_CONFIG} lockdown on --reason "police request"',
            f"--config {BOX_CONFIG} lockdown off",
        ),
    )
    p.add_argument("state", choices=["on", "off"])
    p.add_argument("--reason", default=None, help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_lockdown)
    p = sub.add_parser("hold", help="hold the door unlocked (on) or return it to normal (off)")
    p.add_argument("state", choices=["on", "off"])
    p.add_argument("--reason", default=None, help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_hold)
    p = sub.add_parser(
        "unlock",
        help="unlock the door once, for unlock_seconds",
        **examples(f'--config {BOX_CONFIG} unlock --reason "delivery at the front"'),
    )
    p.add_argument("--reason", required=True, help="why (kept in the audit log)")
    p.set_defaults(handler=cmd_unlock)
    p = sub.add_parser(
        "swipe",
        help="present a card to a running controller (mock back-end only)",
        **examples(
            "--config ~/.local/state/doorward-demo/doorward.toml swipe --format H10301 "
            "--facility 100 --number 1002    # the demo box",
        ),
    )
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
    from appliance.box.files import ensure_setup_code
    from appliance.cli.web import setup_code_line

    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
        line = setup_code_line(ensure_setup_code(config.data_dir, store))
    print(f"database ready at {config.db_path}")
    if line:
        print(line)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from appliance.controller import Controller

    config = load(args)
    controller = Controller(config)
    signal.signal(signal.SIGTERM, lambda *_: controller.stop())
    signal.signal(signal.SIGINT, lambda *_: controller.stop())
    controller.run()
    return 0


def _set_mode(args: argparse.Namespace, mode: Mode, default_reason: str) -> int:
    config = load(args)
    with open_store(config) as store:
        store.door.set_mode(mode, reason=args.reason or default_reason, actor=actor())
    if not notify(config):
        print(f"door mode: {mode.value} (no controller running: applies when it starts)")
        return 0
    # A script that turns lockdown on must be able to trust that the door is in it on exit 0.
    if _confirmed(config, mode):
        print(f"door mode: {mode.value} (in force at the door)")
        return 0
    print(f"door mode: {mode.value} (stored)")
    print(
        f"doorward: error: the running controller did not confirm {mode.value} within "
        f"{CONFIRM_SECONDS:g} s: check 'doorward status'",
        file=sys.stderr,
    )
    return 1


def _confirmed(config: Config, mode: Mode) -> bool:
    """Whether the running controller reports ``mode`` within CONFIRM_SECONDS."""
    door = Control(config.data_dir, timeout=PROBE_TIMEOUT)
    try:
        return door.wait(lambda s: s.get("mode") == mode.value, door.deadline(CONFIRM_SECONDS))
    except ControlError:
        return False


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
    Control(config.data_dir).unlock(args.reason, actor=actor())
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
        newest = store.events.query(limit=1)
        after = newest[0].id if newest else 0
        before = _reader_counts(config)
        Control(config.data_dir).swipe(bits, interval_us=args.interval_us, pulse_us=args.pulse_us)
        print(f"presented {label}", flush=True)
        deadline = time.monotonic() + SWIPE_WAIT_SECONDS
        while time.monotonic() < deadline:  # show what the door decided
            for event in store.events.query(
                after_id=after, kinds=["granted", "denied"], newest_first=False, limit=1
            ):
                print(decision_line(event))
                return 0
            verdict = _not_a_card(before, _reader_counts(config))
            if verdict:  # short frames, keys and the like are counted, not decided
                print(f"the reader did not take it as a card: {verdict}")
                return 0
            time.sleep(0.05)
    print(
        f"doorward: error: no decision recorded within {SWIPE_WAIT_SECONDS:g} s "
        "(is the controller running on the mock back-end?)",
        file=sys.stderr,
    )
    return 1


_NOT_CARDS = {
    "short_frames": "a frame too short for a card",
    "long_frames": "a frame too long for a card",
    "keypad_errors": "a keypad error",
    "keys": "a key press",
    "pins": "a PIN",
}


def _reader_counts(config: Config) -> dict[str, int]:
    reader = Control(config.data_dir).status()["reader"]
    return {k: int(reader.get(k, 0)) for k in _NOT_CARDS}


def _not_a_card(before: dict[str, int], after: dict[str, int]) -> str | None:
    grown = [text for key, text in _NOT_CARDS.items() if after[key] > before[key]]
    return ", ".join(grown) or None


def decision_line(event: EventRow) -> str:
    """A read's outcome for people: ``denied (lockdown)  H10301:12:3456  Ms. Shah [KW-1]``."""
    head = event.kind if event.reason in (None, event.kind) else f"{event.kind} ({event.reason})"
    holder = " ".join(x for x in (event.holder, event.serial and f"[{event.serial}]") if x)
    return "  ".join(x for x in (head, event.credential, holder) if x)
