"""The audit log: every read, door event, alarm and mode change, kept even through a power cut.

``record`` is on the hot path: it appends one JSON line to a journal file (a write to the page
cache, no fsync: it survives the process being killed) and queues the event. A writer thread
stores queued events in the database (synchronous=FULL: it survives a power cut), retrying on
failure, never dropping. At start, ``recover`` stores whatever the journal holds that the
database does not (each event has a unique ``source_key``, so replaying twice stores it once).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from appliance.store import EventRecord, Store, StoreError

LOG = logging.getLogger(__name__)
JOURNAL_ROTATE_BYTES = 4 * 1024 * 1024
_STOP = object()


class AuditLog:
    """Journal first, database soon after; ``record`` never blocks on the database."""

    def __init__(
        self,
        store: Store,
        journal_dir: Path,
        *,
        door: str | None = None,
        enrich: Callable[[int], tuple[str | None, str | None]] | None = None,
        retry_seconds: float = 0.5,
    ) -> None:
        self.store = store
        self.journal_dir = journal_dir
        self.door = door
        self._enrich = enrich
        self._retry = retry_seconds
        self._boot = uuid.uuid4().hex[:12]
        self._seq = 0
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self.failures = 0
        journal_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._fd = self._open_journal()
        self._listeners: list[Callable[[EventRecord], None]] = []

    # -- hot path --------------------------------------------------------------------------
    def record(
        self,
        kind: str,
        *,
        reason: str | None = None,
        credential: str | None = None,
        holder: str | None = None,
        serial: str | None = None,
        actor: str | None = None,
        detail: Mapping[str, Any] | None = None,
        ts: float | None = None,
    ) -> EventRecord:
        """Append an event to the journal and queue it for the database; returns the record."""
        self._seq += 1
        rec = EventRecord(
            ts=time.time() if ts is None else ts,
            kind=kind,
            reason=reason,
            credential=credential,
            holder=holder,
            serial=serial,
            door=self.door,
            actor=actor,
            detail=dict(detail) if detail else None,
            source_key=f"{self._boot}:{self._seq}",
        )
        line = json.dumps(asdict(rec), separators=(",", ":"), default=str) + "\n"
        with self._idle:  # counted before it is written, so the journal is never cut under it
            self._pending += 1
            os.write(self._fd, line.encode())  # no fsync: the page cache survives SIGKILL
        self._queue.put(rec)
        for listener in self._listeners:
            listener(rec)
        return rec

    def add_listener(self, listener: Callable[[EventRecord], None]) -> None:
        """Call ``listener`` with every event as it is recorded (the demo's live log)."""
        self._listeners.append(listener)

    # -- writer ----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the thread that moves queued events into the database."""
        self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
        self._thread.start()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every recorded event is in the database; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, stop the writer and close the journal."""
        if self._thread is not None:
            self.flush(timeout)
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list[EventRecord] = []
            item = self._queue.get()
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, EventRecord):
                    batch.append(item)
                if len(batch) >= 500:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                self._store(batch)

    def _store(self, batch: list[EventRecord]) -> None:
        records = [self._enriched(r) for r in batch]
        while True:
            try:
                self.store.events.append(records)
                break
            except StoreError as exc:  # a busy or broken database: keep it queued, retry
                self.failures += 1
                LOG.error("audit: could not store %d events (%s); retrying", len(records), exc)
                time.sleep(self._retry)
        with self._idle:
            self._pending -= len(batch)
            if not self._pending:
                self._idle.notify_all()
                self._rotate_if_large()

    def _enriched(self, rec: EventRecord) -> EventRecord:
        card_id = (rec.detail or {}).get("card_id")
        if self._enrich is None or not isinstance(card_id, int) or rec.holder or rec.serial:
            return rec
        try:
            holder, serial = self._enrich(card_id)
        except StoreError:
            return rec
        return EventRecord(**{**asdict(rec), "holder": holder, "serial": serial})

    # -- journal ---------------------------------------------------------------------------
    def _journal_path(self) -> Path:
        return self.journal_dir / f"journal-{self._boot}.jsonl"

    def _open_journal(self) -> int:
        return os.open(self._journal_path(), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def _rotate_if_large(self) -> None:
        # Everything recorded so far is in the database: the journal can start afresh.
        path = self._journal_path()
        if self._fd >= 0 and path.stat().st_size > JOURNAL_ROTATE_BYTES:
            os.ftruncate(self._fd, 0)

    def recover(self) -> int:
        """Store events from journals of earlier runs (a crash, a power cut); return how many."""
        stored = 0
        for path in sorted(self.journal_dir.glob("journal-*.jsonl")):
            if path == self._journal_path():
                continue
            records = list(_read_journal(path))
            if records:
                records = [self._enriched(r) for r in records]
                self.store.events.append(records)  # dedup by source_key: replays store once
                stored += len(records)
            path.unlink()
        return stored


def _read_journal(path: Path) -> list[EventRecord]:
    records = []
    for n, line in enumerate(path.read_bytes().splitlines(), 1):
        try:
            data = json.loads(line)
            records.append(EventRecord(**data))
        except (ValueError, TypeError):  # a torn last line after a power cut: nothing to recover
            LOG.warning("audit: skipped unreadable journal line %s:%d", path.name, n)
    return records
