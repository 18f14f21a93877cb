"""``doorward demo``: the box on simulated hardware, with a seeded district and a live log.

Everything is real but the GPIO: the controller, the store, the audit log and the policy run as on
a box, with the mock back-end playing each card's real Wiegand waveform.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.cli import UsageError
from appliance.cli.common import examples
from appliance.cli.demo_web import (
    ADMIN_FILE,
    closing_block,
    doorward_command,
    start_admin_page,
    write_admin_file,
)
from appliance.config import load_config
from appliance.control import PROBE_TIMEOUT, Control
from appliance.core.model import Mode, Status
from appliance.store import EventRecord, Store

DEMO_CONFIG = """\
# Doorward demo box: simulated hardware (the mock back-end), real everything else.
# The pins are the default installer's map (wiring/doorward.toml): safe from power-on.
data_dir = "data"

[door]
name = "Front entrance"
unlock_seconds = 3

[gpio]
backend = "mock"

[reader]
d0 = 8
d1 = 7
led_pin = 12
led_active_low = false

[strike]
pin = 13            # relay energised (unlocked) while the pin is high; pulled down at reset
active_low = false

[dps]
pin = 26
pull_up = false     # the simulated door switch rests closed (a real one: see wiring/doorward.toml)

[rex]
pin = 20
active_low = false  # pressed: input high
pull_up = false
"""
# (holder, agency, badge, serial, group, facility, number, status)
DISTRICT = [
    (
        "Officer Jane Ortiz",
        "Casper Police Department",
        "CPD-117",
        "CPD-0042",
        "responders",
        100,
        1001,
        "issued",
    ),
    (
        "Sgt. Mark Hale",
        "Casper Police Department",
        "CPD-088",
        "CPD-0043",
        "responders",
        100,
        1002,
        "issued",
    ),
    (
        "Deputy Ana Ruiz",
        "Natrona County Sheriff",
        "NCSO-31",
        "NCSO-0007",
        "responders",
        101,
        2001,
        "issued",
    ),
    (
        "Officer Tom Becker",
        "Casper Police Department",
        "CPD-140",
        "CPD-0051",
        "responders",
        100,
        1003,
        "lost",
    ),
    (
        "Ms. Priya Shah (front office)",
        "Kelly Walsh High School",
        "KW-12",
        None,
        "staff",
        12,
        3456,
        "issued",
    ),
    (
        "Mr. Dan Cole (custodian)",
        "Kelly Walsh High School",
        "KW-40",
        None,
        "staff",
        12,
        3457,
        "issued",
    ),
]

TOUR = [
    ("A responder's fob at a normal door", 100, 1001, None),
    ("A staff badge", 12, 3456, None),
    ("The fob Officer Becker reported lost", 100, 1003, None),
    ("A card nobody enrolled", 55, 999, None),
    ("Lockdown: the office puts the door in lockdown", None, None, Mode.LOCKDOWN),
    ("The staff badge, during lockdown", 12, 3456, None),
    ("A sheriff's deputy's fob, during lockdown", 101, 2001, None),
    ("Lockdown lifted", None, None, Mode.NORMAL),
]
TOUR_STEP_TIMEOUT = 10.0  # a step that takes longer means the demo box is broken: say so
TOUR_INTERVAL_US = 2000  # a common reader's bit interval


def register(sub: Any) -> None:
    """Add the demo command to the parser."""
    p = sub.add_parser(
        "demo",
        help="the box on simulated hardware with a seeded district",
        **examples(
            "demo    # the tour, then the live door and its admin page on port 8080",
            "demo --once    # the tour only (for scripts)",
            "demo --no-tour --web-port 8081",
        ),
    )
    p.add_argument(
        "--dir",
        default=str(Path.home() / ".local/state/doorward-demo"),
        help="where the demo box keeps its config and data (re-seeded each start); "
        "must be new, empty, or an earlier demo's",
    )
    p.add_argument("--no-tour", action="store_true", help="skip the guided tour of reads")
    p.add_argument("--once", action="store_true", help="exit after the tour (for scripts)")
    p.add_argument(
        "--web-port", type=int, default=8080, help="the admin page's port (default 8080)"
    )
    p.add_argument("--no-web", action="store_true", help="do not start the admin page")
    p.add_argument(
        "--pause",
        type=float,
        default=None,
        metavar="SECONDS",
        help="pause between tour steps, to watch it (default 1.5; 0 with --once)",
    )
    p.set_defaults(handler=cmd_demo)


def seed(store: Store) -> None:
    """A small district: responders from two agencies, staff, one lost fob."""
    agencies_seen: set[str] = set()
    for holder, agency, badge, serial, group, facility, number, status in DISTRICT:
        if holder not in agencies_seen:
            store.holders.add(holder, agency=agency, badge=badge, actor="demo")
            agencies_seen.add(holder)
        store.cards.add(
            "H10301", facility, number, holder, serial=serial, group=group, actor="demo"
        )
        if status != "issued":
            store.cards.set_status(
                serial=serial, status=Status(status), reason="reported lost", actor="demo"
            )


def prepare_dir(home: Path) -> Path:
    """Make ``home`` a fresh demo box and return its config file.

    Only a new or empty directory, or one an earlier demo made, is touched: ``--dir`` pointed at
    anything else by mistake must not lose its contents.
    """
    config_file = home / "doorward.toml"
    if home.exists() and not home.is_dir():
        raise UsageError(f"--dir {home}: exists and is not a directory")
    if home.is_dir() and any(home.iterdir()):
        made_by_demo = config_file.is_file() and config_file.read_text(errors="replace").startswith(
            DEMO_CONFIG.splitlines()[0]
        )
        if not made_by_demo:
            raise UsageError(
                f"--dir {home}: not empty and not a Doorward demo box; "
                "give a new or empty directory"
            )
        data = home / "data"
        if Control(data, timeout=PROBE_TIMEOUT).running():
            raise UsageError(f"--dir {home}: a demo is already running there")
        shutil.rmtree(data, ignore_errors=True)
        (home / ADMIN_FILE).unlink(missing_ok=True)  # an earlier run's password is no more
    home.mkdir(parents=True, exist_ok=True)
    config_file.write_text(DEMO_CONFIG)
    return config_file


def cmd_demo(args: argparse.Namespace) -> int:
    from appliance.controller import Controller
    from appliance.hw.mock_backend import MockEdgeSource
    from appliance.wiegand.formats import encode

    pause = args.pause if args.pause is not None else (0.0 if args.once else 1.5)
    if not 0 <= pause <= 60:
        raise UsageError(f"--pause {pause:g}: expected seconds from 0 to 60")
    config_file = prepare_dir(Path(args.dir).expanduser())
    config = load_config(config_file)
    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
        seed(store)
    controller = Controller(config)
    web: subprocess.Popen[str] | None = None
    source = controller.source
    assert isinstance(source, MockEdgeSource)  # the demo config names the mock back-end
    printer = _LivePrinter(controller.store)
    controller.audit.add_listener(printer.put)
    runner = threading.Thread(target=controller.run, name="controller", daemon=True)
    runner.start()
    while not controller.started.wait(0.1):
        if not runner.is_alive():
            raise RuntimeError("the demo controller failed to start (see the log above)")
    print(f"Doorward demo: door {config.door.name!r} on simulated hardware; config {config_file}")
    try:
        if not args.no_tour:
            for title, facility, number, mode in TOUR:
                print(f"\n>>> {title}", flush=True)
                if mode is not None:
                    controller.store.door.set_mode(mode, reason="demo tour", actor="demo")
                    controller.refresher.wake()
                    _wait_for_mode(controller, mode)
                    print(f"          door mode: {mode.value}", flush=True)
                elif facility is not None and number is not None:
                    credential = f"H10301:{facility}:{number}"
                    mark = printer.mark()
                    source.play(encode("H10301", number, facility), interval_us=TOUR_INTERVAL_US)
                    # Wait until the decision is on screen, so each step's output stays under it.
                    printer.wait_printed(_decision_for(credential), after=mark)
                    # Let the read's aftermath (journal, database, this log) finish first: the
                    # next card's simulated bits must not wait on a busy interpreter.
                    controller.audit.flush(TOUR_STEP_TIMEOUT)
                    printer.wait_idle()
                time.sleep(pause)
        if args.once:
            return 0
        if not args.no_tour:  # the last grant's relock, before the closing words, not under them
            _wait_until_locked(controller)
            controller.audit.flush(TOUR_STEP_TIMEOUT)
            printer.wait_idle()
        admin_file = config_file.parent / ADMIN_FILE
        admin: tuple[str, str] | None = None
        if not args.no_web:
            web, password = start_admin_page(config_file, controller.store, args.web_port)
            admin = (f"http://127.0.0.1:{args.web_port}/", password)
            write_admin_file(admin_file, *admin)
        # Last, where a person looks when the tour has scrolled by.
        print(closing_block(config_file, doorward_command(), admin, admin_file), flush=True)
        while runner.is_alive():
            runner.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if web is not None:
            web.terminate()
            web.wait(10)
        controller.stop()
        runner.join(10)
        printer.stop()
    return 0


def _decision_for(credential: str) -> Callable[[EventRecord], bool]:
    return lambda rec: rec.kind in ("granted", "denied") and rec.credential == credential


def _wait_for_mode(controller: Any, mode: Mode, timeout: float = TOUR_STEP_TIMEOUT) -> None:
    """Wait until the door itself is in ``mode`` (the refresher applies it a few ms after)."""
    deadline = time.monotonic() + timeout
    while controller.call(lambda: controller.door.mode) != mode:
        if time.monotonic() >= deadline:
            raise RuntimeError(f"the demo door did not enter {mode.value} within {timeout:g} s")
        time.sleep(0.01)


def _wait_until_locked(controller: Any, timeout: float = TOUR_STEP_TIMEOUT) -> None:
    """Wait until the strike is locked again (a grant holds it open for unlock_seconds)."""
    deadline = time.monotonic() + timeout
    while not controller.call(lambda: controller.door.locked) and time.monotonic() < deadline:
        time.sleep(0.05)


class _LivePrinter:
    """Prints each event as the door records it, with holder names looked up off the hot path."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[EventRecord | None] = queue.SimpleQueue()
        self._printed: list[EventRecord] = []
        self._pending = 0
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="demo-log", daemon=True)
        self._thread.start()

    def put(self, record: EventRecord) -> None:
        with self._cond:
            self._pending += 1
        self._queue.put(record)

    def wait_idle(self, timeout: float = TOUR_STEP_TIMEOUT) -> bool:
        """Wait until every event put so far is on screen; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def mark(self) -> int:
        """How many events have been printed so far (for wait_printed's ``after``)."""
        with self._cond:
            return len(self._printed)

    def wait_printed(
        self,
        match: Callable[[EventRecord], bool],
        after: int = 0,
        timeout: float = TOUR_STEP_TIMEOUT,
    ) -> None:
        """Wait until an event matching ``match`` (printed after ``after``) is on screen."""
        with self._cond:
            if not self._cond.wait_for(
                lambda: any(match(r) for r in self._printed[after:]), timeout
            ):
                raise RuntimeError(f"the demo door recorded no decision within {timeout:g} s")

    def _run(self) -> None:
        while (rec := self._queue.get()) is not None:
            when = time.strftime("%H:%M:%S", time.localtime(rec.ts))
            detail = rec.detail or {}
            holder = ""
            if isinstance(detail.get("card_id"), int):
                name, serial = self._store.cards.details(detail["card_id"])
                holder = f"  {name}" + (f" [{serial}]" if serial else "")
            latency = detail.get("latency_us")
            extra = (
                f"  (frame {latency['frame'] / 1000:.1f} ms, decision {latency['decide']:.0f} µs)"
                if latency
                else ""
            )
            tag = "  RESPONDER" if detail.get("responder") and rec.kind == "granted" else ""
            print(
                f"{when}  {rec.kind.upper():<13} {rec.reason or '':<24} "
                f"{rec.credential or ''}{holder}{tag}{extra}",
                flush=True,
            )
            with self._cond:
                self._printed.append(rec)
                self._pending -= 1
                self._cond.notify_all()
