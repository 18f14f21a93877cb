"""``doorward fleet serve``: gathers every box's status and events into the district database.

A persistent MQTT session (fixed client id, clean session off, QoS 1): what boxes publish while
the console is down waits at the broker. A message is acknowledged only once it is stored, and
events are stored once per (box, box event id), so a redelivery changes nothing. The serve loop
also publishes what the master list gained (a card command run elsewhere, a lost ack).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import time

import paho.mqtt.client as mqtt

from appliance.district import state as cs
from appliance.district.console import District, DistrictError, Publisher
from appliance.files import try_lock
from appliance.fleet import topics
from appliance.fleet.link import LinkError
from appliance.fleet.messages import BoxStatus, EventBatch, RejectionReport, parse_box_message
from appliance.fleet.signing import Rejected
from appliance.store import Store, StoreError

LOG = logging.getLogger(__name__)
MAX_BOX_MESSAGE = 4 * 1024 * 1024
PUBLISH_EVERY_S = 1.0
REPAIR_GRACE_S = 3.0
REPAIR_EVERY_S = 30.0


class Collector:
    """Stores what boxes send; publishes what the master list gained."""

    def __init__(self, district: District, store: Store) -> None:
        self.district = district
        self.state = cs.DistrictStore(store)
        self.publisher = Publisher(district, store)
        self.stored_events = 0
        self.refused = 0
        self._stop = threading.Event()
        self._repaired_at = 0.0
        self.link = district.link(
            f"doorward-console-{district.name}",
            clean=False,
            manual_ack=True,
            on_connect=self._connected,
            on_message=self._message,
        )

    def _connected(self) -> None:
        d = self.district.name
        self.link.subscribe([topics.boxes(d, w) for w in ("status", "events", "rejections")])

    def _message(self, msg: mqtt.MQTTMessage) -> None:
        where = topics.parse_box(self.district.name, msg.topic)
        if where is None:
            return
        box_id, what = where
        try:
            self.handle(box_id, what, bytes(msg.payload))
        except Rejected as err:  # acknowledged anyway: the same bytes would be refused again
            self.refused += 1
            LOG.warning("refused a message from box %s on %s: %s", box_id, msg.topic, err)

    def handle(self, box_id: str, what: str, payload: bytes) -> None:
        """Check and store one box message (StoreError: not stored, not acknowledged)."""
        if not payload:
            return  # a cleared retained status
        if len(payload) > MAX_BOX_MESSAGE:
            raise Rejected("oversized", f"{len(payload)} bytes")
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as err:
            raise Rejected("malformed", f"not JSON ({err})") from None
        except RecursionError:  # JSON nested deeper than Python's parser goes
            raise Rejected("malformed", "JSON nested too deeply") from None
        if what == "status":
            status: BoxStatus = parse_box_message(BoxStatus, body, box_id)
            self.state.record_status(box_id, status.model_dump(exclude_none=True))
        elif what == "events":
            batch: EventBatch = parse_box_message(EventBatch, body, box_id)
            events = [e.model_dump() for e in batch.events]
            self.stored_events += self.state.store_events(box_id, batch.school, events)
            # Retained: a box that reconnects learns what the district really holds.
            newest = json.dumps({"event_id": self.state.newest_box_event(box_id)}).encode()
            self.link.publish(topics.box(self.district.name, box_id, "ack"), newest, retain=True)
        elif what == "rejections":
            report: RejectionReport = parse_box_message(RejectionReport, body, box_id)
            r = report.rejection
            LOG.warning("box %s rejected %s: %s (%s)", box_id, r.topic, r.reason, r.detail)
            self.state.record_status(
                box_id, {"online": True, "last_rejection": r.model_dump(), "box_id": box_id}
            )

    def run(self) -> None:
        """Until ``stop``: collect, and publish whatever the master list gained."""
        lock = _serve_lock(self.district)
        self.link.start()
        try:
            while not self._stop.wait(PUBLISH_EVERY_S):
                if not self.link.connected.is_set():
                    continue
                try:
                    self.publisher.stage_changes("fleet serve")
                    self.publisher.flush(self.link)
                    self._repair()
                except (LinkError, StoreError, DistrictError) as err:
                    LOG.warning("publishing: %s (will try again)", err)
        finally:
            self.link.stop()
            os.close(lock)

    def stop(self) -> None:
        """Ask ``run`` to finish (safe from a signal handler)."""
        self._stop.set()

    def _repair(self) -> None:
        """A fresh snapshot when an online box stays behind (a broker lost a retained change).

        Behind means: its status, sent well after the newest message went out, still shows an
        older version. At most once per REPAIR_EVERY_S.
        """
        now = time.time()
        if now - self._repaired_at < REPAIR_EVERY_S:
            return
        newest = self.state.publications(limit=1)
        if not newest or newest[0].published_at is None:
            return
        sent = newest[0].published_at.timestamp()
        behind = [
            b.box_id
            for b in self.state.boxes()
            if b.online
            and (b.list_version or 0) < newest[0].version
            and float(b.status.get("at") or 0) > sent + REPAIR_GRACE_S
        ]
        if behind:
            self._repaired_at = now
            LOG.warning("boxes behind the list: %s: publishing a fresh snapshot", ", ".join(behind))
            self.publisher.stage_snapshot("fleet serve (repair)")
            self.publisher.flush(self.link)


def _serve_lock(district: District) -> int:
    fd = try_lock(district.path / "serve.lock")
    if fd is None:
        raise DistrictError(f"'fleet serve' is already running for {district.path}")
    return fd


def serving(district: District) -> bool:
    """Whether a ``fleet serve`` holds this district now."""
    fd = os.open(district.path / "serve.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def collect_for(district: District, store: Store, seconds: float) -> int:
    """Collect for ``seconds`` through the same persistent session (when serve is not running)."""
    collector = Collector(district, store)
    collector.link.start()
    try:
        collector.link.wait_connected(10)
        collector._stop.wait(seconds)
    finally:
        collector.link.stop()
    return collector.stored_events
