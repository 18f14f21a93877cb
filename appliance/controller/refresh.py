"""Keeps the controller's in-memory view in step with the database, off the hot path.

A thread notices a commit by any other process (``PRAGMA data_version``) within ``interval``
seconds, reads only the credentials changed since the view's revision, and applies them; groups
and the door's mode are replaced whole; the door settings changed on the admin page are read
with them and handed on whole (the controller checks them before using them). If the database
cannot be read the view stays as it was, the controller is told it is degraded, and it recovers
by itself when the database is back.
"""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from typing import Any

from appliance.core.decide import View
from appliance.core.model import Mode
from appliance.store import Store, StoreError

LOG = logging.getLogger(__name__)


class ViewRefresher:
    """Loads the view once, then follows the database's changes in a thread of its own."""

    def __init__(
        self,
        store: Store,
        *,
        on_mode: Callable[[Mode, str | None], None],
        on_health: Callable[[bool, str | None], None],
        on_settings: Callable[[dict[str, Any]], None] | None = None,
        on_applied: Callable[[int, bool], None] | None = None,
        interval: float = 0.1,
    ) -> None:
        self.store = store
        self.view = View()
        self.mode: Mode = Mode.NORMAL
        self.mode_reason: str | None = None
        self.healthy = True
        self._on_mode = on_mode
        self._on_health = on_health
        self._on_settings = on_settings
        # After on_mode and on_settings: the view's new revision, and whether either was called.
        self._on_applied = on_applied
        self.settings: dict[str, Any] = {}
        self._interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen_version: int | None = None
        self.refreshes = 0
        self.refreshed = threading.Condition()

    def load(self) -> None:
        """The first, full load (the caller decides what to do if the database is unreadable)."""
        self._refresh()

    def start(self) -> None:
        """Follow changes from now on."""
        self._thread = threading.Thread(target=self._run, name="view-refresh", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Check for changes now (another process told us it changed something)."""
        self._wake.set()

    def stop(self) -> None:
        """Stop following changes."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                version = self.store.data_version()
                if version != self._seen_version or not self.healthy:
                    # Most commits are the audit log's own: one small read says if anything
                    # decisions use has changed before the snapshot is read.
                    if not self.healthy or self.store.current_rev() != self.view.rev:
                        self._refresh()
                    else:
                        self._set_health(True, None)
                    self._seen_version = version
            except StoreError as exc:
                self._set_health(False, str(exc))
            except Exception as exc:  # the door keeps deciding from memory whatever happens here
                LOG.exception("view refresh failed")
                self._set_health(False, f"{type(exc).__name__}: {exc}")

    def _refresh(self) -> None:
        snap = self.store.load_snapshot(self.view.rev)  # groups, cards, mode: one consistent read
        first = self.refreshes == 0
        self._set_health(True, None)
        if not first and snap.rev == self.view.rev:
            return  # a commit that changed nothing decisions use (e.g. an audit event)
        cards = self.view.cards
        for key, entry in snap.cards:
            cards[key] = entry  # one key at a time: a read sees the old entry or the new one
        self.view = View(cards, snap.groups, max(snap.rev, self.view.rev))
        if first:
            gc.freeze()  # millions of long-lived entries: keep them out of every full collection
        handed_over = False
        if (snap.mode, snap.mode_reason) != (self.mode, self.mode_reason):
            self.mode, self.mode_reason = snap.mode, snap.mode_reason
            self._on_mode(snap.mode, snap.mode_reason)
            handed_over = True
        if self._on_settings is not None:
            handed_over |= self._refresh_settings(first)
        if self._on_applied is not None:
            self._on_applied(self.view.rev, handed_over)
        with self.refreshed:
            self.refreshes += 1
            self.refreshed.notify_all()

    def _refresh_settings(self, first: bool) -> bool:
        # A separate read after the snapshot: it can only be newer, and a setting changed since
        # bumps the rev again, so the next refresh reads it once more.
        try:
            stored = self.store.door.settings()
        except Exception:  # an unreadable settings row keeps the settings the door has
            LOG.exception("door settings could not be read: keeping the ones in use")
            return False
        if first or stored != self.settings:
            self.settings = stored
            assert self._on_settings is not None
            self._on_settings(dict(stored))
            return True
        return False

    def wait_refresh(self, after: int, timeout: float) -> bool:
        """Wait until more than ``after`` refreshes have happened (for tests and tools)."""
        with self.refreshed:
            return self.refreshed.wait_for(lambda: self.refreshes > after, timeout)

    def _set_health(self, healthy: bool, problem: str | None) -> None:
        if healthy != self.healthy:
            self.healthy = healthy
            self._on_health(healthy, problem)
