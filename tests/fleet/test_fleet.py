"""The fleet end to end on a real mosquitto: the console publishes, boxes apply, decide, report."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from appliance.core.model import Mode
from appliance.district.console import District
from appliance.district.state import DistrictStore
from appliance.fleet import topics
from appliance.fleet.link import Link, parse_broker
from appliance.fleet.signing import canonical_json, new_private_key, seal
from appliance.store import Store
from appliance.testing.box import seed
from appliance.testing.mosquitto import Mosquitto
from tests.cli.util import Census, census

from .conftest import console, fleet_box, settled, wait_for
from .test_signing import change

ADD = ["card", "add", "--format", "H10301", "--facility", "100", "--group", "responders"]


def test_a_district_card_opens_every_door_and_its_revocation_closes_them(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    with (
        fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as a,
        fleet_box(tmp_path, broker, district, "nc-gym", "Natrona County High") as b,
    ):
        add = [*ADD, "--number", "1001", "--holder", "Officer Ortiz", "--serial", "CPD-1"]
        assert console(district, *add) == 0
        for box in (a, b):
            settled(box, 1)
            assert box.swipe(1001).kind == "granted"
            with Store(box.config.db_path) as store:
                row = store.cards.get(serial="CPD-1")
                assert row is not None and row.source == "district"
        assert console(district, "revoke", "--serial", "CPD-1", "--reason", "reported lost") == 0
        for box in (a, b):
            settled(box, 2)
            decision = box.swipe(1001)
            assert (decision.kind, decision.reason) == ("denied", "revoked")
        status = a.agent._status(online=True)
        assert status["list_version"] == 2 and status["rejections"] == 0


def test_lockdown_by_school_reaches_only_that_schools_doors(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    with (
        fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh", seed_fn=seed) as kw,
        fleet_box(tmp_path, broker, district, "nc-gym", "Natrona County High") as nc,
    ):
        assert console(district, "lockdown", "on", "--school", "Kelly Walsh") == 0
        settled(kw, 1)
        settled(nc, 1)
        wait_for(lambda: kw.controller.door.mode is Mode.LOCKDOWN, what="lockdown at kw-front")
        assert nc.controller.door.mode is Mode.NORMAL
        assert kw.swipe(3456, facility=12).reason == "lockdown"  # a local staff card
        assert console(district, "lockdown", "on", "--all", "--reason", "drill") == 0
        settled(nc, 2)
        wait_for(lambda: nc.controller.door.mode is Mode.LOCKDOWN, what="lockdown at nc-gym")
        # One school cannot be released while the whole district is locked down.
        assert console(district, "lockdown", "off", "--school", "Kelly Walsh") == 1
        assert console(district, "lockdown", "off", "--all") == 0
        for box in (kw, nc):
            settled(box, 3)
            door = box.controller.door
            wait_for(lambda: door.mode is Mode.NORMAL, what="normal again")  # noqa: B023


class Listener:
    """A test client on the broker: collects what boxes report."""

    def __init__(self, broker: Mosquitto, topic: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self.cond = threading.Condition()
        self.link = Link(
            parse_broker(broker.url),
            "test-listener",
            clean=True,
            on_connect=lambda: self.link.subscribe([topic]),
            on_message=self._got,
        )
        self.link.start()
        self.link.wait_connected(10)

    def _got(self, msg: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.messages.append(json.loads(msg.payload))
            self.cond.notify_all()

    def wait(self, count: int) -> list[dict[str, Any]]:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.messages) >= count, 15), self.messages
            return list(self.messages)


def test_a_box_rejects_and_reports_what_it_must_not_apply(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    add = [*ADD, "--number", "1001", "--holder", "Officer Ortiz", "--serial", "CPD-1"]
    with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as box:
        assert console(district, *add) == 0
        assert console(district, "publish") == 0  # a snapshot at version 2
        settled(box, 2)
        with Store(district.data_dir / "doorward.db") as master:  # the log keeps every message
            log = DistrictStore(master).publications()
        snapshot_v2 = next(p for p in log if p.kind == "snapshot").payload
        assert console(district, "revoke", "--serial", "CPD-1", "--reason", "lost") == 0
        assert console(district, "publish") == 0  # snapshot 4
        settled(box, 4)
        before: Census = census(box.config.db_path.parent.parent / "doorward.toml")
        reports = Listener(broker, topics.box("natrona", "kw-front", "rejections"))
        revoked = change()["credentials"][0] | {"agency": None, "reason": None}
        good = json.loads(json.dumps(change(5, issued_at=1.0, credentials=[revoked])))
        wrong_key = seal(new_private_key(), good)
        tampered = seal(district.key, good).replace(b'"revoked"', b'"issued"')
        sealed = seal(district.key, good)
        cases = [
            (topics.change("natrona", 5), wrong_key, "wrong_key"),
            (topics.change("natrona", 5), tampered, "bad_signature"),
            (topics.change("natrona", 5), sealed[:60], "truncated"),
            (topics.change("natrona", 5), sealed[:-3], "bad_signature"),
            (topics.change("natrona", 5), canonical_json(good), "unsigned"),
            (topics.change("natrona", 5), sealed + b" " * 17_000_000, "oversized"),
            (topics.change("natrona", 5), seal(district.key, {**good, "x": 1}), "malformed"),
            (topics.change("natrona", 6), sealed, "malformed"),  # version 5 sent as change 6
            (topics.snapshot("natrona"), snapshot_v2, "replayed"),
        ]
        for topic, payload, _ in cases:
            box.agent.link.publish(topic, payload)  # the box's own client: any client would do
        got = reports.wait(len(cases))
        assert [m["rejection"]["reason"] for m in got] == [c[2] for c in cases]
        assert all(m["box_id"] == "kw-front" for m in got)
        status = box.agent._status(online=True)
        assert status["rejections"] == len(cases) and status["list_version"] == 4
        assert status["last_rejection"]["reason"] == "replayed"
        after = census(box.config.db_path.parent.parent / "doorward.toml")
        assert (after.credentials, after.holders, after.groups, after.mode) == (
            before.credentials,
            before.holders,
            before.groups,
            before.mode,
        )
        with Store(box.config.db_path) as store:
            recorded = store.events.query(kinds=["fleet_rejected"], limit=100)
            assert len(recorded) == len(cases)
            row = store.cards.get(serial="CPD-1")
            assert row is not None and row.status.value == "revoked"
        decision = box.swipe(1001)
        assert (decision.kind, decision.reason) == ("denied", "revoked")
        reports.link.stop()


def test_fleet_serve_as_a_process_collects_and_the_console_shows_it(
    tmp_path: Path, broker: Mosquitto, district: District, cli: Any
) -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "fleet", "--district", str(district.path), "serve"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert serve.stdout is not None and "serving district natrona" in serve.stdout.readline()
        with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as box:
            add = [*ADD, "--number", "1001", "--holder", "Officer Ortiz", "--serial", "CPD-1"]
            assert cli("fleet", "--district", str(district.path), *add).code == 0
            settled(box, 1)
            assert box.swipe(1001).kind == "granted"
            args = ("fleet", "--district", str(district.path), "events", "--serial", "CPD-1")

            def shown() -> str | None:
                out = cli(*args, "--kind", "granted").out
                return out if "Granted: " in out else None

            assert "kw-front" in wait_for(shown, what="the grant at the district")
            status = cli("fleet", "--district", str(district.path), "status")
            assert "kw-front" in status.out and "Kelly Walsh" in status.out
        # The box said goodbye: the console marks it offline.
        wait_for(
            lambda: " NO " in cli("fleet", "--district", str(district.path), "status").out,
            what="the box offline",
        )
        lines = cli(*args[:4], "--json", "--limit", "5").out.splitlines()
        assert lines and all(json.loads(line)["box"] == "kw-front" for line in lines)
    finally:
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(20) == 0
