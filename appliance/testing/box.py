"""A whole box in the test process: config, seeded store, and a running controller.

``running_box(tmp_path)`` writes a door config (``write_config``: the mock back-end, reader on
GPIO 14/15, strike on 26, any extra TOML), seeds a store (``seed``: three responders, one of them
lost, a staff card) and runs a ``Controller`` on a thread; ``mock(controller)`` is its reader to
play cards on and ``EventWaiter`` waits for the audit records it writes.
``start_controller_process`` runs ``doorward run`` as a process of its own (on a pigpiod emulator
if given) once it is ready.

Limits: the in-process controller is the real one but not the service: no systemd notify, no
watchdog, no admin page. ``EventWaiter.wait``, ``mock``, ``running_box`` and
``start_controller_process`` check as they go and raise ``AssertionError`` (a test failure).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from appliance.config import Config, load_config
from appliance.controller import Controller
from appliance.hw.mock_backend import MockEdgeSource
from appliance.store import EventRecord, Store

CONFIG = """
data_dir = "data"
[door]
name = "Front entrance"
unlock_seconds = {unlock}
{door_extra}
[gpio]
backend = "{backend}"
[reader]
d0 = 14
d1 = 15
{reader_extra}
[strike]
pin = 26
active_low = true
{extra}
"""


def write_config(
    tmp_path: Path,
    *,
    unlock: float = 0.2,
    backend: str = "mock",
    reader_extra: str = "",
    extra: str = "",
    door_extra: str = "",
) -> Path:
    path = tmp_path / "doorward.toml"
    path.write_text(
        CONFIG.format(
            unlock=unlock,
            backend=backend,
            reader_extra=reader_extra,
            extra=extra,
            door_extra=door_extra,
        )
    )
    return path


def seed(store: Store) -> None:
    """Two responders, a staff card, a lost fob."""
    store.cards.add(
        "H10301", 100, 1001, "Officer Ortiz", serial="CPD-1", group="responders", actor="test"
    )
    store.cards.add(
        "H10301", 100, 1002, "Sgt. Hale", serial="CPD-2", group="responders", actor="test"
    )
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", group="staff", actor="test")
    store.cards.add(
        "H10301", 100, 1003, "Officer Becker", serial="CPD-3", group="responders", actor="test"
    )
    from appliance.core.model import Status

    store.cards.set_status(serial="CPD-3", status=Status.LOST, reason="lost", actor="test")


class EventWaiter:
    """Collects the controller's audit records; waits for one that matches, without sleeping."""

    def __init__(self) -> None:
        self.records: list[EventRecord] = []
        self._cond = threading.Condition()

    def __call__(self, rec: EventRecord) -> None:
        with self._cond:
            self.records.append(rec)
            self._cond.notify_all()

    def wait(
        self, match: Callable[[EventRecord], bool], timeout: float = 5.0, start: int = 0
    ) -> EventRecord:
        with self._cond:
            found: list[EventRecord] = []

            def ready() -> bool:
                found[:] = [r for r in self.records[start:] if match(r)]
                return bool(found)

            if not self._cond.wait_for(ready, timeout):
                raise AssertionError(
                    f"no matching event in {timeout}s; saw {[r.kind for r in self.records]}"
                )
            return found[0]

    def mark(self) -> int:
        with self._cond:
            return len(self.records)


def mock(controller: Controller) -> MockEdgeSource:
    """The controller's mock edge source (to play cards on)."""
    assert isinstance(controller.source, MockEdgeSource)
    return controller.source


def decision(kind: str, credential: str) -> Callable[[EventRecord], bool]:
    return lambda r: r.kind == kind and r.credential == credential


@contextmanager
def running_box(
    tmp_path: Path, *, seed_fn: Callable[[Store], None] = seed, source: Any = None, **config_kw: Any
) -> Iterator[tuple[Controller, EventWaiter, Config]]:
    """A controller on the mock back-end (or the given source), seeded, running in a thread."""
    config = load_config(write_config(tmp_path, **config_kw))
    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
        seed_fn(store)
    controller = Controller(config, source=source)
    waiter = EventWaiter()
    controller.audit.add_listener(waiter)
    thread = threading.Thread(target=controller.run, daemon=True)
    thread.start()
    assert controller.started.wait(10), "controller did not start"
    try:
        yield controller, waiter, config
    finally:
        controller.stop()
        thread.join(10)
        assert not thread.is_alive()


def start_cli(
    argv: list[str], ready: str, *, env: dict[str, str] | None = None, stdout: int | None = None
) -> tuple[subprocess.Popen[str], threading.Event]:
    """``python -m appliance.cli ARGV`` as its own process, and an event set once a line of its
    standard error holds ``ready``. ``env`` and ``stdout`` go to ``subprocess.Popen``.
    """
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", *argv],
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:  # keep reading: a full pipe would stall the process
            if ready in line:
                seen.set()

    threading.Thread(target=watch, daemon=True).start()
    return proc, seen


def start_controller_process(config: Path, pigpiod: Any = None) -> subprocess.Popen[str]:
    """``doorward run`` as its own process (on the emulator ``pigpiod`` if given), once it is ready.

    Readiness is read from the controller's own log line, not guessed with a sleep.
    """
    env = dict(os.environ)
    if pigpiod is not None:
        env.update(PIGPIO_ADDR=pigpiod.host, PIGPIO_PORT=str(pigpiod.port))
    proc, ready = start_cli(["--config", str(config), "run"], "running on the", env=env)
    if not ready.wait(120):
        proc.kill()
        raise AssertionError("the controller process did not start")
    return proc
