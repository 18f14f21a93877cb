"""SIGKILL during a burst of reads: every read whose relay action happened is in the database.

The controller runs as a real process against the pigpiod emulator; the emulator records every
relay write, so the test knows exactly which grants reached the strike before the kill.
"""

from __future__ import annotations

import signal
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store import Store
from appliance.testing.box import start_controller_process, write_config
from appliance.testing.pigpiod import PigpiodEmulator, card_edges
from appliance.wiegand.formats import encode

D0, D1, STRIKE = 14, 15, 26
CARDS = 40
KILL_AFTER = 17  # relay activations seen before the kill


@pytest.fixture
def emu() -> Iterator[PigpiodEmulator]:
    with PigpiodEmulator() as emulator:
        yield emulator


def test_sigkill_loses_no_read_whose_relay_acted(tmp_path: Path, emu: PigpiodEmulator) -> None:
    config = write_config(tmp_path, backend="pigpio", unlock=0.001, reader_extra="frame_bits = 26")
    db = tmp_path / "data" / "doorward.db"
    with Store.for_data_dir(tmp_path / "data") as store:
        store.init("Front entrance")
        for n in range(CARDS):
            store.cards.add("H10301", 7, n, f"Officer {n}", group="responders", actor="test")
    proc = start_controller_process(config, emu)
    acted: list[int] = []
    try:
        for n in range(CARDS):
            mark = len(emu.records)
            emu.play(card_edges(encode("H10301", n, 7), D0, D1, 1000, 50))
            assert emu.wait_for_write(STRIKE, 0, 5.0, since=mark) is not None, f"card {n}"
            acted.append(n)
            if len(acted) == KILL_AFTER:
                proc.send_signal(signal.SIGKILL)  # at once, while the event is fresh
                break
            assert emu.wait_for_write(STRIKE, 1, 5.0, since=mark) is not None  # relocked
    finally:
        proc.kill()
        proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    restarted = start_controller_process(
        config, emu
    )  # what systemd does: the restart replays the journal
    assert emu.level(STRIKE) == 1  # driven locked first thing
    restarted.send_signal(signal.SIGTERM)
    assert restarted.wait(15) == 0

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        granted = {
            row[0] for row in conn.execute("SELECT credential FROM events WHERE kind = 'granted'")
        }
        keys = [
            row[0]
            for row in conn.execute("SELECT source_key FROM events WHERE source_key IS NOT NULL")
        ]
    assert {f"H10301:7:{n}" for n in acted} <= granted
    assert len(keys) == len(set(keys))  # replayed once, stored once
