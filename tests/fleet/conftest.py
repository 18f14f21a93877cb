"""Fixtures for fleet tests: a real mosquitto, a district directory, boxes with their agents."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import main
from appliance.config import Config, load_config
from appliance.controller import Controller
from appliance.district.collector import collect_for
from appliance.district.console import District, init_district
from appliance.fleet.agent import Agent
from appliance.store import EventRecord, Store
from appliance.testing.box import (
    EventWaiter,
    mock,
    running_box,
    start_controller_process,
    write_config,
)
from appliance.testing.mosquitto import Mosquitto, running_mosquitto
from appliance.wiegand.formats import encode
from tests.cli.util import Cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs ``doorward`` in-process and captures what it printed."""
    return Cli(capsys)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with running_mosquitto(tmp_path / "broker") as b:
        yield b


@pytest.fixture
def district(tmp_path: Path, broker: Mosquitto) -> District:
    """A district made as ``fleet init`` makes it, with the console's broker session."""
    made = init_district(tmp_path / "district", "natrona", broker.url, snapshot_every=50)
    with made.store() as store:
        collect_for(made, store, 0.2)  # from now on the broker keeps what boxes send home
    return made


def fleet_toml(
    broker: Mosquitto, district: District, box_id: str, school: str, extra: str = ""
) -> str:
    public = (district.path / "district.pub").read_text().strip()
    return (
        f'[fleet]\nbroker = "{broker.url}"\ndistrict = "{district.name}"\nbox_id = "{box_id}"\n'
        f'school = "{school}"\ndistrict_public_key = "{public}"\n{extra}'
    )


def console(district: District, *argv: str) -> int:
    """``doorward fleet --district DIR ...`` in this process."""
    return main(["fleet", "--district", str(district.path), *argv])


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll ``check`` until it returns something true (real processes and a real broker)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def no_seed(store: Store) -> None:
    """A box with no cards of its own."""


def applied_version(config: Config) -> int:
    with Store(config.db_path) as store:
        return int(store.fleet.status().get("list_version") or 0)


@dataclass
class FleetBox:
    """A controller (in a thread) with its fleet agent (in another)."""

    controller: Controller
    waiter: EventWaiter
    config: Config
    agent: Agent

    def swipe(self, number: int, facility: int = 100) -> EventRecord:
        """Present a card and return the decision."""
        start = self.waiter.mark()
        mock(self.controller).play(encode("H10301", number, facility), realtime=False)
        return self.waiter.wait(lambda r: r.kind in ("granted", "denied"), start=start)

    def version(self) -> int:
        return self.agent.version


def settled(box: FleetBox, version: int) -> None:
    """The agent has applied ``version`` and the controller decides from it."""
    wait_for(lambda: box.version() >= version, what=f"list version {version}")
    with Store(box.config.db_path) as store:
        rev = store.current_rev()
    wait_for(lambda: box.controller.refresher.view.rev >= rev, what="the controller's view")


@contextmanager
def fleet_box(
    tmp_path: Path,
    broker: Mosquitto,
    district: District,
    box_id: str,
    school: str,
    *,
    seed_fn: Callable[[Store], None] = no_seed,
    extra: str = "",
) -> Iterator[FleetBox]:
    """A box in this process on the mock back-end, in the fleet."""
    extra = fleet_toml(broker, district, box_id, school, extra)
    (tmp_path / box_id).mkdir(parents=True, exist_ok=True)
    with running_box(tmp_path / box_id, seed_fn=seed_fn, extra=extra) as (c, waiter, config):
        agent = Agent(config)
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        try:
            yield FleetBox(c, waiter, config, agent)
        finally:
            agent.stop()
            thread.join(15)
            assert not thread.is_alive()


def box_config(
    tmp_path: Path, broker: Mosquitto, district: District, box_id: str, school: str
) -> Path:
    """An initialised box on disk (for box processes)."""
    (tmp_path / box_id).mkdir(parents=True, exist_ok=True)
    path = write_config(tmp_path / box_id, extra=fleet_toml(broker, district, box_id, school))
    with Store.for_data_dir(load_config(path).data_dir) as store:
        store.init("Front entrance")
    return path


def start_agent_process(config: Path) -> subprocess.Popen[str]:
    """``doorward fleet-agent`` as its own process."""
    return subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "--config", str(config), "fleet-agent"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


__all__ = ["start_controller_process"]
