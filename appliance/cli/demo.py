"""``doorward demo``: the box on simulated hardware, with a seeded district and a live log.

Everything is real but the GPIO: the controller, the store, the audit log and the policy run as on
a box, with the mock back-end playing each card's real Wiegand waveform.
"""

from __future__ import annotations

import argparse
import queue
import shutil
import threading
import time
from pathlib import Path
from typing import Any

from appliance.config import load_config
from appliance.core.model import Mode, Status
from appliance.store import EventRecord, Store

DEMO_CONFIG = """\
# Doorward demo box: simulated hardware (the mock back-end), real everything else.
data_dir = "data"

[door]
name = "Front entrance"
unlock_seconds = 3

[gpio]
backend = "mock"

[reader]
d0 = 14
d1 = 15

[strike]
pin = 26
active_low = true

[dps]
pin = 22

[rex]
pin = 27
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


def register(sub: Any) -> None:
    """Add the demo command to the parser."""
    p = sub.add_parser("demo", help="the box on simulated hardware with a seeded district")
    p.add_argument(
        "--dir",
        default=str(Path.home() / ".local/state/doorward-demo"),
        help="where the demo box keeps its config and data (re-seeded each start)",
    )
    p.add_argument("--no-tour", action="store_true", help="skip the guided tour of reads")
    p.add_argument("--once", action="store_true", help="exit after the tour (for scripts)")
    p.set_defaults(handler=cmd_demo)


def seed(store: Store) -> None:
    """A small district: responders from two agencies, staff, one lost fob."""
    agencies_seen: set[str] = set()
    for holder, agency, badge, serial, group, facility, number, status in DISTRICT:
        if holder not in agencies_seen:
            store.add_holder(holder, agency=agency, badge=badge, actor="demo")
            agencies_seen.add(holder)
        store.add_credential(
            "H10301", facility, number, holder, serial=serial, group=group, actor="demo"
        )
        if status != "issued":
            store.set_status(
                serial=serial, status=Status(status), reason="reported lost", actor="demo"
            )


def cmd_demo(args: argparse.Namespace) -> int:
    from appliance.controller import Controller
    from appliance.hw.mock_backend import MockEdgeSource
    from appliance.wiegand.formats import encode

    home = Path(args.dir).expanduser()
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    config_file = home / "doorward.toml"
    config_file.write_text(DEMO_CONFIG)
    config = load_config(config_file)
    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
        seed(store)
    controller = Controller(config)
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
                    controller.store.set_mode(mode, reason="demo tour", actor="demo")
                    controller.refresher.wake()
                elif facility is not None and number is not None:
                    source.play(encode("H10301", number, facility), interval_us=2000)
                time.sleep(1.5)
        if args.once:
            return 0
        print(
            "\nThe door is live. In another terminal, present a card:\n"
            f"  doorward --config {config_file} swipe --format H10301 --facility 100 "
            "--number 1002\n"
            f"  doorward --config {config_file} card revoke --serial CPD-0043 --reason lost\n"
            f"  doorward --config {config_file} lockdown on\n"
            f"  doorward --config {config_file} events --follow\n"
            "Ctrl-C stops the demo.",
            flush=True,
        )
        while runner.is_alive():
            runner.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
        runner.join(10)
        printer.stop()
    return 0


class _LivePrinter:
    """Prints each event as the door records it, with holder names looked up off the hot path."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: queue.SimpleQueue[EventRecord | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="demo-log", daemon=True)
        self._thread.start()

    def put(self, record: EventRecord) -> None:
        self._queue.put(record)

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        while (rec := self._queue.get()) is not None:
            when = time.strftime("%H:%M:%S", time.localtime(rec.ts))
            detail = rec.detail or {}
            holder = ""
            if isinstance(detail.get("card_id"), int):
                name, serial = self._store.card_details(detail["card_id"])
                holder = f"  {name}" + (f" [{serial}]" if serial else "")
            latency = detail.get("latency_us")
            extra = (
                f"  (frame {latency['frame'] / 1000:.1f} ms, decision {latency['decide']:.0f} µs)"
                if latency
                else ""
            )
            tag = "  RESPONDER" if detail.get("responder") else ""
            print(
                f"{when}  {rec.kind.upper():<13} {rec.reason or '':<24} "
                f"{rec.credential or ''}{holder}{tag}{extra}",
                flush=True,
            )
