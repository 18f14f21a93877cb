"""Door settings changed on the admin page reach the running controller, checked again."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from appliance.controller import Controller
from appliance.door import DoorSettings, SettingError, check_setting, settings_with
from appliance.store import Store
from appliance.testing.box import decision, mock, running_box
from appliance.wiegand.formats import encode

RESPONDER = encode("H10301", 1001, 100)
REX = """
[rex]
pin = 27
"""


def changed(c: Controller, db: Path, key: str, value: object) -> None:
    """Store a setting from another connection and wait until the controller has seen it."""
    seen = c.refresher.refreshes
    with Store(db) as other:
        other.door.set_setting(key, value, actor="web:admin")
    assert c.refresher.wait_refresh(seen, timeout=1.0)


def unlocked_for(c: Controller) -> float:
    """How long the door stays unlocked from now (on the loop thread, after queued work)."""
    until = c.call(lambda: c.door.unlocked_until)
    assert until is not None
    return float(until - time.monotonic())


def test_a_changed_unlock_time_applies_to_the_next_grant(tmp_path: Path) -> None:
    with running_box(tmp_path, unlock=0.2) as (c, events, config):
        assert c.call(lambda: c.door.settings.unlock_seconds) == 0.2
        changed(c, config.db_path, "unlock_seconds", 42.5)
        mock(c).play(RESPONDER, realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        assert 40.0 < unlocked_for(c) <= 42.5
        assert c.door.settings.held_open_seconds == 30.0  # not stored: the config's


def test_rex_shunt_mode_applied(tmp_path: Path) -> None:
    with running_box(tmp_path, unlock=30.0, extra=REX) as (c, events, config):
        assert c.call(lambda: c.door.settings.rex_unlocks) is True
        changed(c, config.db_path, "rex_mode", "shunt")
        assert c.call(lambda: c.door.settings.rex_unlocks) is False
        c.factory.pin(27).drive_low()  # REX pressed
        rec = events.wait(lambda r: r.kind == "rex")
        assert rec.reason == "request to exit: alarm shunted"
        assert c.call(lambda: (c.door.locked, c.door.unlocked_until)) == (True, None)


def test_a_corrupt_stored_setting_is_logged_and_the_previous_value_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_box(tmp_path, unlock=0.2) as (c, events, config):
        changed(c, config.db_path, "unlock_seconds", 9.0)
        assert c.call(lambda: c.door.settings.unlock_seconds) == 9.0
        with caplog.at_level(logging.ERROR, logger="appliance.controller.daemon"):
            changed(c, config.db_path, "unlock_seconds", "forever")
            changed(c, config.db_path, "held_open_seconds", -1)
            settings = c.call(lambda: c.door.settings)
        assert (settings.unlock_seconds, settings.held_open_seconds) == (9.0, 30.0)
        messages = [r.getMessage() for r in caplog.records]
        assert any("unlock_seconds must be a number" in m for m in messages), messages
        assert any("held_open_seconds must be from 1 to 86400" in m for m in messages), messages
        mock(c).play(RESPONDER, realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        assert 8.0 < unlocked_for(c) <= 9.0  # the door still works, with the last good value


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("unlock_seconds", 0.05, "from 0.1 to 3600"),
        ("unlock_seconds", 3600.5, "from 0.1 to 3600"),
        ("unlock_seconds", True, "a number of seconds"),
        ("unlock_seconds", float("nan"), "from 0.1 to 3600"),
        ("held_open_seconds", 0.5, "from 1 to 86400"),
        ("held_open_seconds", "30", "a number of seconds"),
        ("rex_mode", "open", "one of unlock, shunt"),
        ("rex_mode", 1, "one of unlock, shunt"),
        ("lock_type", "fail_safe", "not a door setting"),
    ],
)
def test_check_setting_refuses(key: str, value: object, message: str) -> None:
    with pytest.raises(SettingError, match=message):
        check_setting(key, value)


def test_settings_with_defaults_stored_and_bad() -> None:
    defaults = DoorSettings(unlock_seconds=5.0, fail_safe=True)
    current = DoorSettings(unlock_seconds=7.0, held_open_seconds=60.0, fail_safe=True)
    new, problems = settings_with(
        current, defaults, {"unlock_seconds": "x", "rex_mode": "shunt", "chime": True}
    )
    assert new == DoorSettings(
        unlock_seconds=7.0, held_open_seconds=30.0, rex_unlocks=False, fail_safe=True
    )
    assert len(problems) == 1 and "unlock_seconds" in problems[0]
    assert check_setting("unlock_seconds", 3) == 3.0
