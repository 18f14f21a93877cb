"""The fob register: agencies, officers, every custody operation and every refusal."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.district.register import FobRow, Register
from appliance.store import ImportRejected, Store, StoreError
from tests.store.conftest import StepClock

from .conftest import ACTOR


def status(store: Store, serial: str) -> tuple[str, str | None]:
    rows = {r.serial: r for r in store.cards.list()}
    return rows[serial].status.value, rows[serial].holder


def test_agencies_are_listed_with_their_officers(reg: Register) -> None:
    rows = {a.name: a for a in reg.agencies()}
    assert (rows["Casper PD"].kind, rows["Casper PD"].officers) == ("police", 2)
    assert rows["Natrona Sheriff"].officers == 1


@pytest.mark.parametrize(
    ("name", "kind", "message"),
    [
        ("casper pd", "police", "already on record"),
        ("Cody FD", "navy", "not one of police, sheriff, fire, ems, other"),
        ("  ", "fire", "agency must not be empty"),
        ("x" * 151, "fire", "limit is 150"),
    ],
)
def test_a_bad_agency_is_refused(reg: Register, name: str, kind: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        reg.add_agency(name, kind, actor=ACTOR)
    assert len(reg.agencies()) == 2


def test_an_officer_is_a_holder_of_the_master_list(reg: Register, store: Store) -> None:
    holders = {h.name: h for h in store.holders.list()}
    assert (holders["Jane Ortiz"].agency, holders["Jane Ortiz"].badge) == ("Casper PD", "101")
    officer = reg.officers(search="ortiz")[0]
    assert (officer.agency, officer.badge, officer.status, officer.fobs) == (
        "Casper PD",
        "101",
        "active",
        0,
    )


def test_officers_filter_by_agency_status_and_search(reg: Register) -> None:
    assert [o.name for o in reg.officers(agency="Casper PD")] == ["Dan Cole", "Jane Ortiz"]
    assert [o.name for o in reg.officers(agency="Natrona Sheriff")] == ["Sam Reed"]
    reg.set_officer_status("Dan Cole", "on_leave", reason="training", actor=ACTOR)
    assert [o.name for o in reg.officers(status="on_leave")] == ["Dan Cole"]
    assert [o.name for o in reg.officers(search="102")] == ["Dan Cole"]


@pytest.mark.parametrize(
    ("name", "agency", "badge", "message"),
    [
        ("Ann Fox", "Casper PD", "101", "badge '101' of Casper PD is already used by 'Jane Ortiz'"),
        ("Jane Ortiz", "Natrona Sheriff", "9", "holder 'Jane Ortiz' already exists"),
        ("Ann Fox", "Nowhere PD", "9", "no agency named 'Nowhere PD'"),
        ("Ann Fox", "Casper PD", " ", "badge must not be empty"),
    ],
)
def test_a_bad_officer_is_refused(
    reg: Register, store: Store, name: str, agency: str, badge: str, message: str
) -> None:
    before = store.current_rev()
    with pytest.raises(StoreError, match=message):
        reg.add_officer(name, agency=agency, badge=badge, actor=ACTOR)
    assert store.current_rev() == before
    assert len(reg.officers()) == 3


def test_the_same_badge_in_another_agency_is_fine(reg: Register) -> None:
    assert {(o.agency, o.badge) for o in reg.officers(search="101")} == {
        ("Casper PD", "101"),
        ("Natrona Sheriff", "101"),
    }


def test_a_registered_fob_waits_in_the_property_room(reg: Register, store: Store) -> None:
    assert status(store, "CPD-1") == ("returned", "Casper PD property room")
    fob = reg.fobs(serial="CPD-1")[0]
    assert (fob.custodian, fob.agency, fob.group, fob.status) == (
        None,
        "Casper PD",
        "responders",
        "returned",
    )


def test_issue_needs_the_officers_name_typed(reg: Register, store: Store) -> None:
    with pytest.raises(StoreError, match="acknowledgement must be the officer's name"):
        reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortis", actor=ACTOR)
    assert status(store, "CPD-1") == ("returned", "Casper PD property room")
    fob = reg.issue("CPD-1", "Jane Ortiz", acknowledgement="  jane ORTIZ ", actor=ACTOR)
    assert (fob.custodian, fob.badge, fob.status) == ("Jane Ortiz", "101", "issued")
    assert status(store, "CPD-1") == ("issued", "Jane Ortiz")
    assert reg.officers(search="Ortiz")[0].fobs == 1
    assert reg.history("CPD-1").rows[-1].acknowledgement == "jane ORTIZ"


def test_the_whole_life_of_a_fob(reg: Register, store: Store, clock: StepClock) -> None:
    steps: list[Callable[[], FobRow]] = [
        lambda: reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR),
        lambda: reg.reassign("CPD-1", "Dan Cole", acknowledgement="dan cole", actor=ACTOR),
        lambda: reg.lost("CPD-1", actor=ACTOR, reason="dropped on patrol"),
        lambda: reg.found("CPD-1", actor=ACTOR, witness="Sgt. Bell"),
        lambda: reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR),
        lambda: reg.stolen("CPD-1", actor=ACTOR, reason="car break-in"),
        lambda: reg.found("CPD-1", actor=ACTOR),
        lambda: reg.issue("CPD-1", "Dan Cole", acknowledgement="Dan Cole", actor=ACTOR),
        lambda: reg.return_fob("CPD-1", actor=ACTOR, witness="Sgt. Bell"),
        lambda: reg.destroy("CPD-1", actor=ACTOR, reason="cracked case", witness="Sgt. Bell"),
    ]
    seen = []
    for step in steps:
        clock.advance(60)
        fob = step()
        seen.append((fob.status, fob.custodian))
    assert seen == [
        ("issued", "Jane Ortiz"),
        ("issued", "Dan Cole"),
        ("lost", "Dan Cole"),
        ("returned", None),
        ("issued", "Jane Ortiz"),
        ("stolen", "Jane Ortiz"),
        ("returned", None),
        ("issued", "Dan Cole"),
        ("returned", None),
        ("revoked", None),
    ]
    history = reg.history("CPD-1")
    assert history.intact
    assert [(r.action, r.before, r.after) for r in history.rows] == [
        ("registered", None, None),
        ("issued", None, "Jane Ortiz"),
        ("reassigned", "Jane Ortiz", "Dan Cole"),
        ("lost", "Dan Cole", "Dan Cole"),
        ("found", "Dan Cole", None),
        ("issued", None, "Jane Ortiz"),
        ("stolen", "Jane Ortiz", "Jane Ortiz"),
        ("found", "Jane Ortiz", None),
        ("issued", None, "Dan Cole"),
        ("returned", "Dan Cole", None),
        ("destroyed", None, None),
    ]
    assert history.rows[3].reason == "dropped on patrol"
    assert history.rows[-1].witness == "Sgt. Bell"
    assert all(r.actor == ACTOR for r in history.rows)
    assert history.rows[1].at < history.rows[2].at


def test_a_destroyed_fob_is_never_issued_again(reg: Register, store: Store) -> None:
    reg.destroy("CPD-1", actor=ACTOR)
    attempts: list[Callable[[], FobRow]] = [
        lambda: reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR),
        lambda: reg.found("CPD-1", actor=ACTOR),
        lambda: reg.lost("CPD-1", actor=ACTOR),
        lambda: reg.destroy("CPD-1", actor=ACTOR),
    ]
    for attempt in attempts:
        with pytest.raises(StoreError, match="was destroyed on 2023-11-14: it is never used"):
            attempt()
    assert status(store, "CPD-1")[0] == "revoked"
    assert reg.fobs()[0].destroyed


@pytest.mark.parametrize(
    ("prepare", "attempt", "message"),
    [
        ("", "return", "only a fob an officer holds is returned"),
        ("", "reassign", "only an issued fob is reassigned"),
        ("", "found", "only a lost or stolen fob is found"),
        ("issue", "issue", "only a fob in the property room is issued"),
        ("issue", "reassign-same", "already held by 'Jane Ortiz'"),
        ("issue", "reassign-sheriff", "belongs to Casper PD; officer 'Sam Reed' is of Natrona"),
        ("", "issue-sheriff", "belongs to Casper PD; officer 'Sam Reed' is of Natrona"),
        ("", "issue-on-leave", "'Dan Cole' is on leave: fobs are issued only to active"),
        ("lost", "lost", "already reported lost"),
        ("lost", "stolen", "already reported lost"),
        ("lost", "return", "only a fob an officer holds is returned"),
        ("", "nobody", "no officer named 'Nobody'"),
        ("", "unknown", "no fob with serial 'CPD-9' in the register"),
    ],
)
def test_every_refusal_changes_nothing(
    reg: Register, store: Store, prepare: str, attempt: str, message: str
) -> None:
    if prepare in ("issue", "lost"):
        reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR)
    if prepare == "lost":
        reg.lost("CPD-1", actor=ACTOR)
    reg.set_officer_status("Dan Cole", "on_leave", actor=ACTOR)
    before = (store.current_rev(), len(reg.history("CPD-1").rows), status(store, "CPD-1"))
    actions = {
        "return": lambda: reg.return_fob("CPD-1", actor=ACTOR),
        "reassign": lambda: reg.reassign("CPD-1", "Jane Ortiz", acknowledgement="x", actor=ACTOR),
        "reassign-same": lambda: reg.reassign(
            "CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR
        ),
        "reassign-sheriff": lambda: reg.reassign(
            "CPD-1", "Sam Reed", acknowledgement="Sam Reed", actor=ACTOR
        ),
        "found": lambda: reg.found("CPD-1", actor=ACTOR),
        "issue": lambda: reg.issue(
            "CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR
        ),
        "issue-sheriff": lambda: reg.issue(
            "CPD-1", "Sam Reed", acknowledgement="Sam Reed", actor=ACTOR
        ),
        "issue-on-leave": lambda: reg.issue(
            "CPD-1", "Dan Cole", acknowledgement="Dan Cole", actor=ACTOR
        ),
        "lost": lambda: reg.lost("CPD-1", actor=ACTOR),
        "stolen": lambda: reg.stolen("CPD-1", actor=ACTOR),
        "nobody": lambda: reg.issue("CPD-1", "Nobody", acknowledgement="Nobody", actor=ACTOR),
        "unknown": lambda: reg.lost("CPD-9", actor=ACTOR),
    }
    with pytest.raises(StoreError, match=message):
        actions[attempt]()
    assert (store.current_rev(), len(reg.history("CPD-1").rows), status(store, "CPD-1")) == before


def test_a_card_outside_the_register_is_not_a_fob_of_it(reg: Register, store: Store) -> None:
    store.cards.add("H10301", 12, 50, "Mr. Dan Smith", serial="KW-50", actor=ACTOR)
    with pytest.raises(StoreError, match="no fob with serial 'KW-50' in the register"):
        reg.lost("KW-50", actor=ACTOR)
    assert [f.serial for f in reg.fobs()] == ["CPD-1"]


def test_registering_checks_the_card_the_serial_and_the_agency(reg: Register) -> None:
    for kwargs, message in (
        ({"serial": "CPD-1", "agency": "Casper PD"}, "serial 'CPD-1' is already used"),
        ({"serial": "", "agency": "Casper PD"}, "needs a serial"),
        ({"serial": "CPD-2", "agency": "Cody PD"}, "no agency named 'Cody PD'"),
        ({"serial": "CPD-2", "agency": "Casper PD", "group": "nope"}, "nope"),
    ):
        with pytest.raises(StoreError, match=message):
            reg.register_fob("H10301", 12, 2, actor=ACTOR, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="already on record"):
        reg.register_fob("H10301", 12, 1, serial="CPD-2", agency="Casper PD", actor=ACTOR)
    assert [f.serial for f in reg.fobs()] == ["CPD-1"]


def test_separate_revokes_every_fob_the_officer_holds(reg: Register, store: Store) -> None:
    for n in (2, 3):
        reg.register_fob("H10301", 12, n, serial=f"CPD-{n}", agency="Casper PD", actor=ACTOR)
        reg.issue(f"CPD-{n}", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR)
    reg.issue("CPD-1", "Dan Cole", acknowledgement="Dan Cole", actor=ACTOR)
    reg.lost("CPD-3", actor=ACTOR)  # lost already: stays lost
    store.cards.add("H10301", 12, 9, "Jane Ortiz", serial="OLD-9", actor=ACTOR)  # outside
    assert reg.separate("Jane Ortiz", reason="retired", actor=ACTOR) == 2
    assert status(store, "CPD-2") == ("revoked", "Jane Ortiz")
    assert status(store, "OLD-9") == ("revoked", "Jane Ortiz")
    assert status(store, "CPD-3")[0] == "lost"
    assert status(store, "CPD-1") == ("issued", "Dan Cole")
    jane = reg.officers(search="Jane")[0]
    assert (jane.status, jane.status_reason, jane.fobs) == ("separated", "retired", 0)
    assert reg.history("CPD-2").rows[-1].action == "revoked"
    with pytest.raises(StoreError, match="already separated"):
        reg.separate("Jane Ortiz", actor=ACTOR)
    # the revoked fob comes back to the property room, and is not issued to her again
    assert reg.return_fob("CPD-2", actor=ACTOR).status == "returned"
    with pytest.raises(StoreError, match="is separated: fobs are issued only to active"):
        reg.issue("CPD-2", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR)


def test_set_status_does_not_separate(reg: Register) -> None:
    with pytest.raises(StoreError, match="separated with 'separate'"):
        reg.set_officer_status("Jane Ortiz", "separated", actor=ACTOR)
    with pytest.raises(StoreError, match="not one of active, on_leave, separated"):
        reg.set_officer_status("Jane Ortiz", "gone", actor=ACTOR)


def test_search_by_serial_officer_agency_and_status(reg: Register) -> None:
    reg.add_agency("Mills PD", "police", actor=ACTOR)
    reg.register_fob("H10301", 12, 2, serial="CPD-2", agency="Casper PD", actor=ACTOR)
    reg.register_fob("H10301", 12, 3, serial="NSO-3", agency="Natrona Sheriff", actor=ACTOR)
    reg.issue("CPD-2", "Dan Cole", acknowledgement="Dan Cole", actor=ACTOR)
    reg.issue("NSO-3", "Sam Reed", acknowledgement="Sam Reed", actor=ACTOR)
    assert [f.serial for f in reg.fobs(serial="cpd")] == ["CPD-1", "CPD-2"]
    assert [f.serial for f in reg.fobs(officer="Dan Cole")] == ["CPD-2"]
    assert [f.serial for f in reg.fobs(agency="Natrona Sheriff")] == ["NSO-3"]
    assert [f.serial for f in reg.fobs(agency="Mills PD")] == []
    assert [f.serial for f in reg.fobs(status="issued")] == ["CPD-2", "NSO-3"]
    assert [f.serial for f in reg.fobs(agency="Casper PD", status="returned")] == ["CPD-1"]
    with pytest.raises(StoreError, match="no agency named 'Nope'"):
        reg.fobs(agency="Nope")


def test_the_custody_table_refuses_update_and_delete(reg: Register, store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        for sql in (
            "UPDATE district_custody SET actor = 'mallory'",
            "DELETE FROM district_custody",
        ):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                conn.execute(sql)
    assert reg.history("CPD-1").rows[0].actor == ACTOR


def _tamper(path: Path, sql: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("DROP TRIGGER district_custody_no_update")
        conn.execute("DROP TRIGGER district_custody_no_delete")
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE district_custody SET actor = 'mallory' WHERE action = 'issued'",
        "UPDATE district_custody SET at = at + 1 WHERE action = 'registered'",
        "DELETE FROM district_custody WHERE action = 'issued'",
        "DELETE FROM district_custody WHERE action = 'returned'",  # the tail cut off
    ],
)
def test_a_chain_edited_around_the_triggers_is_not_intact(
    reg: Register, store: Store, sql: str
) -> None:
    reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR)
    reg.return_fob("CPD-1", actor=ACTOR)
    assert reg.history("CPD-1").intact
    _tamper(store.path, sql)
    history = reg.history("CPD-1")
    assert not history.intact
    assert not all(r.intact for r in history.rows) or not history.tail_matches


CSV = (
    "format,facility,number,serial,agency,group\n"
    "H10301,12,20,CPD-20,Casper PD,responders\n"
    "H10301,12,21,'=CPD-21,Natrona Sheriff,\n"
)


def test_import_registers_every_row(reg: Register) -> None:
    assert reg.import_csv(CSV, actor=ACTOR) == 2
    rows = {f.serial: f for f in reg.fobs()}
    assert rows["CPD-20"].agency == "Casper PD"
    assert rows["=CPD-21"].agency == "Natrona Sheriff"
    assert rows["=CPD-21"].group == "responders"
    assert reg.history("CPD-20").rows[0].action == "registered"


def test_import_is_all_or_nothing_naming_every_bad_line(reg: Register, store: Store) -> None:
    bad = (
        "format,facility,number,serial,agency\n"
        "H10301,12,30,CPD-30,Casper PD\n"
        "H10301,12,x,CPD-31,Casper PD\n"
        "H10301,12,32,,Casper PD\n"
        "H10301,12,33,CPD-30,Casper PD\n"
        "H10301,12,34,CPD-34,Nowhere PD\n"
        "H10301,12,1,CPD-35,Casper PD\n"
    )
    before = store.current_rev()
    with pytest.raises(ImportRejected) as caught:
        reg.import_csv(bad, actor=ACTOR)
    lines = [line for line, _ in caught.value.errors]
    assert lines == [3, 4, 5]  # the file alone: the database is not asked
    assert "not a whole number" in caught.value.errors[0][1]
    assert "serial is empty" in caught.value.errors[1][1]
    assert "also on line 2" in caught.value.errors[2][1]
    good_file_bad_rows = bad.replace("H10301,12,x,CPD-31", "H10301,12,31,CPD-31")
    good_file_bad_rows = good_file_bad_rows.replace("12,32,,", "12,32,CPD-32,")
    good_file_bad_rows = good_file_bad_rows.replace("33,CPD-30", "33,CPD-33")
    with pytest.raises(ImportRejected) as caught:
        reg.import_csv(good_file_bad_rows, actor=ACTOR)
    assert [
        (line, "Nowhere" in m or "already on record" in m) for line, m in caught.value.errors
    ] == [
        (6, True),
        (7, True),
    ]
    assert store.current_rev() == before
    assert [f.serial for f in reg.fobs()] == ["CPD-1"]
    with pytest.raises(ImportRejected, match="missing column"):
        reg.import_csv("format,number\nH10301,1\n", actor=ACTOR)
    with pytest.raises(ImportRejected, match="empty"):
        reg.import_csv("", actor=ACTOR)


def test_export_is_injection_safe_and_imports_back(reg: Register, store: Store) -> None:
    reg.add_agency("=cmd|'/c calc'!A1", "other", actor=ACTOR)
    reg.register_fob("H10301", 12, 7, serial="@SUM(1)", agency="=cmd|'/c calc'!A1", actor=ACTOR)
    reg.issue("CPD-1", "Jane Ortiz", acknowledgement="Jane Ortiz", actor=ACTOR)
    out = io.StringIO()
    assert reg.export_csv(out) == 2
    text = out.getvalue()
    assert "'@SUM(1)" in text and "'=cmd" in text
    assert "Jane Ortiz,101" in text
    # the export is the import's format: into a fresh register it comes back the same
    with Store(store.path.with_name("other.db")) as fresh:
        fresh.init("another console")
        other = Register(fresh)
        other.add_agency("Casper PD", "police", actor=ACTOR)
        other.add_agency("=cmd|'/c calc'!A1", "other", actor=ACTOR)
        assert other.import_csv(text, actor=ACTOR) == 2
        assert {f.serial: f.agency for f in other.fobs()} == {
            "@SUM(1)": "=cmd|'/c calc'!A1",
            "CPD-1": "Casper PD",
        }
