"""Every CSV export quotes cells a spreadsheet runs as formulas; the import undoes it exactly."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from appliance.store import Store
from appliance.store.tables.csvcell import FORMULA_START, SafeWriter, restore_cell, safe_cell

HOSTILE_HOLDER = '=HYPERLINK("http://x","y")'
SERIALS = ("+1", "-2", "@SUM(1)", "'quoted", "\uff1dcmd", "plain")


def _cells(store: Store) -> dict[str, dict[str, str]]:
    out = io.StringIO(newline="")
    store.cards.export_csv(out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    return {r["number"]: r for r in rows}


def _summary(store: Store) -> list[tuple[object, ...]]:
    return sorted(
        (r.credential, r.holder, r.agency, r.serial, r.group, r.status, r.status_reason)
        for r in store.cards.list()
    )


def test_formula_cells_are_quoted_and_a_reimport_gives_back_the_originals(
    store: Store, tmp_path: Path
) -> None:
    store.holders.add(HOSTILE_HOLDER, agency="@agency", actor="a")
    for n, serial in enumerate(SERIALS):
        store.cards.add("H10301", 1, n, HOSTILE_HOLDER, serial=serial, actor="a")
    store.cards.set_status(serial="+1", status="lost", reason="-left on the bus", actor="a")
    cells = _cells(store)
    assert cells["0"]["holder"] == "'" + HOSTILE_HOLDER
    assert cells["0"]["agency"] == "'@agency"
    assert [cells[str(n)]["serial"] for n in range(len(SERIALS))] == [
        "'+1",
        "'-2",
        "'@SUM(1)",
        "''quoted",  # a genuine leading quote gets one more, so the import is exact
        "'\uff1dcmd",
        "plain",
    ]
    assert cells["0"]["status_reason"] == "'-left on the bus"
    for row in cells.values():
        assert not any(cell.startswith(FORMULA_START) for cell in row.values())

    out = io.StringIO(newline="")
    store.cards.export_csv(out)
    with Store(tmp_path / "copy.db") as copy:
        copy.init("Front door")
        assert copy.cards.import_csv(out.getvalue(), actor="restore") == len(SERIALS)
        assert _summary(copy) == _summary(store)
        assert copy.cards.get(serial="'quoted") is not None


def test_a_hand_written_file_with_a_leading_quote_loses_exactly_one(store: Store) -> None:
    text = "format,facility,number,holder,serial\nH10301,1,1,'=1+2,''S-1\nH10301,1,2,Bo,'\n"
    assert store.cards.import_csv(text, actor="a") == 2
    first = store.cards.get(credential=("H10301", 1, 1))
    second = store.cards.get(credential=("H10301", 1, 2))
    assert first is not None and first.holder == "=1+2" and first.serial == "'S-1"
    assert second is not None and second.serial is None  # a lone quote is an empty cell


@given(st.text())
def test_restore_undoes_safe_cell_for_any_text(text: str) -> None:
    cell = safe_cell(text)
    assert restore_cell(cell) == text
    assert not cell.startswith(FORMULA_START)


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_any_text_survives_the_export_writer_and_back(texts: list[str]) -> None:
    out = io.StringIO(newline="")
    writer = SafeWriter(out)
    writer.writerow(texts)
    writer.writerow(["next"])
    first, second = csv.reader(io.StringIO(out.getvalue(), newline=""))
    assert [restore_cell(c) for c in first] == texts and second == ["next"]


def test_safe_cell_leaves_ordinary_values_alone() -> None:
    assert [safe_cell(v) for v in ("Ms. Shah", "H10301", 12, None, "a=b", "")] == [
        "Ms. Shah",
        "H10301",
        "12",
        "",
        "a=b",
        "",
    ]
