"""``doorward status``: the door now, for people, and for monitoring scripts by its exit status."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from typing import Any

from appliance.cli.common import BOX_CONFIG, examples, load, open_store
from appliance.config import Config
from appliance.control import Command, Control, ControlError
from appliance.store import StoreError

# In the style of monitoring plugins (2 stays the CLI's "malformed command or config").
RUNNING = 0
DEGRADED = 1
NOT_RUNNING = 3

EXIT_CODES = f"""\
exit status (for monitoring scripts, as a monitoring plugin's):
  {RUNNING}  the controller is running and healthy
  {DEGRADED}  the controller is running but degraded (it cannot read its database and decides
     from the last view it loaded) or an alarm is raised (door held open, forced open)
  2  a malformed command or config
  {NOT_RUNNING}  the controller is not running (or does not answer): the door is not served
--json prints the same facts as JSON and exits with the same codes."""

LABEL_WIDTH = 14
STAGES = {"edge_to_relay": "last edge to relay", "decide": "decision"}
READER_PROBLEMS = {
    "noise_pulses": ("noise pulse", "noise pulses"),
    "parity_failures": ("parity failure", "parity failures"),
    "short_frames": ("frame too short", "frames too short"),
    "long_frames": ("frame too long", "frames too long"),
    "keypad_errors": ("keypad error", "keypad errors"),
    "wiring_faults": ("wiring fault", "wiring faults"),
    "internal_errors": ("decoding error", "decoding errors"),
}


def register(sub: Any) -> None:
    """Add the ``status`` command to the parser."""
    p = sub.add_parser(
        "status",
        help="the door now: mode, lock, alarms, reader health, latency (exit 0/1/3)",
        description="The door now, as the running controller reports it.",
        **examples(
            f"--config {BOX_CONFIG} status",
            f"--config {BOX_CONFIG} status --json",
            note=EXIT_CODES,
        ),
    )
    p.add_argument("--json", action="store_true", help="print JSON (the same exit status)")
    p.set_defaults(handler=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    config = load(args)
    try:
        # the raw reply, so that a malformed status is told apart in this command's words
        status = Control(config.data_dir).request(Command.STATUS)["status"]
        if not isinstance(status, dict):
            raise TypeError
    except ControlError as exc:
        return _not_running(args, config, str(exc))
    except (KeyError, TypeError):
        return _not_running(args, config, "the controller sent a status this command cannot read")
    code = health(status)
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        _print(running_lines(status, config))
    return code


def health(status: dict[str, Any]) -> int:
    """RUNNING, or DEGRADED when the controller says so or an alarm is raised."""
    return DEGRADED if status.get("degraded") or status.get("alarms") else RUNNING


def _not_running(args: argparse.Namespace, config: Config, problem: str) -> int:
    try:
        with open_store(config) as store:
            mode, reason = store.door.mode()
    except (RuntimeError, StoreError) as exc:  # no database yet, or unreadable: still not running
        print(f"doorward: error: controller not running ({problem}); {exc}", file=sys.stderr)
        return NOT_RUNNING
    if args.json:
        status = {
            "controller": f"not running ({problem})",
            "door": config.door.name,
            "mode": mode.value,
            "mode_reason": reason,
        }
        print(json.dumps(status, indent=2, default=str))
        return NOT_RUNNING
    lines = [
        ("Door", config.door.name),
        ("Controller", f"NOT RUNNING: {problem}"),
        ("Mode", f"{_mode(mode.value)} (stored: in force when the controller starts)"),
    ]
    if reason:
        lines.append(("Why", reason))
    lines.append(("Lock", "not driven (no controller)"))
    _print(lines)
    return NOT_RUNNING


def running_lines(status: dict[str, Any], config: Config) -> list[tuple[str, str]]:
    """The running controller's status as (label, words) lines, no Python values in them."""
    backend = status.get("backend", "?")
    controller = f"running on the {backend} back-end, version {status.get('version', '?')}"
    uptime = status.get("uptime_s")
    if isinstance(uptime, (int, float)):
        since = datetime.fromtimestamp(time.time() - uptime, config.zone).astimezone(config.zone)
        controller += f", up {_duration(uptime)} (since {since:%Y-%m-%d %H:%M:%S %Z})"
    lines = [
        ("Door", str(status.get("door", config.door.name))),
        ("Controller", controller),
        ("Health", _health_words(status)),
        ("Mode", _mode(str(status.get("mode", "?")))),
        ("Lock", _yes_no(status.get("locked"), "locked", "UNLOCKED", "not known")),
        ("Door switch", _yes_no(status.get("open"), "open", "closed", "none fitted")),
        ("Alarms", ", ".join(_words(a) for a in status.get("alarms") or []) or "none"),
        ("Clock", _clock(status.get("clock_synchronised"), config)),
        ("Cards", f"{_count(status.get('credentials_loaded'), 'credential')} loaded"),
        ("Reader", reader_words(status.get("reader") or {})),
        ("Latency", latency_words(status.get("latency_us") or {})),
    ]
    if status.get("last_unknown_card"):
        lines.append(("Unknown card", f"last one presented: {status['last_unknown_card']}"))
    failures = status.get("audit_failures") or 0
    audit = (
        "every event stored" if not failures else f"{_count(failures, 'failed write')} (retried)"
    )
    lines.append(("Audit log", audit))
    return lines


def _print(lines: list[tuple[str, str]]) -> None:
    for label, value in lines:  # one width for every status, so a script may cut columns
        print(f"{label + ':':<{LABEL_WIDTH}}{value}")


def _health_words(status: dict[str, Any]) -> str:
    problems = []
    if status.get("degraded"):
        problems.append("cannot read its database: deciding from the last view it loaded")
    if status.get("alarms"):
        problems.append("an alarm is raised")
    return "DEGRADED: " + "; ".join(problems) if problems else "healthy"


def _mode(value: str) -> str:
    return _words(value)


def _words(name: str) -> str:
    return name.replace("_", " ")


def _yes_no(value: object, yes: str, no: str, unknown: str) -> str:
    if value is None:
        return unknown
    return yes if value else no


def _clock(synchronised: object, config: Config) -> str:
    if synchronised is not False:
        return "synchronised"
    if config.clock.unsynced_policy == "allow":
        then = "schedules follow it anyway"
    else:
        then = "scheduled groups are refused until it is"
    return f"NOT synchronised yet (no time server has answered): {then}; responders always open"


def _count(n: object, one: str, many: str | None = None) -> str:
    value = n if isinstance(n, int) else 0
    return f"{value} {one if value == 1 else (many or one + 's')}"


def reader_words(reader: dict[str, Any]) -> str:
    """``12 frames read: 10 cards, 2 keys; no errors`` (or the errors, by name)."""
    frames = reader.get("frames") or 0
    if not frames and not any(reader.get(k) for k in READER_PROBLEMS):
        return "nothing read yet; no errors"
    read = [_count(reader.get("cards"), "card")]
    for key, one in (("keys", "key"), ("pins", "PIN")):
        if reader.get(key):
            read.append(_count(reader.get(key), one))
    errors = [
        _count(reader.get(k), *names) for k, names in READER_PROBLEMS.items() if reader.get(k)
    ]
    words = f"{_count(frames, 'frame')} read: {', '.join(read)}; "
    words += ", ".join(errors) if errors else "no errors"
    if reader.get("last_fault"):
        words += f" (last fault: {reader['last_fault']})"
    return words


def latency_words(latency: dict[str, Any]) -> str:
    """``last edge to relay 0.42 ms p50, 0.91 ms p99; decision ... (last 12 reads)``."""
    parts, count = [], 0
    for stage, label in STAGES.items():
        figures = latency.get(stage)
        if not isinstance(figures, dict) or not figures.get("count"):
            continue
        count = max(count, int(figures["count"]))
        shown = [f"{_ms(figures.get(q))} {q}" for q in ("p50", "p99")]
        parts.append(f"{label} {', '.join(shown)}")
    if not parts:
        return "no reads yet"
    return "; ".join(parts) + f" (last {_count(count, 'read')})"


def _ms(micros: object) -> str:
    if not isinstance(micros, (int, float)):
        return "-"
    return f"{micros / 1000:.2f} ms"


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"
