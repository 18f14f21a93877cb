"""From reader events to the strike: decide, journal, then drive the door. The hot path.

Runs only on the controller's loop thread, so it needs no locks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from appliance.audit import AuditLog
from appliance.controller.stats import LatencyStats
from appliance.core.decide import Decision, DoorState, Reason, View, decide
from appliance.core.model import card_key
from appliance.door import Door
from appliance.wiegand.formats import Credential
from appliance.wiegand.reader import (
    CardRead,
    KeyPress,
    PinEntered,
    ReaderEvent,
    Rejected,
    WiringFault,
)

LOG = logging.getLogger(__name__)


@dataclass(slots=True)
class _AwaitingPin:
    key: int
    credential: Credential
    deadline: float  # monotonic seconds


class ReadHandler:
    """Turns each reader event into a decision, an audit record and a door action."""

    def __init__(
        self,
        *,
        door: Door,
        audit: AuditLog,
        view: Callable[[], View],
        door_state: Callable[[], DoorState],
        healthy: Callable[[], bool],
        elapsed_us: Callable[[int], float],
        zone: ZoneInfo | None,
        pin_timeout: float,
        keypad: bool,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.door = door
        self.audit = audit
        self._view = view
        self._door_state = door_state
        self._healthy = healthy
        self._elapsed_us = elapsed_us  # reader clock: µs from a frame's last edge until now
        self._zone = zone
        self._pin_timeout = pin_timeout
        self._keypad = keypad
        self._clock = clock
        self._wall = wall
        self.stats = LatencyStats()
        self.awaiting: _AwaitingPin | None = None
        self.last_unknown: str | None = None

    def handle(self, event: ReaderEvent) -> None:
        """Act on one reader event."""
        if isinstance(event, CardRead):
            self._card(event)
        elif isinstance(event, PinEntered):
            self._pin(event.pin)
        elif isinstance(event, KeyPress):
            pass  # keys only matter once they make a PIN
        elif isinstance(event, Rejected):
            if event.reason in ("parity", "long"):  # most likely a card misread: on record
                self._record_reader_fault(f"{event.reason}: {event.detail}", event.bits)
        elif isinstance(event, WiringFault):
            self.audit.record("reader_fault", reason=event.detail, detail={"kind": event.kind})

    def expire(self, now: float) -> None:
        """A card that waited for its PIN too long is denied."""
        if self.awaiting is not None and now >= self.awaiting.deadline:
            waiting, self.awaiting = self.awaiting, None
            decision = self._decide(waiting.key, None)
            self._act(waiting.credential, decision)

    def deadline(self) -> float | None:
        """When ``expire`` has something to do."""
        return self.awaiting.deadline if self.awaiting else None

    # -- internals -------------------------------------------------------------------------
    def _local_now(self) -> datetime:
        ts = self._wall()
        return (
            datetime.fromtimestamp(ts, self._zone)
            if self._zone
            else datetime.fromtimestamp(ts).astimezone()
        )

    def _decide(self, key: int, pin: str | None) -> Decision:
        return decide(key, self._door_state(), self._view(), self._local_now(), pin)

    def _card(self, event: CardRead) -> None:
        frame_us = self._elapsed_us(event.end_us)
        cred = event.credential
        t0 = time.perf_counter_ns()
        key = card_key(cred.format, cred.facility, cred.number)
        decision = self._decide(key, None)
        decide_us = (time.perf_counter_ns() - t0) / 1000
        if decision.reason == Reason.PIN_REQUIRED and self._keypad:
            self.awaiting = _AwaitingPin(key, cred, self._clock() + self._pin_timeout)
            self.audit.record(
                "pin_wait",
                reason="waiting for PIN",
                credential=str(cred),
                detail={"card_id": decision.card_id},
            )
            return
        self.awaiting = None
        self._act(cred, decision, (event.end_us, frame_us, decide_us))

    def _pin(self, pin: str) -> None:
        waiting = self.awaiting
        if waiting is None:
            LOG.info("a PIN was typed with no card before it: ignored")
            return
        self.awaiting = None
        decision = self._decide(waiting.key, pin)
        self._act(waiting.credential, decision)

    def _act(
        self, cred: Credential, decision: Decision, timing: tuple[int, float, float] | None = None
    ) -> None:
        """Journal the read, then drive the door; ``timing`` = (frame end, frame µs, decide µs)."""
        state = self._door_state()
        detail: dict[str, object] = {"card_id": decision.card_id, "group": decision.group}
        if timing is not None:
            detail["latency_us"] = {"frame": round(timing[1]), "decide": round(timing[2], 1)}
        if decision.responder:
            detail["responder"] = True
        if state.mode.value != "normal":
            detail["mode"] = state.mode.value
        if not self._healthy():
            detail["degraded"] = True
        if decision.reason == Reason.UNKNOWN:
            self.last_unknown = str(cred)
        # The journal append comes before the relay (a page-cache write, no fsync); the
        # database write happens later on the audit thread, never in the strike's way.
        self.audit.record(
            "granted" if decision.granted else "denied",
            reason=decision.reason.value,
            credential=str(cred),
            detail=detail,
        )
        if decision.granted:
            self.door.grant(self._clock())
        else:
            self.door.deny(self._clock())
        if timing is not None:
            self.stats.add("edge_to_relay", self._elapsed_us(timing[0]))
            self.stats.add("frame", timing[1])
            self.stats.add("decide", timing[2])

    def _record_reader_fault(self, detail: str, bits: str) -> None:
        self.audit.record(
            "denied", reason=Reason.READER_FAULT.value, detail={"frame": detail, "bits": bits[:128]}
        )
