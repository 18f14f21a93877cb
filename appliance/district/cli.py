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
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

from appliance.cli import Handler, UsageError, cards
from appliance.cli.cards import cmd_card_status
from appliance.cli.common import actor, bounded_int, examples, paging, positive_int
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
from appliance.district.register import Register
from appliance.district.schema import AGENCY_KINDS, OFFICER_STATUSES
from appliance.fleet.link import LinkError
from appliance.store import ImportRejected, Store


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
    _register_commands(fs)  # the fob register


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

    def actor(self) -> str:
        return _actor()

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


# -- the fob register: agencies, officers, fobs ---------------------------------------------------

ON = DistrictTarget.ON


def _sub(group: Any, name: str, text: str, handler: Handler, *example: str) -> Any:
    """A register command: its parser, with its --help examples, running ``handler``."""
    q = group.add_parser(name, help=text, **examples(*(f"{ON} {e}" for e in example)))
    q.set_defaults(handler=handler)
    return q


def _json_flag(q: Any, what: str) -> None:
    q.add_argument("--json", action="store_true", help=f"one JSON object per {what}")


def _register_commands(fs: Any) -> None:
    """``agency``, ``officer`` and ``fob``: the register of serialized fobs."""
    p = fs.add_parser("agency", help="the agencies whose officers hold fobs")
    ag = p.add_subparsers(dest="agency_command", metavar="ACTION", required=True)
    q = _sub(ag, "add", "add an agency", cmd_agency_add, 'agency add "Casper PD" --kind police')
    q.add_argument("name", help="the agency's name (unique)")
    q.add_argument("--kind", required=True, choices=AGENCY_KINDS)
    _json_flag(_sub(ag, "list", "list agencies", cmd_agency_list, "agency list --json"), "agency")

    p = fs.add_parser("officer", help="officers of the agencies: badge, status, their fobs")
    of = p.add_subparsers(dest="officer_command", metavar="ACTION", required=True)
    q = _sub(
        of,
        "add",
        "add an officer (a holder of the master list)",
        cmd_officer_add,
        'officer add "Jane Ortiz" --agency "Casper PD" --badge 4411',
        'officer add "Dan Cole" --agency "Casper PD" --badge 4412',
    )
    q.add_argument("name", help="the officer's full name (unique among holders)")
    q.add_argument("--agency", required=True)
    q.add_argument("--badge", required=True, help="badge number (unique within the agency)")
    q.add_argument("--contact", help="phone or e-mail")
    q = _sub(
        of,
        "list",
        "list officers",
        cmd_officer_list,
        'officer list --agency "Casper PD" --status active --json',
    )
    q.add_argument("--agency", help="only this agency's")
    q.add_argument("--status", choices=OFFICER_STATUSES)
    q.add_argument("--search", help="a part of the name or badge")
    _json_flag(q, "officer")
    q = _sub(
        of,
        "set-status",
        "mark an officer active or on leave",
        cmd_officer_status,
        'officer set-status "Dan Cole" on_leave --reason "training"',
    )
    q.add_argument("name")
    q.add_argument("status", choices=[s for s in OFFICER_STATUSES if s != "separated"])
    q.add_argument("--reason", help="why (kept in the audit log)")
    q = _sub(
        of,
        "separate",
        "mark an officer separated: every fob they hold is revoked at every box",
        cmd_officer_separate,
        'officer separate "Jane Ortiz" --reason "retired" --yes',
    )
    q.add_argument("name")
    q.add_argument("--reason", help="why (kept in every audit log)")
    q.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    p = fs.add_parser(
        "fob",
        help="the fob register: serials, custodians, the chain of custody",
        **examples(
            f'{ON} fob list --agency "Casper PD" --status issued',
            note="A fob in stock is in its agency's property room; it opens no door until issued.",
        ),
    )
    fo = p.add_subparsers(dest="fob_command", metavar="ACTION", required=True)
    q = _sub(
        fo,
        "register",
        "add a new fob to an agency's property room",
        cmd_fob_register,
        "fob register --format H10301 --facility 100 --number 4001\n"
        '--serial CPD-4001 --agency "Casper PD"',
    )
    q.add_argument("--format", required=True, help="H10301, H10306, C1K35S, ... RAW<N>")
    q.add_argument("--facility", type=positive_int)
    q.add_argument("--number", type=positive_int, required=True)
    q.add_argument("--serial", required=True, help="the serial printed on the fob (unique)")
    q.add_argument("--agency", required=True)
    q.add_argument("--group", default="responders", help="access group (default: responders)")
    q.add_argument("--reason")
    for name, text, example in (
        (
            "issue",
            "issue a fob in stock to an officer, who types their name to acknowledge it",
            '--serial CPD-4001 --officer "Jane Ortiz" --ack "jane ortiz"',
        ),
        (
            "reassign",
            "hand an issued fob to another officer, who types their name",
            '--serial CPD-4001 --officer "Dan Cole" --ack "Dan Cole"',
        ),
        ("lost", "report a fob lost: revoked at every box at once", "--serial CPD-4001"),
        (
            "found",
            "a lost or stolen fob is back: into the property room",
            '--serial CPD-4001 --witness "Sgt. Bell"',
        ),
        (
            "stolen",
            "report a fob stolen: revoked at every box at once",
            '--serial CPD-4001 --reason "taken from a patrol car"',
        ),
        (
            "return",
            "an officer hands a fob back to the property room (it stops working)",
            "--serial CPD-4001",
        ),
        (
            "destroy",
            "destroy a fob: revoked for good, never issued again",
            '--serial CPD-4001 --reason "cracked case" --witness "Sgt. Bell" --yes',
        ),
    ):
        q = _sub(fo, name, text, cmd_fob_change, f"fob {name} {example}")
        q.set_defaults(fob_action=name)
        q.add_argument("--serial", required=True)
        if name in ("issue", "reassign"):
            q.add_argument("--officer", required=True, help="the officer's name")
            q.add_argument(
                "--ack",
                required=True,
                metavar="NAME",
                help="the officer's own name, typed by them (case does not matter)",
            )
        q.add_argument("--reason", help="why (kept in the chain of custody)")
        if name not in ("lost", "stolen"):
            q.add_argument("--witness", help="who saw it")
        if name == "destroy":
            q.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    q = _sub(
        fo,
        "history",
        "a fob's chain of custody, and whether it is intact (exit 1 if not)",
        cmd_fob_history,
        "fob history --serial CPD-4001",
    )
    q.add_argument("--serial", required=True)
    _json_flag(q, "link")
    q = _sub(
        fo, "list", "search the register", cmd_fob_list, 'fob list --officer "Jane Ortiz" --json'
    )
    q.add_argument("--serial", help="a part of the serial")
    q.add_argument("--officer", help="only this officer's")
    q.add_argument("--agency", help="only this agency's")
    q.add_argument("--status", choices=[s.value for s in Status])
    paging(q)
    _json_flag(q, "fob")
    q = _sub(
        fo,
        "import",
        "register every fob of a CSV file: all rows or none",
        cmd_fob_import,
        "fob import register.csv",
    )
    q.add_argument("file", help="CSV with columns format, facility, number, serial, agency, group")
    q = _sub(
        fo,
        "export",
        "export the register as CSV (importable)",
        cmd_fob_export,
        "fob export -o register-export.csv",
    )
    q.add_argument("--output", "-o", help="file to write (default: standard output)")


def _confirm(question: str) -> bool:
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def _json(row: Any) -> str:
    return json.dumps(
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in asdict(row).items()}
    )


def cmd_agency_add(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        row = Register(store).add_agency(args.name, args.kind, actor=_actor())
    print(f"added agency {row.name} ({row.kind})")
    return 0


def cmd_agency_list(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        rows = Register(store).agencies()
    for a in rows:
        print(_json(a) if args.json else f"{a.name:<40} {a.kind:<8} {a.officers} officer(s)")
    return 0


def cmd_officer_add(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        row = Register(store).add_officer(
            args.name, agency=args.agency, badge=args.badge, contact=args.contact, actor=_actor()
        )
    print(f"added officer {row.name}, {row.agency} badge {row.badge}")
    return 0


def cmd_officer_list(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        rows = Register(store).officers(agency=args.agency, status=args.status, search=args.search)
    if not args.json:
        print(f"{'OFFICER':<32} {'AGENCY':<28} {'BADGE':<10} {'STATUS':<10} FOBS")
    for o in rows:
        print(
            _json(o)
            if args.json
            else f"{o.name:<32} {o.agency[:28]:<28} {o.badge:<10} {o.status:<10} {o.fobs}"
        )
    return 0


def cmd_officer_status(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        row = Register(store).set_officer_status(
            args.name, args.status, reason=args.reason, actor=_actor()
        )
    print(f"officer {row.name}: {row.status}")
    return 0


def cmd_officer_separate(args: argparse.Namespace) -> int:
    district = _district(args)
    with district.store() as store:
        reg = Register(store)
        if not args.yes:
            found = [o for o in reg.officers(search=args.name) if o.name == args.name.strip()]
            held = f" and revoke their {found[0].fobs} fob(s) at every box" if found else ""
            if not _confirm(f"separate officer {args.name.strip()}{held}?"):
                print("not confirmed: nothing changed", file=sys.stderr)
                return 1
        count = reg.separate(args.name, reason=args.reason, actor=_actor())
        print(f"officer {args.name.strip()} separated: {count} fob(s) revoked at every box")
        return publish(district, store, lambda p: p.stage_changes(_actor()))


def cmd_fob_register(args: argparse.Namespace) -> int:
    district = _district(args)
    with district.store() as store:
        row = Register(store).register_fob(
            args.format,
            args.facility,
            args.number,
            serial=args.serial,
            agency=args.agency,
            group=args.group,
            reason=args.reason,
            actor=_actor(),
        )
        print(f"registered fob {row.serial} ({row.credential}) in {row.agency}'s property room")
        return publish(district, store, lambda p: p.stage_changes(_actor()))


def cmd_fob_change(args: argparse.Namespace) -> int:
    action: str = args.fob_action
    district = _district(args)
    with district.store() as store:
        reg = Register(store)
        question = f"destroy fob {args.serial.strip()}? It is never issued again."
        if action == "destroy" and not args.yes and not _confirm(question):
            print("not confirmed: nothing changed", file=sys.stderr)
            return 1
        kw: dict[str, Any] = {"actor": _actor(), "reason": args.reason}
        if action not in ("lost", "stolen"):
            kw["witness"] = args.witness
        if action in ("issue", "reassign"):
            kw["acknowledgement"] = args.ack
            fn = reg.issue if action == "issue" else reg.reassign
            row = fn(args.serial, args.officer, **kw)
        else:
            row = {
                "lost": reg.lost,
                "stolen": reg.stolen,
                "found": reg.found,
                "return": reg.return_fob,
                "destroy": reg.destroy,
            }[action](args.serial, **kw)
        where = f"held by {row.custodian}" if row.custodian else f"in {row.agency}'s property room"
        print(f"fob {row.serial}: {'destroyed' if row.destroyed else row.status}, {where}")
        return publish(district, store, lambda p: p.stage_changes(_actor()))


def cmd_fob_history(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        history = Register(store).history(args.serial)
    for r in history.rows:
        if args.json:
            print(_json(r))
            continue
        when = r.at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        moved = f"{r.before or 'property room'} -> {r.after or 'property room'}"
        extra = "".join(
            f"  {label} {value!r}"
            for label, value in (
                ("acknowledged", r.acknowledgement),
                ("reason", r.reason),
                ("witness", r.witness),
            )
            if value
        )
        mark = "" if r.intact else "  TAMPERED"
        print(f"{when}  {r.action:<10} {moved:<40} by {r.actor}{extra}{mark}")
    if history.intact:
        print(
            f"fob {history.serial} ({history.credential}): chain of custody intact", file=sys.stderr
        )
        return 0
    print(
        f"doorward: error: fob {history.serial}: the chain of custody is NOT intact "
        "(its file was edited around the register"
        + ("" if history.tail_matches else "; its last link is not the fob's custodian now")
        + ")",
        file=sys.stderr,
    )
    return 1


def cmd_fob_list(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        rows = Register(store).fobs(
            serial=args.serial,
            officer=args.officer,
            agency=args.agency,
            status=args.status,
            limit=args.limit,
            offset=args.offset,
        )
    if not args.json:
        print(f"{'SERIAL':<14} {'CREDENTIAL':<22} {'STATUS':<10} {'AGENCY':<24} CUSTODIAN")
    for f in rows:
        status = "destroyed" if f.destroyed else f.status
        print(
            _json(f)
            if args.json
            else f"{f.serial:<14} {f.credential:<22} {status:<10} {(f.agency or '-')[:24]:<24} "
            f"{f.custodian or 'property room'}"
        )
    return 0


def cmd_fob_import(args: argparse.Namespace) -> int:
    district = _district(args)
    with district.store() as store:
        try:
            count = Register(store).import_csv(Path(args.file), actor=_actor())
        except ImportRejected as exc:
            return cards.rejected(args.file, exc)
        print(f"registered {count} fob(s) from {args.file}")
        return publish(district, store, lambda p: p.stage_changes(_actor()))


def cmd_fob_export(args: argparse.Namespace) -> int:
    with _district(args).store() as store:
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                Register(store).export_csv(out)
        else:
            Register(store).export_csv(sys.stdout)
    return 0


__all__ = ["DistrictError", "register"]
