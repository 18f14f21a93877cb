"""The district fleet on one machine: a real mosquitto, controller and agent processes.

- Revocation: a fob revoked at the console (committed, signed, published) → the first swipe
  denied at every box. Each box is a ``doorward run`` on the mock back-end plus its own
  ``doorward fleet-agent``. A watcher reads each box's list version every POLL_S (a read: no
  load on the door); once a box's agent has applied the revocation it asks the controller (its
  status on the control socket) until its view has that revision, then presents the card there
  and checks the controller denies it. The sample is that moment plus the frame's 13 ms on a
  real reader (late by at most one poll); swiping before would keep 50 mock readers replaying
  frames in real time on 2 cores, which starves the very refresh being measured.
  Also shown: the decision's own audit timestamp, which on 2 cores includes the mock reader
  replaying 50 frames in real time at once (each box has its own CPU in a school).
- Events home: events written into boxes' audit logs → stored once in the district database by
  ``fleet serve`` (running in this process), per second.
- Catch-up: one box's agent is stopped while the console makes 10,000 changes, then started;
  the time from its start to the district's version applied. Once with a snapshot every 100
  changes (the default: the box takes the snapshot and at most 100 changes), once with no
  snapshot in between (all 10,000 retained changes).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from appliance.config import load_config
from appliance.control import Control
from appliance.district.collector import Collector
from appliance.district.console import (
    CONFIG_NAME,
    District,
    Publisher,
    init_district,
    open_district,
)
from appliance.district.state import DistrictStore
from appliance.store import EventRecord, Store
from appliance.testing.box import start_cli, write_config
from appliance.testing.mosquitto import Mosquitto
from appliance.wiegand.formats import encode
from bench.common import pct, rss_mib

BOXES = 50
ROUNDS = 4
LIST_SIZE = 1000
FRAME_S = 0.013  # a 26-bit frame at 500 µs a bit, as a real reader sends it
POLL_S = 0.01  # the watcher's round over every box
CHANGES = 10_000
EVENT_BOXES = 10
EVENTS_PER_BOX = 5_000


def _fleet_toml(broker: Mosquitto, district: District, box_id: str, school: str) -> str:
    public = (district.path / "district.pub").read_text().strip()
    return (
        f'[fleet]\nbroker = "{broker.url}"\ndistrict = "{district.name}"\nbox_id = "{box_id}"\n'
        f'school = "{school}"\ndistrict_public_key = "{public}"\n'
    )


def _box(root: Path, broker: Mosquitto, district: District, box_id: str) -> Path:
    path = root / box_id
    path.mkdir(parents=True)
    school = f"School {int(box_id.split('-')[1]) // 5}"
    config = write_config(
        path,
        unlock=0.01,
        reader_extra="frame_bits = 26",
        extra=_fleet_toml(broker, district, box_id, school),
    )
    with Store.for_data_dir(path / "data") as store:
        store.init("Front entrance")
    return config


def _start(argv: list[str], ready: str) -> tuple[subprocess.Popen[str], threading.Event]:
    return start_cli(argv, ready, stdout=subprocess.DEVNULL)


def _wait_all(started: list[tuple[subprocess.Popen[str], threading.Event]], what: str) -> None:
    deadline = time.monotonic() + 600
    for proc, seen in started:
        while not seen.wait(0.5):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"a {what} did not start")


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _wait(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _box_version(config: Path) -> int:
    db = load_config(config).db_path
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = 'fleet.list_version'").fetchone()
    return int(row[0]) if row else 0


def _district_version(district: District) -> int:
    with district.store() as store:
        return DistrictStore(store).meta_int("fleet.version")


class _Console:
    """The console in this process, with one connected link (what ``fleet serve`` keeps)."""

    def __init__(self, district: District) -> None:
        self.district = district
        self.store = district.store()
        self.publisher = Publisher(district, store=self.store)
        self.link = district.link(clean=True)
        self.link.start()
        self.link.wait_connected(10)

    def publish(self) -> None:
        self.publisher.stage_changes("bench")
        self.publisher.flush(self.link, 120)

    def close(self) -> None:
        self.link.stop()
        self.store.close()


def _seed(console: _Console, count: int) -> None:
    lines = ["format,facility,number,holder,serial,group"]
    lines += [f"H10301,7,{n},Officer {n},F-{n},responders" for n in range(count)]
    console.store.cards.import_csv("\n".join(lines) + "\n", actor="bench")
    console.publisher.stage_snapshot("bench")
    console.publisher.flush(console.link, 120)


def _meta(conn: sqlite3.Connection, key: str) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return int(row[0]) if row else 0


class _Watch:
    """One box in a revocation round: its agent applies, its controller's view has it, a swipe."""

    def __init__(self, config: Path, number: int) -> None:
        cfg = load_config(config)
        self.data_dir = cfg.data_dir
        self.conn = sqlite3.connect(f"file:{cfg.db_path}?mode=ro", uri=True)
        self.card = f"H10301:7:{number}"
        self.bits = encode("H10301", number, 7)
        self.applied: float | None = None
        self.rev = 0
        self.viewed: float | None = None
        self.last = self.conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
        self.result: tuple[float, float, float] | None = None
        self.granted_after_view = 0

    def step(self, t0: float, target: int) -> None:
        """Look once (reads, a status request); present the card once the view has the change."""
        if self.applied is None:
            if _meta(self.conn, "fleet.list_version") < target:
                return
            self.applied = _meta(self.conn, "fleet.list_applied_at") / 1e6
            self.rev = _meta(self.conn, "rev")
        if self.viewed is None:
            status = Control(self.data_dir).status()
            if int(status["view_revision"]) < self.rev:
                return
            self.viewed = time.time()
            Control(self.data_dir).swipe(self.bits, interval_us=500)
            return
        row = self.conn.execute(
            "SELECT id, kind, ts_us FROM events WHERE id > ? AND credential = ? "
            "AND kind IN ('granted', 'denied') ORDER BY id LIMIT 1",
            (self.last, self.card),
        ).fetchone()
        if row is None:
            return
        self.last = row[0]
        if row[1] == "denied" and row[2] >= t0 * 1e6:
            self.result = (self.applied, self.viewed + FRAME_S, row[2] / 1e6)
            self.conn.close()
        else:  # the view said it had the change: a grant now would be a bug
            self.granted_after_view += 1
            Control(self.data_dir).swipe(self.bits, interval_us=500)


def revocation(district: District, configs: list[Path], console: _Console) -> dict[str, Any]:
    """ROUNDS revocations; the delay to the first denial at each box.

    One thread looks at every box not yet done in turn, then sleeps POLL_S: polling all boxes
    at once (a thread each) loads the controllers with status requests and made it slower.
    """
    delays: list[float] = []
    applied: list[float] = []
    stamped: list[float] = []
    wrong = 0
    for r in range(ROUNDS):
        number = r + 1
        watches = [_Watch(c, number) for c in configs]
        t0 = time.time()
        console.store.cards.set_status(
            serial=f"F-{number}", status="revoked", reason="lost", actor="b"
        )
        committed = time.time()
        console.publish()
        target = _district_version(district)
        deadline = time.monotonic() + 60
        waiting = list(watches)
        while waiting and time.monotonic() < deadline:
            for w in waiting:
                w.step(t0, target)
            waiting = [w for w in waiting if w.result is None]
            time.sleep(POLL_S)
        if waiting:
            raise RuntimeError(f"round {r}: {len(waiting)} of {len(configs)} boxes never denied")
        results = [w.result for w in watches if w.result is not None]
        wrong += sum(w.granted_after_view for w in watches)
        applied += [max(0.0, a - committed) for a, _, _ in results]
        delays += [max(0.0, d - committed) for _, d, _ in results]
        stamped += [max(0.0, d - committed) for _, _, d in results]
        time.sleep(1.0)
    return {
        "boxes": len(configs),
        "samples": len(delays),
        "p50_s": pct(delays, 50),
        "p99_s": pct(delays, 99),
        "max_s": max(delays),
        "applied_p50_s": pct(applied, 50),
        "applied_p99_s": pct(applied, 99),
        "stamped_p50_s": pct(stamped, 50),
        "stamped_p99_s": pct(stamped, 99),
        "stamped_max_s": max(stamped),
        "granted_after_view": wrong,
    }


def events_home(district: District, configs: list[Path]) -> dict[str, Any]:
    """EVENTS_PER_BOX events written at EVENT_BOXES boxes at once → all stored at the console."""
    with district.store() as store:
        collector = Collector(district, store)
        runner = threading.Thread(target=collector.run, daemon=True)
        runner.start()
        _wait(lambda: collector.link.connected.is_set(), 10, "serve to connect")
        state = DistrictStore(store)
        time.sleep(3)  # what the boxes made so far goes home first
        before = state.count_events()
        now = time.time()
        t0 = time.monotonic()
        for i, config in enumerate(configs[:EVENT_BOXES]):
            with Store(load_config(config).db_path) as box:
                box.events.append(
                    [
                        EventRecord(
                            ts=now,
                            kind="granted",
                            credential="H10301:7:1",
                            serial="F-1",
                            door="Front entrance",
                            detail={"bench": n},
                            source_key=f"bench:{i}:{n}",
                        )
                        for n in range(EVENTS_PER_BOX)
                    ]
                )
        total = EVENT_BOXES * EVENTS_PER_BOX
        _wait(lambda: state.count_events() - before >= total, 300, "the events to arrive")
        elapsed = time.monotonic() - t0
        collector.stop()
        runner.join(15)
    return {"events": total, "boxes": EVENT_BOXES, "seconds": elapsed, "per_s": total / elapsed}


def _changes(console: _Console, count: int) -> None:
    """``count`` changes to the master list, each its own signed version, then published."""
    for i in range(count):
        n = i % LIST_SIZE
        status = "revoked" if (i // LIST_SIZE) % 2 == 0 else "issued"
        console.store.cards.set_status(serial=f"F-{n}", status=status, reason="bench", actor="b")
        console.publisher.stage_changes("bench")
        if i % 500 == 499:
            console.publisher.flush(console.link, 120)
    console.publisher.flush(console.link, 120)


def _set_snapshot_every(district: District, every: int) -> District:
    path = district.path / CONFIG_NAME
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("snapshot_every")]
    path.write_text("\n".join([*lines, f"snapshot_every = {every}"]) + "\n")
    return open_district(district.path)


def catch_up(district: District, config: Path, every: int, changes: int) -> dict[str, Any]:
    """The box's agent is off for ``changes`` changes; then the time to apply them all."""
    district = _set_snapshot_every(district, every)
    console = _Console(district)
    try:
        _changes(console, changes)
    finally:
        console.close()
    target = _district_version(district)
    proc, ready = _start(["--config", str(config), "fleet-agent"], "fleet agent for box")
    try:
        _wait_all([(proc, ready)], "fleet agent")
        t0 = time.monotonic()
        _wait(lambda: _box_version(config) >= target, 600, "the catch-up")
        elapsed = time.monotonic() - t0
    finally:
        _stop([proc])
    return {"changes": changes, "snapshot_every": every, "seconds": elapsed}


def run(boxes: int = BOXES, changes: int = CHANGES) -> dict[str, Any]:
    """Every fleet measurement."""
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        root = Path(tmp)
        broker = Mosquitto(root / "broker")
        broker.start()
        stack.callback(broker.stop)
        district = init_district(root / "district", "bench", broker.url, snapshot_every=100)
        configs = [_box(root / "boxes", broker, district, f"box-{i:02d}") for i in range(boxes)]
        procs: list[subprocess.Popen[str]] = []
        stack.callback(_stop, procs)
        started = [_start(["--config", str(c), "run"], "running on the") for c in configs]
        procs += [p for p, _ in started]
        _wait_all(started, "controller")
        agents = [_start(["--config", str(c), "fleet-agent"], "connected to the") for c in configs]
        procs += [p for p, _ in agents]
        _wait_all(agents, "fleet agent")
        rss = sum(rss_mib(p.pid) for p in procs) / len(procs)
        console = _Console(district)
        try:
            _seed(console, LIST_SIZE)
            target = _district_version(district)
            _wait(lambda: all(_box_version(c) >= target for c in configs), 300, "the list")
            revoked = revocation(district, configs, console)
        finally:
            console.close()
        home = events_home(district, configs)
        # Catch-up: box-00's agent goes offline; the rest stop too (the machine has 2 cores).
        _stop(procs)
        controller, up = _start(["--config", str(configs[0]), "run"], "running on the")
        procs.append(controller)
        _wait_all([(controller, up)], "controller")
        rounds = [catch_up(district, configs[0], every, changes) for every in (100, changes * 10)]
    return {"revocation": revoked, "events": home, "catch_up": rounds, "rss_mib": rss}


if __name__ == "__main__":
    print(run(boxes=int(sys.argv[1]) if len(sys.argv) > 1 else BOXES))
