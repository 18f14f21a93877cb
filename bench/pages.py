"""Admin page times with 100,000 credentials and 1,000,000 events, and the door beside a busy page.

Pages are timed through the admin page's own WSGI app (server-side time: routing, queries,
templates). The door check runs the edge-to-relay benchmark while another process keeps
requesting the heaviest pages.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from appliance.store import EventRecord, Store
from bench.common import CACHE, cards_csv, pct

CARDS = 100_000
EVENTS = 1_000_000
PASSWORD = "bench password 1"
KINDS = ("granted", "denied", "unlocked", "locked", "door_open", "door_closed")


def database() -> Path:
    """A cached database with the credentials and events (built once: a few minutes)."""
    path = CACHE / "pages" / "doorward.db"
    if path.exists():
        with Store(path) as store:
            store.init("Front entrance")  # a cache from an older schema is upgraded
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    rng = random.Random(5)
    with Store(tmp) as store:
        store.init("Front entrance")
        store.cards.import_csv(cards_csv(CARDS), actor="bench")
        t0 = time.time() - 365 * 86400
        for start in range(0, EVENTS, 20_000):
            batch = []
            for i in range(start, start + 20_000):
                n = rng.randrange(CARDS)
                batch.append(
                    EventRecord(
                        ts=t0 + i * 31.5,
                        kind=KINDS[i % len(KINDS)],
                        reason="bench",
                        credential=f"H10301:1:{n}" if n < 65536 else None,
                        holder=f"Holder {n}",
                        serial=f"S{n}",
                        door="Front entrance",
                    )
                )
            store.events.append(batch)
    tmp.rename(path)
    return path


def _app(db: Path, home: Path) -> Any:
    from appliance.config import load_config
    from appliance.testing.box import write_config
    from webui import create_app
    from webui.security import make_hasher

    (home / "data").mkdir(parents=True)
    shutil.copy(db, home / "data" / "doorward.db")
    config = load_config(write_config(home))
    store = Store(config.db_path)
    store.users.add("bench", make_hasher({}).hash(PASSWORD), "admin", actor="bench", first=True)
    return create_app(config, store=store)


PAGES = {
    "dashboard": "/",
    "fobs search": "/fobs?q=Holder+4242",
    "fobs page 500": "/fobs?page=500",
    "fobs lost": "/fobs?status=lost",
    "events, one fob": "/events?serial=S4242",
    "events, denied in a month": "/events?kind=denied&from=2026-03-01&to=2026-03-31",
    "events, two kinds": "/events?kind=denied&kind=granted",
    "accountability": "/accountability",
}


def _signed_in(app: Any) -> Any:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token})
    return client


def run(rounds: int = 60) -> dict[str, dict[str, float]]:
    """p50/p95 per page, in ms."""
    import tempfile

    db = database()
    with tempfile.TemporaryDirectory() as tmp:
        client = _signed_in(_app(db, Path(tmp)))
        out = {}
        for name, url in PAGES.items():
            times = []
            for _ in range(rounds):
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                assert response.status_code == 200, (url, response.status_code)
            out[name] = {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95)}
    return out


def door_beside_busy_pages(reads: int = 60) -> dict[str, float]:
    """Edge-to-relay p50/p99 (1 ms reader, frame_bits 26) quiet, then with pages hammered."""
    import tempfile

    from appliance.testing.pigpiod import PigpiodEmulator
    from bench.common import box, controller_process
    from bench.latency import _reads

    db = database()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "box"
        config = box(home, reader_extra="frame_bits = 26")
        shutil.copy(db, home / "data" / "doorward.db")  # the big store, then a responder in it
        with Store(home / "data" / "doorward.db") as store:
            store.cards.add("H10301", 2, 1, "Officer Bench", group="responders", actor="b")
        with PigpiodEmulator() as emu, controller_process(config, emu):
            quiet = _reads(emu, 1000, reads, card=(2, 1))
            busy = subprocess.Popen(
                [sys.executable, "-m", "bench.pages", str(home / "data" / "doorward.db"), "600"],
                stdout=subprocess.DEVNULL,
                text=True,
            )
            try:
                time.sleep(2)  # let it get going
                loaded = _reads(emu, 1000, reads, card=(2, 1), data_dir=home / "data")
            finally:
                busy.terminate()
                busy.wait(10)
    return {
        "quiet_p50_ms": pct(quiet, 50),
        "quiet_p99_ms": pct(quiet, 99),
        "busy_p50_ms": pct(loaded, 50),
        "busy_p99_ms": pct(loaded, 99),
    }


if __name__ == "__main__":
    import tempfile

    from appliance.cli.common import yield_to_the_door

    db, seconds = Path(sys.argv[1]), float(sys.argv[2])
    yield_to_the_door()  # as `doorward web` does: this process stands in for the admin page
    with tempfile.TemporaryDirectory() as tmp:
        client = _signed_in(_app(db, Path(tmp)))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for url in PAGES.values():
                client.get(url)
