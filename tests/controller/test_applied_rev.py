"""status's view_revision means the door uses all of that revision: cards, mode and settings.

The refresher hands the mode and the settings to the loop thread after the cards; the revision
it reports is set on the loop thread after them, so a client that waited for it (the CLI, the
admin page) may say the door has the change.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.control import Control
from appliance.controller.refresh import ViewRefresher
from appliance.core.model import Mode
from appliance.store import Store
from appliance.testing.box import running_box


def test_the_revision_is_handed_on_after_the_mode_and_the_settings(tmp_path: Path) -> None:
    seen: list[tuple[str, Any]] = []
    with Store(tmp_path / "doorward.db") as store:
        store.init("Front entrance")
        refresher = ViewRefresher(
            store,
            on_mode=lambda mode, _reason: seen.append(("mode", mode)),
            on_health=lambda *_: None,
            on_settings=lambda s: seen.append(("settings", s)),
            on_applied=lambda rev, _handed_over: seen.append(("applied", rev)),
        )
        refresher.load()
        assert seen == [("settings", {}), ("applied", store.current_rev())]
        seen.clear()
        store.door.set_mode(Mode.LOCKDOWN, reason="drill", actor="t")
        store.door.set_setting("unlock_seconds", 2.5, actor="t")
        refresher.load()
        rev = store.current_rev()
        assert seen == [
            ("mode", Mode.LOCKDOWN),
            ("settings", {"unlock_seconds": 2.5}),
            ("applied", rev),
        ]


def test_a_waited_for_revision_is_in_use_at_the_door(tmp_path: Path) -> None:
    with running_box(tmp_path) as (c, _events, config):
        door = Control(config.data_dir)
        assert door.status()["view_revision"] == c.refresher.view.rev
        with Store(config.db_path) as store:
            store.door.set_setting("unlock_seconds", 2.5, actor="t")
            store.door.set_mode(Mode.LOCKDOWN, reason="drill", actor="t")
            rev = store.current_rev()
        assert door.refresh(wait_for_rev=rev) is True
        # no waiting here: the revision was reported only once all of it was applied
        assert c.call(lambda: c.door.settings.unlock_seconds) == 2.5
        assert door.status()["mode"] == "lockdown"


def test_only_a_refresh_that_hands_over_the_mode_or_settings_says_so(tmp_path: Path) -> None:
    seen: list[bool] = []
    with Store(tmp_path / "doorward.db") as store:
        store.init("Front entrance")
        refresher = ViewRefresher(
            store,
            on_mode=lambda *_: None,
            on_health=lambda *_: None,
            on_settings=lambda _s: None,
            on_applied=lambda _rev, handed_over: seen.append(handed_over),
        )
        refresher.load()
        store.cards.add("H10301", 1, 1, "Ann Lee", actor="t")
        refresher.load()
        store.door.set_mode(Mode.LOCKDOWN, reason="drill", actor="t")
        refresher.load()
        store.door.set_setting("unlock_seconds", 2.5, actor="t")
        refresher.load()
    assert seen == [True, False, True, True]  # the first load hands over the settings


def test_a_cards_only_change_wakes_no_loop_and_is_reported_at_once(tmp_path: Path) -> None:
    # A post wakes the loop thread; woken in the middle of a frame during a big import, the
    # pigpio source could judge a frame's gap too soon. Cards are in use once the view swaps.
    with running_box(tmp_path) as (c, _events, config):
        posted: list[object] = []
        real_post = c.post

        def post(fn: Callable[[], None]) -> None:
            posted.append(fn)
            real_post(fn)

        c.post = post  # type: ignore[method-assign]
        with Store(config.db_path) as store:
            store.cards.add("H10301", 1, 77, "Ann Lee", actor="t")
            rev = store.current_rev()
        assert Control(config.data_dir).refresh(wait_for_rev=rev) is True
        assert c.applied_rev >= rev and posted == []
