"""Decision time and the controller's resident memory with 1,000 to 2,000,000 credentials.

Each size runs in a fresh process that loads the view exactly as the controller does
(``ViewRefresher.load``), so its resident memory is the view's real cost.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import CACHE, cards_csv, pct, rss_mib

SIZES = (1_000, 100_000, 2_000_000)
CHUNK = 250_000


def database(size: int) -> Path:
    """A cached database holding ``size`` credentials (built once, in chunks of one import each)."""
    from appliance.store import Store

    path = CACHE / f"decide-{size}" / "doorward.db"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    with Store(tmp) as store:
        store.init("Front entrance")
        for start in range(0, size, CHUNK):
            store.cards.import_csv(cards_csv(min(CHUNK, size - start), start=start), actor="bench")
    tmp.rename(path)
    return path


def measure(db: Path, reads: int = 200_000) -> dict[str, Any]:
    """In this process: load the view, then time ``decide`` on random known and unknown cards."""
    from appliance.controller.refresh import ViewRefresher
    from appliance.core.decide import DoorState, decide
    from appliance.store import Store

    base = rss_mib()
    store = Store(db)
    refresher = ViewRefresher(store, on_mode=lambda *a: None, on_health=lambda *a: None)
    t0 = time.perf_counter()
    refresher.load()
    load_s = time.perf_counter() - t0
    view = refresher.view
    keys = list(view.cards)
    rng = random.Random(7)
    sample = [rng.choice(keys) if i % 4 else rng.getrandbits(60) for i in range(reads)]
    door = DoorState("Front entrance")
    now = datetime.now().astimezone()
    times = []
    clock = time.perf_counter_ns
    for key in sample:
        start = clock()
        decide(key, door, view, now)
        times.append((clock() - start) / 1000)
    return {
        "cards": len(view.cards),
        "load_s": load_s,
        "p50_us": pct(times, 50),
        "p99_us": pct(times, 99),
        "rss_mib": rss_mib(),
        "rss_base_mib": base,
    }


def run() -> list[dict[str, Any]]:
    """Every size, each in its own process."""
    results = []
    for size in SIZES:
        db = database(size)
        out = subprocess.run(
            [sys.executable, "-m", "bench.decision", str(db)],
            check=True,
            capture_output=True,
            text=True,
        )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return results


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]))))
