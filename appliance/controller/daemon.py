"""The door controller (``doorward run``): wires hardware, reader, policy, door and audit together.

One loop thread owns the reader, the door and every decision; other threads (edge callbacks,
gpiozero inputs, the view refresher, the control socket) only put work on its queue.
"""

from __future__ import annotations

import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from datetime import datetime
from pathlib import Path
from typing import Any

from appliance import hw
from appliance.audit import AuditLog
from appliance.config import Config
from appliance.controller.control import ControlServer
from appliance.controller.inputs import DoorInputs
from appliance.controller.reads import ReadHandler
from appliance.controller.refresh import ViewRefresher
from appliance.core.decide import DoorState, in_window
from appliance.core.model import Mode
from appliance.door import Door, DoorSettings, settings_with
from appliance.files import try_lock
from appliance.hw import io
from appliance.hw.clock import clock_synchronised
from appliance.sdnotify import Notifier
from appliance.store import Store, StoreError
from appliance.wiegand.edges import Edge
from appliance.wiegand.keypad import KeypadMode
from appliance.wiegand.reader import WiegandReader

LOG = logging.getLogger(__name__)
SWITCH_INTERVAL = 0.0005
MAX_WAIT = 0.25  # the loop wakes at least this often (keeps tick unwrapping and timers fresh)


class ControllerError(RuntimeError):
    """The controller cannot start; the message says why and what to do."""


class Controller:
    """Builds everything from the config; ``run`` until ``stop``."""

    def __init__(
        self, config: Config, *, source: hw.EdgeSource | None = None, factory: Any = None
    ) -> None:
        self.config = config
        self._queue: queue.SimpleQueue[Edge | Callable[[], None]] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self.started = threading.Event()
        self.degraded = False
        # The view's revision once the loop thread has applied all of it (the mode and the
        # settings are handed over after the cards): what status reports as view_revision.
        self.applied_rev = 0
        self._handoffs = 0  # mode and settings hand-overs posted to the loop, not yet run
        self._handoff_lock = threading.Lock()
        self.clock_synced = True
        self.started_at = time.monotonic()
        self._unlocked_windows = config.door.unlocked_windows
        self._schedule_holding = False
        self._next_clock_check = 0.0
        # Safety first: the strike is driven to its locked level before anything else happens.
        self.factory = factory if factory is not None else hw.pin_factory(config.outputs_backend)
        fail_safe = config.door.lock_type == "fail_safe"
        self.strike = io.output_pin(
            self.factory,
            config.strike.pin,
            active_high=not config.strike.active_low,
            initial_active=fail_safe,  # a maglock is locked while energised
        )
        self.strike.hold()
        r = config.reader
        led = (
            None
            if r.led_pin is None
            else io.output_pin(self.factory, r.led_pin, active_high=not r.led_active_low)
        )
        beeper = (
            None
            if r.beeper_pin is None
            else io.output_pin(self.factory, r.beeper_pin, active_high=not r.beeper_active_low)
        )
        self._outputs = [o for o in (led, beeper) if o is not None]
        d = config.door
        settings = DoorSettings(
            unlock_seconds=d.unlock_seconds,
            held_open_seconds=d.held_open_seconds,
            fail_safe=fail_safe,
            rex_unlocks=config.rex is None or config.rex.mode == "unlock",
            dps_debounce_seconds=d.dps_debounce_seconds,
            forced_open_grace_seconds=d.forced_open_grace_seconds,
        )
        self._config_settings = settings  # what a setting not changed on the admin page is
        self.door = Door(
            settings,
            self.strike,
            led=led,
            beeper=beeper,
            emit=self._door_event,
            has_dps=config.dps is not None,
        )
        self.inputs = DoorInputs(config, self.factory, self.door, self.post, self._lockdown_button)
        self._lock_fd = self._take_lock(config.data_dir)
        self.store = Store(config.db_path)
        if not self.store.schema_is_current():
            raise ControllerError(
                f"the database at {config.db_path} is missing or old: run 'doorward init'"
            )
        self.audit = AuditLog(
            self.store, config.data_dir / "journal", door=d.name, enrich=self.store.cards.details
        )
        recovered = self.audit.recover()
        if recovered:
            LOG.warning("stored %d events recovered from the journal of an earlier run", recovered)
        self.refresher = ViewRefresher(
            self.store,
            on_mode=self._mode_changed,
            on_health=self._health_changed,
            on_settings=self._settings_changed,
            on_applied=self._view_applied,
        )
        self.source = source or hw.edge_source(
            config.gpio.backend, r.d0, r.d1, **self._source_options()
        )
        self.reader = WiegandReader(
            formats=r.formats,
            keypad=KeypadMode(r.keypad),
            frame_bits=r.frame_bits,
            tick_wrap=self.source.tick_wrap,
            min_card_bits=r.min_card_bits,
            pin_timeout_us=int(r.pin_timeout_seconds * 1_000_000),
        )
        self.reads = ReadHandler(
            door=self.door,
            audit=self.audit,
            view=lambda: self.refresher.view,
            door_state=self.door_state,
            healthy=lambda: not self.degraded,
            elapsed_us=self._elapsed_us,
            zone=config.zone,
            pin_timeout=r.pin_timeout_seconds,
            keypad=r.keypad != "none",
        )
        self.control: ControlServer | None = None
        self.notifier = Notifier()  # systemd: ready, and the watchdog pinged by the loop thread

    # -- life cycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Load the view, start the threads; the door decides from here on."""
        try:
            self.refresher.load()
            self._apply_mode()
        except StoreError as exc:
            self._health_changed(False, str(exc))
        self.audit.start()
        self.refresher.start()
        self.reader.set_levels(self.source.levels(), self.source.now_us())
        self.source.start(self._queue.put)
        self.inputs.start()
        from appliance.controller.commands import CommandHandler

        self.control = ControlServer(self.config.data_dir, CommandHandler(self).handle)
        self.control.start()
        self.audit.record(
            "controller", reason="started", detail={"backend": self.config.gpio.backend}
        )
        LOG.info(
            "controller for %r running on the %s back-end",
            self.config.door.name,
            self.config.gpio.backend,
        )

    def run(self) -> None:
        """The loop: edges and work from other threads in, decisions and door actions out."""
        # Threads hand the GIL over every 5 ms by default: a thread busy applying an import to
        # the view could hold the edge callbacks and this loop back that long.
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.start()
        self.started.set()
        c = self.config
        self.notifier.ready(f"door {c.door.name!r} running on the {c.gpio.backend} back-end")
        try:
            while not self._stopping.is_set():
                self._step()
        finally:
            self._shutdown()

    def stop(self) -> None:
        """Ask the loop to finish (safe from any thread or a signal handler)."""
        self._stopping.set()
        self._queue.put(lambda: None)

    def call(self, fn: Callable[[], Any], timeout: float = 5.0) -> Any:
        """Run ``fn`` on the loop thread and return its result (for other threads)."""
        future: Future[Any] = Future()

        def work() -> None:
            try:
                future.set_result(fn())
            except Exception as exc:
                future.set_exception(exc)

        self._queue.put(work)
        return future.result(timeout)

    def post(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the loop thread soon, without waiting."""
        self._queue.put(fn)

    # -- the loop --------------------------------------------------------------------------
    def _step(self) -> None:
        try:
            item: Edge | Callable[[], None] | None = self._queue.get(timeout=self._timeout())
        except queue.Empty:
            item = None
        # Read the time before draining the queue: every edge a source delivered up to this time
        # is then already queued, so a frame's gap is never judged against an edge still in flight.
        now_us = self.source.now_us()
        if item is None:  # the wait timed out, but an edge may have come since: take it too
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                item = None
        handle = self.reads.handle
        while item is not None:
            if isinstance(item, Edge):
                for event in self.reader.feed(item):
                    handle(event)
            else:
                try:
                    item()
                except Exception:
                    LOG.exception("controller task failed")
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                item = None
        for event in self.reader.poll(now_us):
            handle(event)
        now = time.monotonic()
        self.notifier.watchdog(now)  # from this thread only: a hung loop is restarted
        self.reads.expire(now)
        self.door.poll(now)
        if now >= self._next_clock_check:
            self._next_clock_check = now + 1.0
            self.clock_synced = clock_synchronised()
            self._apply_mode()

    def _timeout(self) -> float:
        waits = [MAX_WAIT]
        reader = self.reader.deadline_in(self.source.now_us())
        if reader is not None:
            waits.append(reader / 1_000_000)
        now = time.monotonic()
        for deadline in (self.door.next_deadline(), self.reads.deadline()):
            if deadline is not None:
                waits.append(deadline - now)
        return max(0.0, min(waits))

    def _elapsed_us(self, end_us: int) -> float:
        now = self.source.clock_us()
        wrap = self.source.tick_wrap
        elapsed = (now - end_us) % wrap if wrap else now - end_us
        if wrap and elapsed > wrap // 2:  # a clock estimate a hair behind the edge itself
            elapsed = 0
        return float(max(0, elapsed))

    def door_state(self) -> DoorState:
        """This door's state for the policy."""
        return DoorState(
            self.config.door.name,
            self.door.mode,
            self.clock_synced,
            self.config.clock.unsynced_policy == "allow",
        )

    # -- events from other threads -----------------------------------------------------------
    def _door_event(self, kind: str, detail: str) -> None:
        self.audit.record(kind, reason=detail)

    def _mode_changed(self, mode: Mode, reason: str | None) -> None:
        self.post(self._apply_mode)

    def _view_applied(self, rev: int, handed_over: bool) -> None:
        # Cards and groups are in use once the refresher swaps the view: set the revision at
        # once. Only a refresh that handed the mode or the settings to the loop (or one while
        # such a hand-over is still queued) posts it, to run after them. Posting on every
        # refresh woke the loop in the middle of frames during an import: see issue 16.
        with self._handoff_lock:
            if not handed_over and self._handoffs == 0:
                self.applied_rev = max(rev, self.applied_rev)
                return
            self._handoffs += 1
        self.post(lambda: self._applied(rev))

    def _applied(self, rev: int) -> None:
        with self._handoff_lock:
            self._handoffs -= 1
            self.applied_rev = max(rev, self.applied_rev)

    def _settings_changed(self, stored: dict[str, Any]) -> None:
        self.post(lambda: self._apply_settings(stored))

    def _apply_settings(self, stored: dict[str, Any]) -> None:
        """The admin page's settings, checked again: a bad stored value keeps the one in use."""
        new, problems = settings_with(self.door.settings, self._config_settings, stored)
        for problem in problems:
            LOG.error("%s", problem)
        if new != self.door.settings:
            # between two tasks on the loop thread: never in the middle of a decision
            self.door.settings = new
            LOG.info("door settings now: %s", new)

    def _apply_mode(self) -> None:
        """The door's mode: as stored, or held unlocked while the door's schedule says so."""
        mode = self.refresher.mode
        held = self._held_by_schedule()
        if mode == Mode.NORMAL and held:
            mode = Mode.HELD_UNLOCKED
        if held != self._schedule_holding:
            self._schedule_holding = held
            why = "held unlocked by schedule" if held else "unlock schedule ended"
            self.audit.record("schedule", reason=why, detail={"mode": mode.value})
        self.door.set_mode(mode, time.monotonic())

    def _held_by_schedule(self) -> bool:
        windows = self._unlocked_windows
        if not windows or not self.clock_synced:  # never unlock on a clock that may be wrong
            return False
        zone = self.config.zone
        now = datetime.now(zone) if zone else datetime.now().astimezone()
        return any(in_window(w, now) for w in windows)

    def _health_changed(self, healthy: bool, problem: str | None) -> None:
        def apply() -> None:
            self.degraded = not healthy
            self.notifier.status("running" if healthy else "DEGRADED: deciding from memory")
            if healthy:
                LOG.warning("database readable again: view refreshed")
                self.audit.record("fault_cleared", reason="database readable again")
            else:
                LOG.error(
                    "DEGRADED: database unreadable (%s): deciding from the last view", problem
                )
                self.audit.record(
                    "fault", reason=f"database unreadable, deciding from memory: {problem}"
                )

        self.post(apply)

    def _lockdown_button(self, pressed: bool) -> None:
        if not pressed:
            return
        # Act at once at this door; record it (and tell every other process) off the loop thread.
        # Until the refresher reads it back from the store, this door holds the mode itself.
        self.refresher.mode = Mode.LOCKDOWN
        self._apply_mode()

        def save() -> None:
            try:
                self.store.door.set_mode(
                    Mode.LOCKDOWN, reason="lockdown button pressed", actor="button"
                )
            except StoreError as exc:
                LOG.error("lockdown button: could not record the lockdown: %s", exc)

        threading.Thread(target=save, name="lockdown-button", daemon=True).start()

    def _source_options(self) -> dict[str, Any]:
        g, r = self.config.gpio, self.config.reader
        if g.backend == "pigpio":
            return {"glitch_us": r.glitch_us, "watchdog_ms": r.watchdog_ms}
        if g.backend == "gpiod":
            return {"chip": g.chip}
        return {}

    def _shutdown(self) -> None:
        self.door.stop()  # locked first; the strike pin keeps its level (never released to input)
        self.notifier.stopping()
        if self.control is not None:
            self.control.close()
        self.inputs.close()
        self.source.close()
        self.refresher.stop()
        self.audit.record("controller", reason="stopped")
        self.audit.close()
        self.store.close()
        for output in (*self._outputs, self.strike):
            output.close()  # the strike holds its locked level (see OutputPin.hold)
        close = getattr(self.factory, "close", None)
        if close is not None:
            close()
        self.notifier.close()
        os.close(self._lock_fd)

    @staticmethod
    def _take_lock(data_dir: Path) -> int:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = try_lock(data_dir / "controller.lock")
        if fd is None:
            raise ControllerError(f"another controller is already running for {data_dir}")
        return fd
