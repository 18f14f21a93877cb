"""Revocation by the CLI to the next read of that card denied.

A card is presented over and over by the emulator while ``doorward card lost`` runs in another
process; the time is from the moment that command has committed and exited to the first denial.
"""

from __future__ import annotations

import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from appliance.testing.pigpiod import PigpiodEmulator, card_edges
from appliance.wiegand.formats import encode
from bench.common import box, controller_process, doorward, pct

D0, D1 = 14, 15


def _first_denied_after(db: Path, after_wall: float, timeout: float = 5.0) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sqlite3.connect(db) as conn:
            row = conn.execute(
                "SELECT min(ts_us) FROM events WHERE kind = 'denied' AND ts_us >= ?",
                (int(after_wall * 1e6),),
            ).fetchone()
        if row[0] is not None:
            return float(row[0]) / 1e6
        time.sleep(0.02)
    raise RuntimeError("the revoked card was never denied")


def run(rounds: int = 20) -> dict[str, Any]:
    """p50/p99 of commit-to-denial, and how long the CLI command itself took."""
    delays, cli = [], []
    with tempfile.TemporaryDirectory() as tmp:
        config = box(Path(tmp) / "box", reader_extra="frame_bits = 26", responders=[(5, 77, "L-1")])
        db = Path(tmp) / "box" / "data" / "doorward.db"
        bits = encode("H10301", 77, 5)
        with PigpiodEmulator() as emu, controller_process(config, emu):
            stop = threading.Event()

            def present() -> None:  # the card at the reader, again and again (1 ms bits)
                while not stop.is_set():
                    emu.play(card_edges(bits, D0, D1, 1000, 50), realtime=True)
                    time.sleep(0.005)

            presenter = threading.Thread(target=present, daemon=True)
            presenter.start()
            try:
                for _ in range(rounds):
                    t0 = time.monotonic()
                    if doorward(config, "card", "lost", "--serial", "L-1").wait() != 0:
                        raise RuntimeError("card lost failed")
                    committed = time.time()
                    cli.append(time.monotonic() - t0)
                    denied = _first_denied_after(db, committed)
                    delays.append(max(0.0, denied - committed) * 1000)
                    doorward(config, "card", "reissue", "--serial", "L-1").wait()
                    time.sleep(0.1)
            finally:
                stop.set()
                presenter.join(5)
    return {
        "p50_ms": pct(delays, 50),
        "p99_ms": pct(delays, 99),
        "cli_p50_s": pct(cli, 50),
        "rounds": rounds,
    }
