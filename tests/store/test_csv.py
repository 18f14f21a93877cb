"""CSV import (all or nothing, every error with its line) and export."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance.core.model import Status
from appliance.store import ImportRejected, Store, StoreError

from .test_schema import _tables

GOOD = """\
Format,Facility,Number,Holder,Serial,Group,Notes
H10301,12,3456,Ann Lee,F-001,staff,first
h10301,12,3457,Ann Lee,F-002,,
H10302,,99999,"Diaz, Officer",PD-1,responders,"county"
RAW40,,1099511627775,Bo,,staff,
"""


def _rejected(store: Store, text: str | Path) -> list[tuple[int, str]]:
    with pytest.raises(ImportRejected) as err:
        store.cards.import_csv(text, actor="office")
    assert isinstance(err.value, StoreError)
    return err.value.errors


def test_good_file(store: Store) -> None:
    assert store.cards.import_csv(GOOD, actor="office") == 4
    rows = {r.credential: r for r in store.cards.list()}
    assert set(rows) == {"H10301:12:3456", "H10301:12:3457", "H10302:99999", "RAW40:1099511627775"}
    assert rows["H10302:99999"].holder == "Diaz, Officer"
    assert rows["H10302:99999"].group == "responders"
    assert rows["H10301:12:3457"].group == "staff"  # empty group means staff
    assert rows["H10301:12:3457"].serial == "F-002"
    assert rows["RAW40:1099511627775"].serial is None
    assert all(r.issued_by == "office" and r.status is Status.ISSUED for r in rows.values())
    assert {h.name: h.credentials for h in store.holders.list()} == {
        "Ann Lee": 2,
        "Bo": 1,
        "Diaz, Officer": 1,
    }
    imported = store.events.query(serial="PD-1")
    assert [e.detail["line"] for e in imported if e.detail] == [4]
    cards, rev = store.load_cards()
    assert len(cards) == 4 and {e.id for _, e in cards} == {r.id for r in rows.values()}
    assert all(r.rev == rev for r in rows.values())


def test_bad_rows_all_reported_nothing_imported(store: Store, db_path: Path) -> None:
    store.cards.add("H10301", 1, 1, "Existing", serial="OLD", actor="a")
    text = (
        "format,facility,number,holder,serial,group\n"  # 1
        "H10301,1,2,Ann,S1,staff\n"  # 2: fine
        "H10301,,3,Ann,S2,staff\n"  # 3: facility missing
        'H10302,,4,"Multi\n'  # 4: a quoted field over three lines (a newline in a name)
        "line\n"  # 5
        'name",S3,staff\n'  # 6
        "H10301,1,5,Bo,S1,staff\n"  # 7: serial repeats line 2
        "H10301,1,2,Cy,S4,staff\n"  # 8: credential repeats line 2
        "H10301,1,1,Dee,S5,staff\n"  # 9: credential already on record
        "H10301,1,6,Eve,OLD,staff\n"  # 10: serial already on record
        "H99,1,7,Fay,S6,staff\n"  # 11: unknown format
        "H10301,1,abc,,S7,janitors\n"  # 12: bad number, no holder, unknown group
        "H10301,300,8,Gus,S8,staff\n"  # 13: facility out of range
        "RAW128,,9223372036854775808,Hal,S9,staff\n"  # 14: too big for SQLite
        "H10301,1,9,Ida,S10,staff,surplus\n"  # 15: more fields than the header
        "\n"  # 16: blank, ignored
        "H10301,1,10,Jo,S11,staff\n"  # 17: fine
    )
    before = _tables(db_path)
    errors = _rejected(store, text)
    assert _tables(db_path) == before
    lines = [line for line, _ in errors]
    assert lines == sorted(lines)
    assert sorted(set(lines)) == [3, 4, 7, 8, 9, 10, 11, 12, 13, 14, 15]
    by_line: dict[int, list[str]] = {}
    for line, why in errors:
        by_line.setdefault(line, []).append(why)
    assert by_line[3] == ["H10301 needs a facility code"]
    assert any("control character" in w for w in by_line[4])
    assert by_line[7] == ["serial 'S1' is also on line 2"]
    assert by_line[8] == ["credential H10301:1:2 is also on line 2"]
    assert "already on record (holder 'Existing', issued)" in by_line[9][0]
    assert "serial 'OLD' is already used by H10301:1:1" in by_line[10][0]
    assert "unknown Wiegand format 'H99'" in by_line[11][0]
    assert len(by_line[12]) == 3
    assert any("'abc' is not a whole number" in w for w in by_line[12])
    assert any("holder name must not be empty" in w for w in by_line[12])
    assert any("unknown group 'janitors'" in w for w in by_line[12])
    assert "facility 300 is out of range" in by_line[13][0]
    assert "too large to store" in by_line[14][0]
    assert by_line[15] == ["row has 7 fields but the header has 6"]


def test_multiline_field_counts_its_lines(store: Store) -> None:
    text = (
        "format,number,holder,status_reason,status\n"
        'H10302,1,Ann,"returned\nat the office\n",returned\n'  # lines 2-4
        "H10302,2,,,\n"  # line 5
    )
    assert _rejected(store, text) == [(5, "holder name must not be empty")]
    assert store.cards.import_csv(text.replace(",,,", ",Bo,,"), actor="a") == 2
    [row] = store.cards.list(holder="Ann")
    assert row.status is Status.RETURNED and row.status_reason == "returned\nat the office"


def test_extra_columns_any_order_and_case(store: Store) -> None:
    text = " GROUP ,Room,holder , NUMBER,Format\nresponders,12,Zed,77,H10302\n"
    assert store.cards.import_csv(text, actor="a") == 1
    [row] = store.cards.list()
    assert (row.credential, row.group, row.holder) == ("H10302:77", "responders", "Zed")


def test_missing_columns_named(store: Store) -> None:
    errors = _rejected(store, "Format,Facility,Holder,Serial\nH10301,1,Ann,S\n")
    assert errors == [
        (1, "missing column(s) number (the header has 'Format', 'Facility', 'Holder', 'Serial')")
    ]
    errors = _rejected(store, "format,number,holder,number\nH10302,1,Ann,2\n")
    assert errors == [(1, "column 'number' appears twice in the header")]


def test_empty_and_header_only(store: Store) -> None:
    assert _rejected(store, "") == [(1, "the file is empty: expected a header row")]
    assert store.cards.import_csv("format,number,holder\n", actor="a") == 0
    assert store.cards.count() == 0


def test_bom_and_path(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cards.csv"
    path.write_bytes("format,number,holder\r\nH10302,5,Zoë\r\n".encode("utf-8-sig"))
    assert store.cards.import_csv(path, actor="a") == 1
    assert store.cards.list()[0].holder == "Zoë"
    assert store.cards.import_csv("\ufeffformat,number,holder\nH10302,6,Al\n", actor="a") == 1


def test_not_utf8_names_the_line(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes("format,number,holder\nH10302,5,Zo\u00eb\n".encode("latin-1"))
    assert _rejected(store, path) == [(2, "not UTF-8 text (save the file as CSV UTF-8)")]


def test_unreadable_path(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot read"):
        store.cards.import_csv(tmp_path / "absent.csv", actor="a")


def test_broken_quoting(store: Store) -> None:
    errors = _rejected(store, 'format,number,holder\nH10302,1,"Ann\n')
    assert len(errors) == 1 and errors[0][0] == 2 and "malformed CSV" in errors[0][1]


def test_validity_columns(store: Store) -> None:
    text = (
        "format,number,holder,valid_from,valid_until\n"
        "H10302,1,Sub,2024-09-01T07:00:00-04:00,2024-09-01T15:00:00Z\n"
        "H10302,2,Sub,2024-09-01T07:00:00,\n"
        "H10302,3,Sub,tomorrow,\n"
        "H10302,4,Sub,2024-09-02T00:00:00Z,2024-09-01T00:00:00Z\n"
    )
    errors = _rejected(store, text)
    assert [line for line, _ in errors] == [3, 4, 5]
    assert "no time zone" in errors[0][1] and "ISO 8601" in errors[1][1]
    assert "later than valid_from" in errors[2][1]
    assert store.cards.import_csv("\n".join(text.splitlines()[:2]), actor="a") == 1
    row = store.cards.list()[0]
    assert row.valid_from == datetime(2024, 9, 1, 11, 0, tzinfo=UTC)
    assert row.valid_until == datetime(2024, 9, 1, 15, 0, tzinfo=UTC)


def test_export_import_round_trip(store: Store, tmp_path: Path) -> None:
    store.holders.add("Diaz", agency="County Sheriff", actor="a")
    store.cards.import_csv(GOOD, actor="office")
    store.cards.add("H10301", 1, 1, "Diaz", serial="PD-2", group="responders", actor="a")
    store.cards.add(
        "H10302", None, 5, "Temp, Sub", valid_until=datetime(2030, 1, 1, tzinfo=UTC), actor="a"
    )
    store.cards.set_status(serial="F-001", status="revoked", reason="left, in June", actor="a")
    out = io.StringIO(newline="")
    assert store.cards.export_csv(out) == 6
    exported = out.getvalue()

    with Store(tmp_path / "copy.db") as copy:
        copy.init("Front door")
        assert copy.cards.import_csv(exported, actor="restore") == 6

        def summary(s: Store) -> list[tuple[object, ...]]:
            return sorted(
                (
                    r.credential,
                    r.holder,
                    r.agency,
                    r.serial,
                    r.group,
                    r.status,
                    r.status_reason,
                    r.valid_from,
                    r.valid_until,
                )
                for r in s.cards.list()
            )

        assert summary(copy) == summary(store)
        again = io.StringIO(newline="")
        copy.cards.export_csv(again)
        drop_issued = [line.rsplit(",", 1)[0] for line in exported.splitlines()]
        assert [line.rsplit(",", 1)[0] for line in again.getvalue().splitlines()] == drop_issued
    only_revoked = io.StringIO(newline="")
    assert store.cards.export_csv(only_revoked, statuses=["revoked"]) == 1


def test_import_refuses_bad_status_and_actor(store: Store) -> None:
    errors = _rejected(store, "format,number,holder,status\nH10302,1,Ann,misplaced\n")
    assert errors == [
        (2, "unknown status 'misplaced': expected one of issued, returned, lost, stolen, revoked")
    ]
    with pytest.raises(StoreError, match="actor"):
        store.cards.import_csv("format,number,holder\n", actor=" ")
