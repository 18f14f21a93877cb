"""Last Wiegand edge to strike relay command, through the pigpiod emulator and the real client.

The controller runs as its own process (as on a box, beside pigpiod); the emulator plays each card
in real time and stamps the last edge and the relay WRITE with the host's monotonic clock. A
second process imports 100,000 cards during the reads. Frames from a 20 ms reader are checked
for splitting.
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from appliance.control import Control
from appliance.testing.pigpiod import PigpiodEmulator, card_edges
from appliance.wiegand.formats import encode
from bench.common import box, cards_csv, controller_process, doorward, pct

D0, D1, STRIKE = 14, 15, 26
CASES = ((1000, None), (1000, 26), (2000, None), (2000, 26))


def _reads(
    emu: PigpiodEmulator,
    interval_us: int,
    count: int,
    import_proc: Any = None,
    data_dir: Path | None = None,
    card: tuple[int, int] = (1, 1),
) -> list[float]:
    """Play ``count`` cards (at least until the import ends); return edge-to-relay in ms."""
    bits = encode("H10301", card[1], card[0])
    out: list[float] = []
    while len(out) < count or (import_proc is not None and import_proc.poll() is None):
        mark = len(emu.records)
        played = emu.play(card_edges(bits, D0, D1, interval_us, 50), realtime=True)
        write = emu.wait_for_write(STRIKE, 0, 5.0, since=mark)
        if write is None:
            health = Control(data_dir).status()["reader"] if data_dir else {}
            raise RuntimeError(f"the strike never moved; reader: {health}")
        out.append((write.perf - played.perf) * 1000)
        if emu.wait_for_write(STRIKE, 1, 5.0, since=mark) is None:
            raise RuntimeError("the strike never relocked")
        if len(out) >= 400:
            break
    return out


def _frame_ms(db: Path) -> list[float]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT json_extract(detail, '$.latency_us.frame') FROM events WHERE kind = 'granted'"
        ).fetchall()
    return [r[0] / 1000 for r in rows if r[0] is not None]


def run(reads: int = 40) -> list[dict[str, Any]]:
    """Each case: p50/p99 edge-to-relay with a 100,000-card import running beside it."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "import.csv"
        csv.write_text(cards_csv(100_000, facility=200, start=10))
        for interval, frame_bits in CASES:
            home = Path(tmp) / f"box-{interval}-{frame_bits}"
            extra = f"frame_bits = {frame_bits}" if frame_bits else ""
            config = box(home, reader_extra=extra)
            with PigpiodEmulator() as emu, controller_process(config, emu):
                quiet = _reads(emu, interval, reads // 2, data_dir=home / "data")
                importer = doorward(config, "card", "import", str(csv))
                loaded = _reads(emu, interval, reads, importer, home / "data")
                imported = importer.wait() == 0
            frame = _frame_ms(home / "data" / "doorward.db")
            results.append(
                {
                    "interval_ms": interval / 1000,
                    "frame_bits": frame_bits,
                    "p50_ms": pct(quiet, 50),
                    "p99_ms": pct(quiet, 99),
                    "import_p50_ms": pct(loaded, 50),
                    "import_p99_ms": pct(loaded, 99),
                    "import_reads": len(loaded),
                    "imported": imported,
                    "frame_p50_ms": pct(frame, 50),
                    "frame_p99_ms": pct(frame, 99),
                }
            )
        results.append(_slow_reader(Path(tmp)))
    return results


def _slow_reader(tmp: Path) -> dict[str, Any]:
    """A 20 ms reader (the SIA maximum): every frame must decode whole."""
    config = box(tmp / "box-20ms")
    data = tmp / "box-20ms" / "data"
    with PigpiodEmulator() as emu, controller_process(config, emu):
        times = _reads(emu, 20_000, 5, data_dir=data)
        reader = Control(data).status()["reader"]
    return {
        "interval_ms": 20.0,
        "frame_bits": None,
        "p50_ms": pct(times, 50),
        "p99_ms": pct(times, 99),
        "reads": reader["cards"],
        "split": reader["short_frames"] + reader["parity_failures"],
    }
