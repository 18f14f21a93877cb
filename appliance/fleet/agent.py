"""The box's fleet agent (``doorward fleet-agent``): its own process beside the controller.

It dials out to the broker, takes the district's signed list (snapshot and changes), checks
each message before anything else, applies it to the box's store in one transaction, and
ships the box's audit log home from an outbox cursor that moves only after the broker's
acknowledgement. The controller never waits on it: it keeps deciding from the store.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt

from appliance import __version__
from appliance.config import Config, FleetSection
from appliance.control import PROBE_TIMEOUT, WAKE_TIMEOUT, Control, ControlError
from appliance.files import try_lock
from appliance.fleet import topics
from appliance.fleet.link import Link, Tls, parse_broker
from appliance.fleet.messages import Change, Snapshot, parse_list
from appliance.fleet.signing import Rejected, load_public_key, open_envelope
from appliance.store import EventRecord, Store, StoreError
from appliance.store.fleet.apply import Applied, FleetApply

LOG = logging.getLogger(__name__)
BATCH_EVENTS = 500
MAX_HELD = 50_000  # changes waiting for a gap to fill; more come again on the next connect
MAX_RUN = 1000  # consecutive changes applied in one transaction
STATUS_SECONDS = 5.0
OUTBOX_POLL_S = 0.1
ACK_TIMEOUT_S = 10.0
ACK_WAIT_S = 2.0


class AgentError(RuntimeError):
    """The agent cannot start; the message says why."""


@dataclass(frozen=True, slots=True)
class _Incoming:
    topic: str
    payload: bytes
    retained: bool


class Agent:
    """One box's link to its district."""

    def __init__(self, config: Config) -> None:
        if config.fleet is None:
            raise AgentError("the config has no [fleet] section: this box is not in a fleet")
        self.config = config
        self.fleet: FleetSection = config.fleet
        f = self.fleet
        self.key = load_public_key(f.district_public_key)
        self._lock_fd = _take_lock(config)
        self.store = Store(config.db_path)
        if not self.store.schema_is_current():
            raise AgentError(
                f"the database at {config.db_path} is missing or old: run 'doorward init'"
            )
        self.apply = FleetApply(self.store, school=f.school, actor=f"fleet:{f.district}")
        self.version = self.apply.applied_version()
        self.held: dict[int, Change] = {}
        self.rejections = 0
        self.last_rejection: dict[str, Any] | None = None
        self.last_message_at: float | None = None
        self.conflicts: list[str] = []
        self._inbox: queue.SimpleQueue[_Incoming | None] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._status_due = threading.Event()
        self._generation = 0
        self._confirmed = 0
        self._acked_ever = False
        self._ack_seen = threading.Event()
        offline = json.dumps({"box_id": f.box_id, "online": False, "school": f.school}).encode()
        self.link = Link(
            parse_broker(f.broker),
            f"doorward-{f.district}-{f.box_id}",
            clean=True,  # catch-up comes from retained messages; the outbox from our own cursor
            tls=Tls(f.ca_file, f.cert_file, f.key_file),
            keepalive=f.keepalive_seconds,
            will=(self._topic("status"), offline),
            on_connect=self._connected,
            on_message=self._received,
            on_disconnect=self._disconnected,
        )
        self._shipper = threading.Thread(target=self._ship_loop, name="fleet-outbox", daemon=True)

    def _topic(self, what: str) -> str:
        return topics.box(self.fleet.district, self.fleet.box_id, what)

    # -- life cycle ---------------------------------------------------------------------------
    def run(self) -> None:
        """Work until ``stop``: apply what comes in, publish status, ship events."""
        LOG.info(
            "fleet agent for box %s (%s) of district %s: list version %d, broker %s",
            self.fleet.box_id,
            self.fleet.school,
            self.fleet.district,
            self.version,
            self.link.broker,
        )
        self.link.start()
        self._shipper.start()
        next_status = 0.0
        try:
            while not self._stop.is_set():
                timeout = max(0.0, min(STATUS_SECONDS, next_status - time.monotonic()))
                try:
                    first = self._inbox.get(timeout=timeout)
                except queue.Empty:
                    first = None
                if first is not None:
                    self._handle_batch(first)
                if self._status_due.is_set() or time.monotonic() >= next_status:
                    self._status_due.clear()
                    self._publish_status()
                    next_status = time.monotonic() + STATUS_SECONDS
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Ask ``run`` to finish (safe from a signal handler)."""
        self._stop.set()
        self._inbox.put(None)

    def _shutdown(self) -> None:
        self._shipper.join(ACK_TIMEOUT_S)
        if self.link.connected.is_set():
            status = self._status(online=False)
            try:
                self.link.publish_and_wait(
                    self._topic("status"), json.dumps(status).encode(), retain=True, timeout=2
                )
            except Exception:  # going away anyway: the last will says offline too
                LOG.debug("could not say goodbye", exc_info=True)
        self.link.stop()
        self._save_status(online=False)
        self.store.close()
        os.close(self._lock_fd)

    # -- paho's thread: keep it short --------------------------------------------------------
    def _connected(self) -> None:
        f = self.fleet
        self._generation += 1
        self._ack_seen.clear()
        self.link.subscribe(
            [topics.snapshot(f.district), topics.changes(f.district), self._topic("ack")]
        )
        self._status_due.set()
        self._inbox.put(None)  # wake the worker to publish the status now

    def _disconnected(self) -> None:
        self._generation += 1
        self._ack_seen.clear()
        self._status_due.set()
        self._inbox.put(None)

    def _received(self, msg: mqtt.MQTTMessage) -> None:
        if msg.topic == self._topic("ack"):
            self._acked(bytes(msg.payload))
            return
        self._inbox.put(_Incoming(msg.topic, bytes(msg.payload), bool(msg.retain)))

    def _acked(self, payload: bytes) -> None:
        """The console's word: the newest of our events it has stored."""
        try:
            value = json.loads(payload)["event_id"]
        except (ValueError, KeyError, TypeError, RecursionError):
            LOG.warning("ignoring an unreadable acknowledgement from the district")
            return
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            # The console's database is durable: the highest word heard stays true even when a
            # crashed broker hands back an older retained one (or none).
            self._confirmed = max(self._confirmed, value)
            self._acked_ever = True
            self._ack_seen.set()

    # -- the list -----------------------------------------------------------------------------
    def _handle_batch(self, first: _Incoming | None) -> None:
        """Check everything waiting, then apply the newest snapshot and every change that fits."""
        batch = [first] if first is not None else []
        while len(batch) < 5000:
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                break
            if item is None:
                if self._stop.is_set():
                    break
                continue
            batch.append(item)
        snapshot: Snapshot | None = None
        for item in batch:
            message = self._check(item)
            if isinstance(message, Snapshot):
                if snapshot is None or message.version > snapshot.version:
                    snapshot = message
            elif isinstance(message, Change) and len(self.held) < MAX_HELD:
                self.held.setdefault(message.version, message)
        if snapshot is not None:
            self._apply_snapshot(snapshot)
        self._apply_held()

    def _check(self, item: _Incoming) -> Snapshot | Change | None:
        """The verified message, or None (rejected and reported, or nothing to do)."""
        if not item.payload:
            return None  # a pruned change: the broker's retained copy was cleared
        self.last_message_at = time.time()
        district = self.fleet.district
        if item.topic == topics.snapshot(district):
            topic_version = None
        else:
            topic_version = topics.parse_change(district, item.topic)
            if topic_version is None:
                self._reject(item.topic, Rejected("malformed", "not a list topic"))
                return None
        try:
            opened = open_envelope(item.payload, self.key, max_bytes=self.fleet.max_message_bytes)
            message = parse_list(opened.body, district, topic_version)
        except Rejected as rejected:
            self._reject(item.topic, rejected)
            return None
        if message.version <= self.version:
            if not item.retained:  # retained copies come again on every connect: not a replay
                why = f"version {message.version} is not newer than list version {self.version}"
                self._reject(item.topic, Rejected("replayed", why))
            return None
        return message

    def _apply_snapshot(self, snap: Snapshot) -> None:
        if snap.version <= self.version:
            return
        try:
            done = self.apply.apply_snapshot(
                snap.version,
                [gr.model_dump() for gr in snap.groups],
                [c.model_dump() for c in snap.credentials],
                snap.lockdown.all,
                snap.lockdown.schools,
            )
        except StoreError as err:
            self._reject(topics.snapshot(self.fleet.district), Rejected("refused", str(err)))
            return
        self._applied(done)

    def _apply_held(self) -> None:
        for version in [v for v in self.held if v <= self.version]:
            del self.held[version]
        while self.version + 1 in self.held:
            run: list[Change] = []
            version = self.version + 1
            while version in self.held and len(run) < MAX_RUN:
                run.append(self.held[version])
                version += 1
            if not self._apply_run(run):
                return

    def _apply_run(self, run: list[Change]) -> bool:
        """Apply consecutive changes in one transaction; one by one if that fails."""
        try:
            done = self.apply.apply_changes([c.model_dump() for c in run])
        except StoreError as err:
            if len(run) > 1:
                return all(self._apply_run([c]) for c in run)
            topic = topics.change(self.fleet.district, run[0].version)
            self._reject(topic, Rejected("refused", str(err)))
            return False
        for change in run:
            self.held.pop(change.version, None)
        self._applied(done)
        return True

    def _applied(self, done: Applied) -> None:
        self.version = done.version
        if done.conflicts:
            self.conflicts = (done.conflicts + self.conflicts)[:100]
            for conflict in done.conflicts:
                LOG.warning("district card not applied: %s", conflict)
        LOG.info(
            "list version %d: %d added, %d updated, %d removed%s",
            done.version,
            done.added,
            done.updated,
            done.removed,
            f", door mode {done.mode}" if done.mode else "",
        )
        # The controller notices within 100 ms anyway; a wake-up makes it at once.
        with contextlib.suppress(ControlError):
            Control(self.config.data_dir, timeout=WAKE_TIMEOUT).refresh()
        self._status_due.set()

    def _reject(self, topic: str, rejected: Rejected) -> None:
        """Report a refused message: the log, the box's audit log, the status, the broker."""
        LOG.warning("rejected a message on %s: %s", topic, rejected)
        now = time.time()
        self.rejections += 1
        info = {
            "at": now,
            "topic": topic[:300],
            "reason": rejected.reason,
            "detail": rejected.detail[:2000],
        }
        self.last_rejection = info
        try:
            self.store.events.append(
                [
                    EventRecord(
                        ts=now,
                        kind="fleet_rejected",
                        reason=f"{rejected.reason}: {rejected.detail}"[:2000],
                        door=self.config.door.name,
                        actor=f"fleet:{self.fleet.district}",
                        detail={"topic": topic[:300], "reason": rejected.reason},
                        source_key=f"fleet-reject:{uuid.uuid4().hex}",
                    )
                ]
            )
        except StoreError as err:
            LOG.error("could not record the rejection: %s", err)
        report = {"box_id": self.fleet.box_id, "rejection": info}
        self.link.publish(self._topic("rejections"), json.dumps(report).encode())
        self._status_due.set()

    # -- status -------------------------------------------------------------------------------
    def _status(self, *, online: bool) -> dict[str, Any]:
        f = self.fleet
        mode, alarms = self._door()
        try:
            shipped = self.apply.shipped_event_id()
            pending = max(0, self.apply.newest_event_id() - shipped)
            applied_at = self.apply.applied_at()
        except StoreError:
            shipped, pending, applied_at = None, None, None
        return {
            "box_id": f.box_id,
            "online": online,
            "school": f.school,
            "door": self.config.door.name,
            "software": __version__,
            "list_version": self.version,
            "list_applied_at": applied_at,
            "mode": mode,
            "alarms": alarms,
            "outbox_pending": pending,
            "shipped_event_id": shipped,
            "held_changes": len(self.held),
            "conflicts": self.conflicts[:100],
            "rejections": self.rejections,
            "last_rejection": self.last_rejection,
            "at": time.time(),
        }

    def _door(self) -> tuple[str | None, list[str]]:
        try:
            status = Control(self.config.data_dir, timeout=PROBE_TIMEOUT).status()
            return str(status.get("mode")), [str(a) for a in status.get("alarms", [])]
        except ControlError:
            pass
        try:
            return self.store.door.mode()[0].value, []
        except StoreError:
            return None, []

    def _publish_status(self) -> None:
        status = self._status(online=True)
        if self.link.connected.is_set():
            self.link.publish(self._topic("status"), json.dumps(status).encode(), retain=True)
        self._save_status(online=self.link.connected.is_set(), status=status)

    def _save_status(self, *, online: bool, status: dict[str, Any] | None = None) -> None:
        local = dict(status or self._status(online=online))
        local.update(
            connected=online, broker=str(self.link.broker), last_message_at=self.last_message_at
        )
        try:
            self.store.fleet.set_status(local)
        except StoreError as err:
            LOG.warning("could not save the fleet status: %s", err)

    # -- the outbox ---------------------------------------------------------------------------
    def _ship_loop(self) -> None:
        seen_version: int | None = None
        synced = -1
        while not self._stop.is_set():
            if not self.link.connected.wait(0.5):
                continue
            try:
                if synced != self._generation:
                    synced = self._generation
                    seen_version = None
                    self._sync_cursor()
                version = self.store.data_version()
                if version == seen_version:
                    self._stop.wait(OUTBOX_POLL_S)
                    continue
                if not self._ship_batch():
                    seen_version = version  # nothing left: wait for the next commit
            except StoreError as err:
                LOG.warning("outbox: %s", err)
                self._stop.wait(1.0)
            except Exception:  # the outbox must outlive anything one batch runs into
                LOG.exception("outbox: shipping failed; trying again")
                self._stop.wait(1.0)

    def _sync_cursor(self) -> None:
        """After (re)connecting: go back to what the console has, if the broker lost some.

        The broker acknowledged everything up to the cursor, but a broker that crashed before
        saving, or dropped a queue, may never have handed it on: the console's retained
        acknowledgement (sent right after subscribing) says what it really holds.
        """
        self._ack_seen.wait(ACK_WAIT_S)  # the retained word comes right after subscribing
        if not self._acked_ever:
            return  # no word from the console yet (a new district): keep the cursor
        if self.apply.rewind_shipped_event_id(self._confirmed):
            LOG.warning(
                "outbox: the district has events up to %d only: sending again", self._confirmed
            )

    def _ship_batch(self) -> bool:
        """Ship the next batch; True if one went (there may be more)."""
        cursor = self.apply.shipped_event_id()
        events = self.store.events.query(after_id=cursor, newest_first=False, limit=BATCH_EVENTS)
        if not events:
            return False
        generation = self._generation
        body = {
            "box_id": self.fleet.box_id,
            "school": self.fleet.school,
            "events": [e.as_wire() for e in events],  # appliance.core.event_wire
        }
        info = self.link.publish(self._topic("events"), json.dumps(body, default=str).encode())
        deadline = time.monotonic() + ACK_TIMEOUT_S
        try:
            while not info.is_published():
                if (
                    self._generation != generation
                    or time.monotonic() > deadline
                    or self._stop.is_set()
                ):
                    return True  # not acknowledged: the same events go again from the cursor
                time.sleep(0.002)
        except (RuntimeError, ValueError):  # paho: the connection went while it was queued
            return True
        self.apply.set_shipped_event_id(events[-1].id)
        return True


def _take_lock(config: Config) -> int:
    config.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = try_lock(config.data_dir / "fleet-agent.lock")
    if fd is None:
        raise AgentError(f"another fleet agent is already running for {config.data_dir}")
    return fd
