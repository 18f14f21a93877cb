"""Bulk commands and the admin page step aside for the door: they lower their own CPU priority."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import main
from appliance.cli.common import BACKGROUND_NICE


def test_card_import_and_export_lower_their_priority(
    box: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def nice(n: int) -> int:
        calls.append(n)
        return n

    monkeypatch.setattr("appliance.cli.common.os.nice", nice)
    csv = tmp_path / "cards.csv"
    csv.write_text("format,facility,number,holder,serial,group\nH10301,1,2,Ann,,staff\n")
    assert main(["--config", str(box), "card", "import", str(csv)]) == 0
    assert main(["--config", str(box), "card", "export", "-o", str(tmp_path / "out.csv")]) == 0
    assert calls == [BACKGROUND_NICE, BACKGROUND_NICE]
    calls.clear()
    assert main(["--config", str(box), "card", "list"]) == 0
    assert calls == []  # interactive commands keep their priority
