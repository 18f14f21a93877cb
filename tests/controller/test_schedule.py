"""Held unlocked on the door's weekly schedule; lockdown and an unsynchronised clock override it."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, load_config
from appliance.core.model import Mode
from appliance.store import Store
from appliance.testing.box import running_box, write_config

ALL_WEEK = 'unlocked_schedule = [{days = "mon-sun", start = "00:00", end = "24:00"}]'


def test_held_unlocked_by_schedule_and_lockdown_overrides(tmp_path: Path) -> None:
    with running_box(tmp_path, door_extra=ALL_WEEK) as (c, events, config):
        events.wait(lambda r: r.kind == "schedule" and r.reason == "held unlocked by schedule")
        events.wait(lambda r: r.kind == "unlocked")
        assert not c.door.locked and c.door.mode == Mode.HELD_UNLOCKED
        seen = c.refresher.refreshes
        with Store(config.db_path) as other:
            other.door.set_mode(Mode.LOCKDOWN, reason="police request", actor="test")
        assert c.refresher.wait_refresh(seen, 1.0)
        events.wait(lambda r: r.kind == "locked")
        assert c.door.locked and c.door.mode == Mode.LOCKDOWN


def test_not_held_outside_the_window_or_on_an_unsynchronised_clock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("appliance.controller.daemon.clock_synchronised", lambda: False)
    with running_box(tmp_path, door_extra=ALL_WEEK) as (c, _events, _):
        c.call(lambda: None)  # one loop step has run: the clock was checked
        assert c.call(lambda: c.door.locked) and c.door.mode == Mode.NORMAL


def test_bad_schedule_is_a_config_error(tmp_path: Path) -> None:
    bad = 'unlocked_schedule = [{days = "someday", start = "07:00", end = "08:00"}]'
    path = write_config(tmp_path, door_extra=bad)
    with pytest.raises(ConfigError, match=r"door\.unlocked_schedule"):
        load_config(path)
