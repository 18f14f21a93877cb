"""``doorward fleet --district DIR ...``: the district console.

The console's master list is edited with the same card, holder and group commands as a box's,
on the district's own store (``DistrictTarget``): after each change the console publishes it at
once (a signed change, retained at the broker). No box config and no controller are involved.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

from appliance.cli import UsageError, cards
from appliance.cli.cards import cmd_card_status
from appliance.cli.common import actor, bounded_int
from appliance.core import event_wire
from appliance.core.describe import sentence
from appliance.core.event_kinds import unknown_kinds
from appliance.core.model import Status
from appliance.district import state as cs
from appliance.district.console import (
    District,
    DistrictError,
    Publisher,
    init_district,
    open_district,
)
from appliance.fleet.link import LinkError
from appliance.store import Store


def register(sub: Any) -> None:
    """Add ``fleet`` to the parser."""
    p = sub.add_parser(
        "fleet",
        help="the district console: one signed card list for every box, lockdowns, events home",
    )
    p.add_argument("--district", required=True, metavar="DIR", help="the district directory")
    fs = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    q = fs.add_parser("init", help="create the district directory, its key and database")
    q.add_argument("--name", required=True, help="the district's name: letters, digits, - or _")
    q.add_argument("--broker", required=True, help="mqtt://host[:port] or mqtts://host[:port]")
    q.add_argument("--snapshot-every", type=bounded_int(1, 1_000_000), default=100)
    q.add_argument("--ca-file", help="CA of the broker's certificate (mqtts)")
    q.add_argument("--cert-file", help="the console's client certificate (mqtts)")
    q.add_argument("--key-file", help="the console's client key (mqtts)")
    q.set_defaults(handler=cmd_init)
    q = fs.add_parser("publish", help="publish pending changes and a fresh snapshot")
    q.set_defaults(handler=cmd_publish)
    q = fs.add_parser("revoke", help="revoke a fob at every box, now")
    q.add_argument("--serial", help="the fob's serial number")
    q.add_argument("--format", help="or the card format, with --number (and --facility)")
    q.add_argument("--facility", type=int)
    q.add_argument("--number", type=int)
    q.add_argument("--reason", required=True, help="why (kept in every audit log)")
    q.set_defaults(handler=cmd_card_status, status=Status.REVOKED, target=DistrictTarget)
    q = fs.add_parser("lockdown", help="lock down every door of a school (or of all schools)")
    q.add_argument("state", choices=["on", "off"])
    where = q.add_mutually_exclusive_group(required=True)
    where.add_argument("--school", help="the school's name, as in its boxes' [fleet] school")
    where.add_argument("--all", action="store_true", help="every school in the district")
    q.add_argument("--reason", help="why (kept in every audit log)")
    q.set_defaults(handler=cmd_lockdown)
    q = fs.add_parser("status", help="every box: last seen, version, mode, alarms, online")
    q.add_argument("--json", action="store_true", help="one JSON object per box")
    q.set_defaults(handler=cmd_status)
    q = fs.add_parser("events", help="events shipped home by the boxes")
    q.add_argument("--box", help="only this box's")
    q.add_argument("--school", help="only this school's")
    q.add_argument("--kind", action="append", dest="kinds", help="only this kind (repeat)")
    q.add_argument("--serial", help="only this fob's")
    q.add_argument("--since", type=_when, help="ISO date/time, inclusive")
    q.add_argument("--until", type=_when, help="ISO date/time, exclusive")
    q.add_argument("--limit", type=bounded_int(1, 10_000), default=50)
    q.add_argument("--json", action="store_true", help="one JSON object per line")
    q.add_argument(
        "--collect",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first collect for this long (when 'fleet serve' is not running)",
    )
    q.set_defaults(handler=cmd_events)
    q = fs.add_parser("serve", help="collect status and events; publish changes (until SIGTERM)")
    q.set_defaults(handler=cmd_serve)
    cards.register(fs, DistrictTarget)  # the master list


class DistrictTarget:
    """The card, holder and group commands on the district's master list: a change is staged
    and published at once, all on the one store the command opened."""

    ON: ClassVar[str] = "fleet --district /srv/district"

    def __init__(self, district: District) -> None:
        self.district = district

    @classmethod
    def for_args(cls, args: argparse.Namespace) -> Self:
        return cls(_district(args))

    def open_store(self) -> Store:
        return self.district.store()

    def changed(self, store: Store, rev: int | None) -> int:
        return publish(self.district, store, lambda p: p.stage_changes(_actor()))


def _actor() -> str:
    return actor().replace("cli:", "district:", 1)


def _district(args: argparse.Namespace) -> District:
    return open_district(Path(args.district))


def publish(district: District, store: Store, stage: Callable[[Publisher], int | None]) -> int:
    """Stage with ``stage(publisher)``, then publish whatever is pending; the exit status."""
    publisher = Publisher(district, store)
    staged = stage(publisher)
    if staged is None and not publisher.state.unpublished():
        return 0
    try:
        sent = publisher.publish()
    except LinkError as err:
        print(
            f"doorward: error: stored at the district but not yet published ({err}); "
            "'doorward fleet publish' or a running 'fleet serve' sends it",
            file=sys.stderr,
        )
        return 1
    if sent:
        print(f"published list version {sent[-1]}")
    return 0


def _publish(args: argparse.Namespace, stage: Callable[[Publisher], int | None]) -> int:
    district = _district(args)
    with district.store() as store:
        return publish(district, store, stage)


def cmd_init(args: argparse.Namespace) -> int:
    path = Path(args.district)
    district = init_district(
        path,
        args.name,
        args.broker,
        snapshot_every=args.snapshot_every,
        ca_file=Path(args.ca_file) if args.ca_file else None,
        cert_file=Path(args.cert_file) if args.cert_file else None,
        key_file=Path(args.key_file) if args.key_file else None,
    )
    public = (path / "district.pub").read_text().strip()
    print(f"district {district.name} ready in {path}")
    from appliance.district.collector import collect_for

    try:  # the console's persistent session: from now on the broker keeps what boxes send
        with district.store() as store:
            collect_for(district, store, 0.2)
    except LinkError as err:
        print(f"note: {err}: start 'fleet serve' before the boxes, or their first events wait")
    print("each box's config needs, in [fleet]:")
    print(f'  district = "{district.name}"')
    print(f'  district_public_key = "{public}"')
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    return _publish(args, lambda p: p.stage_snapshot(_actor()))


def cmd_lockdown(args: argparse.Namespace) -> int:
    on = args.state == "on"
    school = None if args.all else args.school
    if school is not None and not school.strip():
        raise UsageError("--school must not be blank")
    reason = args.reason or ("district lockdown" if on else "district lockdown lifted")
    code = _publish(args, lambda p: p.stage_lockdown(on, school, reason, _actor()))
    if code == 0:
        print(f"lockdown {args.state} for {'every school' if school is None else school}")
    return code


def cmd_status(args: argparse.Namespace) -> int:
    district = _district(args)
    with district.store() as store:
        state = cs.DistrictStore(store)
        boxes = state.boxes()
        version = state.meta_int(cs.VERSION)
    if args.json:
        for b in boxes:
            print(json.dumps({**b.status, "last_seen": b.last_seen_at.isoformat()}, default=str))
        return 0
    print(f"district {district.name}: list version {version}, {len(boxes)} box(es)")
    print(
        f"{'BOX':<16} {'SCHOOL':<20} {'ONLINE':<7} {'LAST SEEN':<19} {'VERSION':>8} "
        f"{'MODE':<13} {'SOFTWARE':<10} ALARMS"
    )
    for b in boxes:
        seen = b.last_seen_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        behind = "" if b.list_version == version else "*"
        print(
            f"{b.box_id:<16} {(b.school or '-')[:20]:<20} {'yes' if b.online else 'NO':<7} "
            f"{seen:<19} {str(b.list_version) + behind:>8} {b.mode or '-':<13} "
            f"{b.software or '-':<10} {', '.join(b.alarms) or '-'}"
        )
    return 0


def cmd_events(args: argparse.Namespace) -> int:
    from appliance.district.collector import collect_for, serving

    problem = unknown_kinds(args.kinds or ())
    if problem:
        raise UsageError(problem)
    district = _district(args)
    with district.store() as store:
        if args.collect > 0:
            if serving(district):
                print("'fleet serve' is running: it collects already", file=sys.stderr)
            else:
                collect_for(district, store, args.collect)
        rows = cs.DistrictStore(store).events(
            box=args.box,
            school=args.school,
            kinds=args.kinds,
            serial=args.serial,
            since=args.since,
            until=args.until,
            limit=args.limit,
        )
    for e in reversed(rows):
        if args.json:
            print(json.dumps(event_wire.district_view(e)))  # the box's keys, and its box
            continue
        when = e.ts.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        print(f"{when}  {e.box_id:<14} {sentence(e)}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from appliance.district.collector import Collector

    district = _district(args)
    with district.store() as store:
        collector = Collector(district, store)
        signal.signal(signal.SIGTERM, lambda *_: collector.stop())
        signal.signal(signal.SIGINT, lambda *_: collector.stop())
        print(f"serving district {district.name} on {district.config.broker}", flush=True)
        collector.run()
    return 0


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date/time") from None
    return value if value.tzinfo else value.astimezone().astimezone(UTC)


__all__ = ["DistrictError", "register"]
