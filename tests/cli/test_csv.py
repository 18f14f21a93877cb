"""``doorward card import`` and ``export``: the whole file or nothing, every bad line named."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from appliance.config import load_config
from appliance.store import Store
from tests.cli.util import Cli, census, init_box

GOOD = """\
format,facility,number,holder,serial,group,notes
H10301,100,1001,Officer Jane Ortiz,CPD-0042,responders,day shift
h10302,,34359738367,Deputy Ana Ruiz,NCSO-7,responders,
C1K35S,4095,1048575,Ms. Priya Shah,,,front office
H10306,65535,1,Mr. Dan Cole,KW-40,staff,
"""


def write(tmp_path: Path, text: str, name: str = "cards.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def cards(config: Path) -> dict[str, tuple[str | None, str, str, str]]:
    """credential -> (serial, holder, group, status) for every card on the box."""
    with Store(load_config(config).db_path) as store:
        rows = store.cards.list(limit=10_000)
    return {r.credential: (r.serial, r.holder, r.group, r.status.value) for r in rows}


def test_good_import(box: Path, cli: Cli, tmp_path: Path) -> None:
    result = cli.on(box, "card", "import", str(write(tmp_path, GOOD)))
    assert result.code == 0, result.err
    assert result.out.startswith("imported 4 credential(s)")
    assert cards(box) == {
        "H10301:100:1001": ("CPD-0042", "Officer Jane Ortiz", "responders", "issued"),
        "H10302:34359738367": ("NCSO-7", "Deputy Ana Ruiz", "responders", "issued"),
        "C1K35S:4095:1048575": (None, "Ms. Priya Shah", "staff", "issued"),  # group defaults
        "H10306:65535:1": ("KW-40", "Mr. Dan Cole", "staff", "issued"),
    }


def test_columns_in_any_order(box: Path, cli: Cli, tmp_path: Path) -> None:
    text = "holder,number,format,group,facility,serial\nMs. Shah,3456,H10301,staff,12,KW-1\n"
    assert cli.on(box, "card", "import", str(write(tmp_path, text))).code == 0
    assert cards(box) == {"H10301:12:3456": ("KW-1", "Ms. Shah", "staff", "issued")}


def test_bad_rows_each_reported_by_line_and_nothing_imported(
    box: Path, cli: Cli, tmp_path: Path
) -> None:
    existing = ["--format", "H10301", "--facility", "9", "--number", "9", "--serial", "OLD-1"]
    assert cli.on(box, "card", "add", "--holder", "Someone", *existing).code == 0
    text = (
        "format,facility,number,holder,serial,group\n"  # line 1
        "H10301,100,1001,Officer Ortiz,CPD-1,responders\n"  # 2: fine
        "H99999,1,1,Bad Format,,\n"  # 3
        "H10301,256,1,Big Facility,,\n"  # 4
        "H10302,5,77,Facility Given,,\n"  # 5
        "H10301,100,1002,Dup Serial,CPD-1,\n"  # 6
        "H10301,100,1003,Who,,janitors\n"  # 7
        "H10301,9,10,Old Serial,OLD-1,\n"  # 8
        "H10301,12,abc,Not A Number,,\n"  # 9
        "H10301,100,1001,Same Card Again,,\n"  # 10
    )
    before = census(box)
    path = write(tmp_path, text)
    result = cli.on(box, "card", "import", str(path))
    assert result.code == 2 and result.out == "" and "Traceback" not in result.err
    by_line: dict[int, list[str]] = {}
    for line in result.err_lines[:-1]:
        where, _, reason = line.partition(": ")
        assert where.startswith(f"{path}:"), line
        by_line.setdefault(int(where.rsplit(":", 1)[1]), []).append(reason)
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "unknown Wiegand format" in by_line[3][0]
    assert "256" in by_line[4][0]
    assert "no facility" in by_line[5][0]
    assert any("CPD-1" in r and "line 2" in r for r in by_line[6])
    assert "janitors" in by_line[7][0]
    assert any("OLD-1" in r for r in by_line[8])
    assert "abc" in by_line[9][0]
    assert any("H10301:100:1001" in r and "line 2" in r for r in by_line[10])
    assert result.err_lines[-1] == "doorward: error: 8 rejected row(s): nothing imported"
    assert census(box) == before


def test_bad_header_is_line_one(box: Path, cli: Cli, tmp_path: Path) -> None:
    before = census(box)
    path = write(tmp_path, "fmt,num,who\nH10301,1,x\n")
    result = cli.on(box, "card", "import", str(path))
    assert result.code == 2
    assert f"{path}:1: missing column(s) format, number, holder" in result.err
    assert census(box) == before


def test_missing_and_unreadable_files(box: Path, cli: Cli, tmp_path: Path) -> None:
    before = census(box)
    result = cli.on(box, "card", "import", str(tmp_path / "nope.csv"))
    assert result.code != 0 and "nope.csv" in result.err and "Traceback" not in result.err
    binary = tmp_path / "cards.xlsx"
    binary.write_bytes(b"format,number,holder\n\xff\xfe\x00junk\n")
    result = cli.on(box, "card", "import", str(binary))
    assert result.code == 2 and f"{binary}:2: not UTF-8" in result.err
    assert census(box) == before


def test_export_then_import_into_a_fresh_box(box: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli.on(box, "card", "import", str(write(tmp_path, GOOD))).code == 0
    lost = cli.on(box, "card", "lost", "--serial", "KW-40", "--reason", "left on the bus")
    assert lost.code == 0
    exported = cli.on(box, "card", "export")
    assert exported.code == 0 and exported.out.startswith("format,facility,number,holder,serial")
    to_file = cli.on(box, "card", "export", "--output", str(tmp_path / "out.csv"))
    assert to_file.code == 0 and (tmp_path / "out.csv").read_text() == exported.out

    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    fresh = init_box(fresh_dir, cli)
    result = cli.on(fresh, "card", "import", str(tmp_path / "out.csv"))
    assert result.code == 0, result.err
    assert cards(fresh) == cards(box)
    assert cards(fresh)["H10306:65535:1"][3] == "lost"
    # Importing the same file again conflicts on every row and changes nothing.
    before = census(fresh)
    again = cli.on(fresh, "card", "import", str(tmp_path / "out.csv"))
    assert again.code == 2 and again.err.count("already") >= 4
    assert census(fresh) == before


def test_export_quotes_formula_cells_and_a_fresh_box_gets_the_originals(
    box: Path, cli: Cli, tmp_path: Path
) -> None:
    holder = '=HYPERLINK("http://x","y")'
    for n, serial in enumerate(("+1", "-2", "@SUM(1)", "'genuine")):
        added = cli.on(box, "card", "add", "--format", "H10301", "--facility", "1",
                       "--number", str(n), "--holder", holder, "--serial", serial)  # fmt: skip
        assert added.code == 0, added.err
    out = tmp_path / "out.csv"
    assert cli.on(box, "card", "export", "--output", str(out)).code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"), newline="")))
    assert {r["holder"] for r in rows} == {"'" + holder}
    assert [r["serial"] for r in rows] == ["'+1", "'-2", "'@SUM(1)", "''genuine"]
    fresh_dir = tmp_path / "fresh"
    fresh_dir.mkdir()
    fresh = init_box(fresh_dir, cli)
    result = cli.on(fresh, "card", "import", str(out))
    assert result.code == 0, result.err
    assert cards(fresh) == cards(box)
    assert cards(fresh)["H10301:1:0"][:2] == ("+1", holder)
