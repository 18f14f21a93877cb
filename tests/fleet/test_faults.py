"""Faults: a broker killed or stopped mid-stream, a network cut, a box killed while catching up."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from appliance.config import load_config
from appliance.district.collector import Collector
from appliance.district.console import District, Publisher, publish_now
from appliance.district.state import DistrictStore
from appliance.store import Store
from appliance.store.fleet.apply import FleetApply
from appliance.testing.mosquitto import Mosquitto

from .conftest import (
    FleetBox,
    box_config,
    console,
    fleet_box,
    settled,
    start_agent_process,
    wait_for,
)

ADD = ["card", "add", "--format", "H10301", "--facility", "100", "--group", "responders"]


@contextmanager
def serving(district: District) -> Iterator[Collector]:
    """``fleet serve`` in a thread."""
    with district.store() as store:
        collector = Collector(district, store)
        thread = threading.Thread(target=collector.run, daemon=True)
        thread.start()
        try:
            yield collector
        finally:
            collector.stop()
            thread.join(15)


def district_version(district: District) -> int:
    with district.store() as store:
        return DistrictStore(store).meta_int("fleet.version")


def home_ids(district: District, box_id: str) -> list[int]:
    with district.store() as store:
        rows = DistrictStore(store).events(box=box_id, limit=10_000, newest_first=False)
        return [r.box_event_id for r in rows]


def box_ids(box: FleetBox) -> list[int]:
    with Store(box.config.db_path) as store:
        return [e.id for e in store.events.query(limit=10_000, newest_first=False)]


def all_home(district: District, box: FleetBox) -> bool:
    return set(home_ids(district, "kw-front")) >= set(box_ids(box))


def add(district: District, number: int) -> int:
    return console(district, *ADD, "--number", str(number), "--holder", f"Officer {number}")


def test_broker_killed_and_restarted_mid_stream_loses_nothing(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as box, serving(district):
        for n in range(1, 6):
            assert add(district, n) == 0
        settled(box, district_version(district))
        for n in range(1, 6):
            assert box.swipe(n).kind == "granted"
        wait_for(lambda: all_home(district, box), what="the first events home")
        assert box.swipe(1).kind == "granted"
        broker.kill()  # mid-stream: whatever it had not saved yet is gone
        assert add(district, 6) == 1  # stored at the district, not published
        assert box.swipe(1).kind == "granted"  # the box decides on its own meanwhile
        # As if the broker had acknowledged these events and then lost them in the crash:
        with Store(box.config.db_path) as store:
            fleet = FleetApply(store, school="Kelly Walsh", actor="test")
            fleet.set_shipped_event_id(fleet.newest_event_id())
        broker.start()
        target = district_version(district)
        wait_for(lambda: box.version() >= target, timeout=30, what="the box to catch up")
        settled(box, target)
        assert box.swipe(6).kind == "granted"
        wait_for(lambda: all_home(district, box), timeout=30, what="every event home")
        got = home_ids(district, "kw-front")
        assert len(got) == len(set(got))  # stored exactly once, however often sent


def test_broker_stopped_during_a_network_cut_events_wait_and_go_home_once(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as box, serving(district):
        assert add(district, 1) == 0
        settled(box, 1)
        broker.stop()
        wait_for(lambda: not box.agent.link.connected.is_set(), what="the cut to be noticed")
        decisions = [box.swipe(1).kind for _ in range(10)]
        assert decisions == ["granted"] * 10
        assert (
            console(
                district,
                "revoke",
                "--number",
                "1",
                "--format",
                "H10301",
                "--facility",
                "100",
                "--reason",
                "lost during the cut",
            )
            == 1
        )
        assert box.swipe(1).kind == "granted"  # the box has not heard: it decides from its list
        pending = FleetApply(Store(box.config.db_path), school="x", actor="t")
        assert pending.newest_event_id() > pending.shipped_event_id()
        broker.start()
        wait_for(lambda: box.version() >= district_version(district), timeout=30, what="revocation")
        wait_for(lambda: box.swipe(1).kind == "denied", what="the fob denied")
        wait_for(lambda: all_home(district, box), timeout=30, what="every event home")
        got = home_ids(district, "kw-front")
        assert len(got) == len(set(got))


def test_a_box_killed_while_catching_up_converges(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    config = box_config(tmp_path, broker, district, "kw-front", "Kelly Walsh")
    with district.store() as store:
        publisher = Publisher(district, store)
        for n in range(120):
            store.cards.add(
                "H10301", 100, n, f"Officer {n}", serial=f"C-{n}", group="responders", actor="test"
            )
            publisher.stage_changes("test")
        for n in range(0, 120, 3):
            store.cards.set_status(serial=f"C-{n}", status="revoked", reason="lost", actor="test")
            publisher.stage_changes("test")
    publish_now(district, lambda _p: None, timeout=30)
    target = district_version(district)
    data = load_config(config).data_dir
    agent = start_agent_process(config)
    with Store(data / "doorward.db") as store:
        fleet = FleetApply(store, school="Kelly Walsh", actor="test")
        wait_for(lambda: fleet.applied_version() > 0 or agent.poll() is not None, what="catch-up")
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait(10)
        killed_at = fleet.applied_version()
        agent = start_agent_process(config)
        try:
            wait_for(lambda: fleet.applied_version() == target, timeout=30, what="convergence")
        finally:
            agent.terminate()
            agent.wait(10)
        assert killed_at <= target
        rows = {r.serial: r.status.value for r in store.cards.list(limit=10_000)}
    assert len(rows) == 120
    assert all(rows[f"C-{n}"] == ("revoked" if n % 3 == 0 else "issued") for n in range(120))


def test_a_box_left_behind_by_a_lost_change_is_repaired_by_a_snapshot(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as box, serving(district):
        assert add(district, 1) == 0
        wait_for(lambda: box.version() >= 1, what="the first card")
        with district.store() as store:  # change 2 "published", but the broker lost it
            store.cards.add("H10301", 100, 2, "Officer 2", group="responders", actor="t")
            lost = Publisher(district, store).stage_changes("test")
            assert lost is not None
            DistrictStore(store).mark_published(lost)
        assert add(district, 3) == 0  # change 3 arrives; the box holds it, waiting for 2
        wait_for(lambda: box.agent.held, what="the box to hold change 3")
        assert box.swipe(3).kind == "denied"
        wait_for(lambda: box.version() >= 4, timeout=30, what="the repair snapshot")
        wait_for(lambda: not box.agent.held, what="the held change dropped: the snapshot has it")
        settled(box, 4)
        assert box.swipe(2).kind == "granted" and box.swipe(3).kind == "granted"
