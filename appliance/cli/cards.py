"""Commands for fobs and badges, their holders and their groups."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self

from appliance.cli import UsageError
from appliance.cli.common import (
    BOX_CONFIG,
    actor,
    examples,
    load,
    notify,
    open_store,
    paging,
    positive_int,
    yield_to_the_door,
)
from appliance.config import Config
from appliance.core.model import Status
from appliance.store import ImportRejected, Store
from appliance.wiegand.formats import credential_from_fields


class CardTarget(Protocol):
    """Where the card, holder and group commands act: a box's store, or the district's list.

    A command opens the target's store once, makes its change, and hands the same open store to
    ``changed`` before closing it.
    """

    ON: ClassVar[str]  # what the --help examples name before the command (after ``doorward``)

    @classmethod
    def for_args(cls, args: argparse.Namespace) -> Self:
        """The target the command line names (a clear error if it is not there)."""
        ...

    def open_store(self) -> Store:
        """The store the commands read and change."""
        ...

    def actor(self) -> str:
        """Who makes the change, as the audit log and the published list both name them."""
        ...

    def changed(self, store: Store, rev: int | None) -> int:
        """Make a change just made in ``store`` take effect; return the command's exit status.

        ``rev``: the store's change counter after a change the doors decide on, or None for one
        they do not (a holder's details).
        """
        ...


class BoxTarget:
    """This box: its config's store; a change wakes the running controller (if there is one)."""

    ON: ClassVar[str] = f"--config {BOX_CONFIG}"

    def __init__(self, config: Config) -> None:
        self.config = config

    @classmethod
    def for_args(cls, args: argparse.Namespace) -> Self:
        return cls(load(args))

    def open_store(self) -> Store:
        return open_store(self.config)

    def actor(self) -> str:
        return actor()

    def changed(self, store: Store, rev: int | None) -> int:
        if rev is not None:  # None: a holder's details, nothing the controller decides on
            notify(self.config, rev)
        return 0


def _target(args: argparse.Namespace) -> CardTarget:
    target: type[CardTarget] = args.target
    return target.for_args(args)


def _selector(p: argparse.ArgumentParser) -> None:
    p.add_argument("--serial", help="the fob's serial number")
    p.add_argument("--format", help="the card format, with --number (and --facility)")
    p.add_argument("--facility", type=positive_int)
    p.add_argument("--number", type=positive_int)
    p.add_argument("--reason", help="why (kept in the audit log)")


def _command(sub: Any, name: str, target: type[CardTarget], **kwargs: Any) -> Any:
    """Add ``name`` (acting on ``target``) to ``sub``; returns the subparsers for its actions."""
    parser = sub.add_parser(name, **kwargs)
    parser.set_defaults(target=target)
    return parser.add_subparsers(dest=f"{name}_command", metavar="ACTION", required=True)


def register(sub: Any, target: type[CardTarget] = BoxTarget) -> None:
    """Add the card, holder and group commands to the parser, acting on ``target`` (this box, or
    the district console's master list)."""
    on = target.ON
    cs = _command(
        sub,
        "card",
        target,
        help="fobs and badges: add, revoke, list, import, export",
        **examples(
            f"{on} card list --status issued",
            f"{on} card lost --serial CPD-0042    # the fob is lost",
            f"{on} card import fobs.csv",
            note="A fob that is lost or stolen is marked so ('card lost', 'card stolen'), not "
            "only revoked:\nthe register then says what happened to it.",
        ),
    )
    p = cs.add_parser(
        "add",
        help="issue a credential to a holder",
        **examples(
            f"{on} card add --format H10301 --facility 12 --number 3456\n"
            '--holder "Officer Jane Ortiz" --serial CPD-0042 --group responders',
            f'{on} card add --format H10301 --facility 12 --number 3457\n--holder "Mr. Dan Cole"',
        ),
    )
    p.add_argument(
        "--format", required=True, help="H10301, H10306, C1K35S, H10304, H10302, C1K48S, RAW<N>"
    )
    p.add_argument("--facility", type=positive_int, help="facility code (formats that have one)")
    p.add_argument("--number", type=positive_int, required=True, help="card number")
    p.add_argument("--holder", required=True, help="the holder's name (created if new)")
    p.add_argument("--serial", help="the fob's serial number (unique)")
    p.add_argument("--group", default="staff", help="access group (default: staff)")
    p.add_argument("--valid-from", type=_when, help="ISO date/time it starts working")
    p.add_argument("--valid-until", type=_when, help="ISO date/time it stops working")
    p.add_argument("--pin", help="a PIN (4-12 digits) for groups that require card + PIN")
    p.set_defaults(handler=cmd_card_add)
    for name, status, text, example in (
        (
            "revoke",
            Status.REVOKED,
            "revoke a credential that is still in hand (it stops working at once; a lost fob: "
            "card lost)",
            '--serial KW-0012 --reason "left the district"',
        ),
        (
            "lost",
            Status.LOST,
            "mark a credential lost (it stops working at once)",
            "--serial CPD-0042",
        ),
        (
            "stolen",
            Status.STOLEN,
            "mark a credential stolen (it stops working at once)",
            '--serial CPD-0042 --reason "taken from a patrol car"',
        ),
        (
            "return",
            Status.RETURNED,
            "record a credential handed back (it stops working)",
            "--format H10301 --facility 12 --number 3456",
        ),
        ("reissue", Status.ISSUED, "put a credential back in service", "--serial CPD-0042"),
    ):
        p = cs.add_parser(name, help=text, **examples(f"{on} card {name} {example}"))
        _selector(p)
        p.set_defaults(handler=cmd_card_status, status=status)
    p = cs.add_parser("list", help="list credentials")
    p.add_argument("--status", choices=[s.value for s in Status])
    p.add_argument("--holder", help="only this holder's")
    p.add_argument("--search", help="match serial, holder or number")
    paging(p)
    p.set_defaults(handler=cmd_card_list)
    p = cs.add_parser(
        "import",
        help="import a CSV file: all rows or none",
        **examples(f"{on} card import fobs.csv"),
    )
    p.add_argument("file", help="CSV with columns format, facility, number, holder, serial, group")
    p.set_defaults(handler=cmd_card_import)
    p = cs.add_parser("export", help="export all credentials as CSV (importable)")
    p.add_argument("--output", "-o", help="file to write (default: standard output)")
    p.set_defaults(handler=cmd_card_export)

    hs = _command(sub, "holder", target, help="the people who hold credentials")
    p = hs.add_parser("add", help="add a holder")
    p.add_argument("name")
    p.add_argument("--agency", help="e.g. Casper Police Department")
    p.add_argument("--badge", help="badge or employee number")
    p.add_argument("--contact", help="phone or e-mail")
    p.set_defaults(handler=cmd_holder_add)
    p = hs.add_parser("list", help="list holders")
    p.set_defaults(handler=cmd_holder_list)

    gs = _command(sub, "group", target, help="access groups: which doors, when, lockdown immunity")
    p = gs.add_parser("add", help="add a group")
    p.add_argument("name")
    p.add_argument(
        "--door", action="append", dest="doors", help="a door it opens (repeat; default: all)"
    )
    p.add_argument(
        "--window",
        action="append",
        dest="windows",
        metavar="DAYS,HH:MM-HH:MM",
        help="a weekly window, e.g. mon-fri,07:00-17:30 (repeat; default: at all times)",
    )
    p.add_argument(
        "--holiday",
        action="append",
        dest="holidays",
        metavar="YYYY-MM-DD",
        default=[],
        help="a date it does not open (repeat)",
    )
    p.add_argument(
        "--lockdown-immune", action="store_true", help="opens during lockdown (responders)"
    )
    p.add_argument("--pin-required", action="store_true", help="card + PIN")
    p.set_defaults(handler=cmd_group_add)
    p = gs.add_parser("list", help="list groups")
    p.set_defaults(handler=cmd_group_list)


def _when(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO date/time (e.g. 2027-06-30T17:00)"
        ) from None
    return value if value.tzinfo else value.astimezone()


def cmd_card_add(args: argparse.Namespace) -> int:
    target = _target(args)
    cred = credential_from_fields(args.format, args.facility, args.number)
    serial = args.serial
    if serial is not None:
        # The store reads a blank serial as "none"; given on purpose here, it is a mistake.
        serial = serial.strip()
        if not serial:
            raise UsageError("--serial must not be blank (leave it out for a card without one)")
    with target.open_store() as store:
        store.cards.add(
            cred.format,
            cred.facility,
            cred.number,
            args.holder,
            serial=serial,
            group=args.group,
            actor=target.actor(),
            valid_from=args.valid_from,
            valid_until=args.valid_until,
            pin=args.pin,
        )
        code = target.changed(store, store.current_rev())
    print(f"added {cred} for {args.holder.strip()}" + (f" (serial {serial})" if serial else ""))
    return code


def cmd_card_status(args: argparse.Namespace) -> int:
    target = _target(args)
    if (args.serial is None) == (args.format is None):
        raise UsageError("give either --serial S or --format F --number N [--facility N]")
    selector = None
    if args.format is not None:
        if args.number is None:
            raise UsageError("--format needs --number")
        cred = credential_from_fields(args.format, args.facility, args.number)
        selector = (cred.format, cred.facility, cred.number)
    with target.open_store() as store:
        row = store.cards.set_status(
            serial=args.serial,
            credential=selector,
            status=args.status,
            reason=args.reason,
            actor=target.actor(),
        )
        code = target.changed(store, store.current_rev())
    print(f"{row.credential} ({row.holder or 'no holder'}): {row.status}")
    return code


def cmd_card_list(args: argparse.Namespace) -> int:
    target = _target(args)
    with target.open_store() as store:
        rows = store.cards.list(
            status=Status(args.status) if args.status else None,
            holder=args.holder,
            search=args.search,
            limit=args.limit,
            offset=args.offset,
        )
    print(f"{'CREDENTIAL':<24} {'SERIAL':<14} {'STATUS':<9} {'GROUP':<12} {'SOURCE':<8} HOLDER")
    for r in rows:
        print(
            f"{r.credential:<24} {r.serial or '-':<14} {r.status:<9} "
            f"{r.group or '-':<12} {r.source:<8} {r.holder or '-'}"
        )
    return 0


def rejected(file: str, exc: ImportRejected) -> int:
    """Say which rows of an import were refused and why; the exit status (2)."""
    for line, reason in exc.errors:
        print(f"{file}:{line}: {reason}", file=sys.stderr)
    print(f"doorward: error: {len(exc.errors)} rejected row(s): nothing imported", file=sys.stderr)
    return 2


def cmd_card_import(args: argparse.Namespace) -> int:
    target = _target(args)
    yield_to_the_door()  # a bulk job: the door comes first
    with target.open_store() as store:
        try:
            # a Path: the store takes a plain str as the CSV text itself, not as a file name
            count = store.cards.import_csv(Path(args.file), actor=target.actor())
        except ImportRejected as exc:
            return rejected(args.file, exc)
        rev = store.current_rev()
        code = target.changed(store, rev)
    print(f"imported {count} credential(s) from {args.file}")
    return code


def cmd_card_export(args: argparse.Namespace) -> int:
    target = _target(args)
    yield_to_the_door()
    with target.open_store() as store:
        if args.output:
            with open(args.output, "w", newline="", encoding="utf-8") as out:
                store.cards.export_csv(out)
        else:
            store.cards.export_csv(sys.stdout)
    return 0


def cmd_holder_add(args: argparse.Namespace) -> int:
    target = _target(args)
    with target.open_store() as store:
        store.holders.add(
            args.name,
            agency=args.agency,
            badge=args.badge,
            contact=args.contact,
            actor=target.actor(),
        )
        code = target.changed(store, None)
    print(f"added holder {args.name}")
    return code


def cmd_holder_list(args: argparse.Namespace) -> int:
    target = _target(args)
    with target.open_store() as store:
        for h in store.holders.list():
            print(f"{h.name:<32} {h.agency or '-':<32} {h.badge or '-'}")
    return 0


def cmd_group_add(args: argparse.Namespace) -> int:
    target = _target(args)
    schedule = [_window(w) for w in args.windows] if args.windows else None
    with target.open_store() as store:
        store.groups.add(
            args.name,
            doors=args.doors,
            always=schedule is None,
            schedule=schedule,
            holidays=args.holidays,
            lockdown_immune=args.lockdown_immune,
            pin_required=args.pin_required,
            actor=target.actor(),
        )
        code = target.changed(store, store.current_rev())
    print(f"added group {args.name}")
    return code


def _window(text: str) -> dict[str, str]:
    days, sep, times = text.rpartition(",")
    start, dash, end = times.partition("-")
    if not sep or not dash:
        raise UsageError(f"--window {text!r}: expected DAYS,HH:MM-HH:MM, e.g. mon-fri,07:00-17:30")
    return {"days": days, "start": start, "end": end}


def cmd_group_list(args: argparse.Namespace) -> int:
    target = _target(args)
    with target.open_store() as store:
        for g in store.groups.list():
            doors = "all doors" if g.all_doors else ", ".join(g.doors)
            when = "at all times" if g.always else f"{len(g.schedule)} window(s)"
            immune = "  LOCKDOWN-IMMUNE" if g.lockdown_immune else ""
            print(f"{g.name:<16} {doors:<30} {when}{immune}")
    return 0


__all__ = ["BoxTarget", "CardTarget", "Store", "register"]
