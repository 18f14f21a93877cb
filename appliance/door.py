"""The door: strike relay, reader LED and beeper, door position switch, REX, alarms and modes.

A state machine with time as a parameter (monotonic seconds). It drives outputs through anything
with ``on()``/``off()`` (``appliance.hw.io`` builds them), so tests use gpiozero's mock pins.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol

from appliance.core.model import Mode
from appliance.core.settings import EDITABLE_SETTINGS
from appliance.core.settings import SettingError as SettingError
from appliance.core.settings import check_setting as check_setting

LOG = logging.getLogger(__name__)
BEEP_SECONDS = 0.4


class Switch(Protocol):
    """An output: a relay, an LED or a beeper."""

    def on(self) -> None: ...
    def off(self) -> None: ...


@dataclass(frozen=True, slots=True)
class DoorSettings:
    """How this door behaves (from the config's [door] and [rex] sections)."""

    unlock_seconds: float = 5.0
    held_open_seconds: float = 30.0
    fail_safe: bool = False  # a maglock: locked while the relay is energised
    rex_unlocks: bool = True  # False: REX only shunts the forced-open alarm
    dps_debounce_seconds: float = 0.1
    forced_open_grace_seconds: float = 1.0


def settings_with(
    current: DoorSettings, defaults: DoorSettings, stored: Mapping[str, Any]
) -> tuple[DoorSettings, list[str]]:
    """``defaults`` with each valid stored setting applied, and a problem for each bad one.

    A setting with no stored value (or null) takes its default (the config file's); a bad stored
    value keeps the one in ``current``, so a corrupt row never changes how the door behaves.
    """
    problems: list[str] = []
    changes: dict[str, Any] = {}
    for key in EDITABLE_SETTINGS:
        field = "rex_unlocks" if key == "rex_mode" else key
        if stored.get(key) is None:  # never set, or set back to the config file's value
            changes[field] = getattr(defaults, field)
            continue
        try:
            value = check_setting(key, stored[key])
        except SettingError as exc:
            problems.append(f"stored door setting ignored: {exc}")
            changes[field] = getattr(current, field)
            continue
        changes[field] = value == "unlock" if key == "rex_mode" else value
    return replace(defaults, **changes), problems


Emit = Callable[[str, str], None]


class Door:
    """One door. Call the input methods as things happen and ``poll`` at ``next_deadline``."""

    def __init__(
        self,
        settings: DoorSettings,
        strike: Switch,
        *,
        led: Switch | None = None,
        beeper: Switch | None = None,
        emit: Emit | None = None,
        has_dps: bool = False,
    ) -> None:
        self.settings = settings
        self._strike = strike
        self._led = led
        self._beeper = beeper
        self._emit = emit or (lambda kind, detail: None)
        self.mode = Mode.NORMAL
        self.locked = True
        self._drive_strike(locked=True)  # before anything else, even if the pin was built locked
        self.unlocked_until: float | None = None
        self.shunt_until = 0.0
        self.is_open: bool | None = False if has_dps else None
        self._raw_open: bool | None = self.is_open
        self._raw_since = 0.0
        self.opened_at: float | None = None
        self.alarms: set[str] = set()
        self._beep_until: float | None = None

    # -- inputs ----------------------------------------------------------------------------
    def grant(self, now: float) -> None:
        """A credential was granted: unlock for ``unlock_seconds`` and show green."""
        self.unlocked_until = now + self.settings.unlock_seconds
        self.shunt_until = self.unlocked_until + self.settings.forced_open_grace_seconds
        self._apply(now)
        if self._led is not None:
            self._led.on()

    def deny(self, now: float) -> None:
        """A credential was denied: a short beep."""
        if self._beeper is not None:
            self._beeper.on()
            self._beep_until = now + BEEP_SECONDS

    def rex(self, now: float) -> None:
        """Request to exit: unlock (or only shunt the forced alarm), never in lockdown."""
        self.shunt_until = (
            now + self.settings.unlock_seconds + self.settings.forced_open_grace_seconds
        )
        unlocks = self.settings.rex_unlocks and self.mode != Mode.LOCKDOWN
        self._emit("rex", "request to exit: " + ("unlocked" if unlocks else "alarm shunted"))
        if unlocks:
            self.unlocked_until = now + self.settings.unlock_seconds
            self._apply(now)

    def dps_changed(self, is_open: bool, now: float) -> None:
        """The door position switch changed (raw, before debouncing)."""
        if is_open != self._raw_open:
            self._raw_open = is_open
            self._raw_since = now
        self.poll(now)

    def initial_dps(self, is_open: bool, now: float) -> None:
        """The door switch as found at start: no alarm for a door already open, but it is timed."""
        self.is_open = self._raw_open = is_open
        self._raw_since = now
        self.opened_at = now if is_open else None

    def set_mode(self, mode: Mode, now: float) -> None:
        """Normal, lockdown (ends any unlock at once) or held unlocked."""
        if mode == self.mode:
            return
        self.mode = mode
        if mode == Mode.LOCKDOWN:
            self.unlocked_until = None
        self._apply(now)

    def poll(self, now: float) -> None:
        """Act on time passing: relock, debounce the door switch, alarms, beeper off."""
        debounced = self._raw_since + self.settings.dps_debounce_seconds
        if self._raw_open is not None and self._raw_open != self.is_open and now >= debounced:
            self._door_moved(self._raw_open, now)
        if self.unlocked_until is not None and now >= self.unlocked_until:
            self.unlocked_until = None
        self._apply(now)
        held_for = self.settings.held_open_seconds
        held = self.opened_at is not None and now >= self.opened_at + held_for
        if held and "held_open" not in self.alarms and self.mode != Mode.HELD_UNLOCKED:
            self._alarm("held_open", f"door held open more than {held_for:g} s")
        if self._beep_until is not None and now >= self._beep_until:
            self._beep_until = None
            if self._beeper is not None:
                self._beeper.off()

    def next_deadline(self) -> float | None:
        """The next time ``poll`` has something to do, or None."""
        times = [t for t in (self.unlocked_until, self._beep_until) if t is not None]
        if self._raw_open is not None and self._raw_open != self.is_open:
            times.append(self._raw_since + self.settings.dps_debounce_seconds)
        if self.opened_at is not None and "held_open" not in self.alarms:
            times.append(self.opened_at + self.settings.held_open_seconds)
        return min(times) if times else None

    def stop(self) -> None:
        """Leave the door locked (a maglock stays energised while the pin holds its level)."""
        self.unlocked_until = None
        self.mode = Mode.NORMAL
        self._drive_strike(locked=True)
        self.locked = True

    def status(self) -> dict[str, object]:
        """The door now, as plain data."""
        return {
            "locked": self.locked,
            "open": self.is_open,
            "mode": self.mode.value,
            "alarms": sorted(self.alarms),
        }

    # -- internals -------------------------------------------------------------------------
    def _door_moved(self, is_open: bool, now: float) -> None:
        self.is_open = is_open
        if is_open:
            self.opened_at = self._raw_since  # when it really opened, not when debouncing agreed
            legit = not self.locked or now < self.shunt_until or self.mode == Mode.HELD_UNLOCKED
            self._emit("door_open", "door opened" if legit else "door opened without a grant")
            if not legit:
                self._alarm("forced_open", "door forced open: opened with no grant and no REX")
            return
        self.opened_at = None
        self._emit("door_closed", "door closed")
        for alarm in sorted(self.alarms):
            self._emit("alarm_cleared", f"{alarm} cleared: door closed")
        self.alarms.clear()
        if self.unlocked_until is not None:  # relock as soon as the door closes after opening
            self.unlocked_until = None
            self.shunt_until = now  # that passage is over: opening it again needs a new grant
            self._apply(now)

    def _alarm(self, name: str, detail: str) -> None:
        self.alarms.add(name)
        LOG.warning("alarm: %s", detail)
        self._emit("alarm", detail)

    def _apply(self, now: float) -> None:
        unlocked = self.mode == Mode.HELD_UNLOCKED or (
            self.unlocked_until is not None and now < self.unlocked_until
        )
        if unlocked == (not self.locked):
            return
        self._drive_strike(locked=not unlocked)
        self.locked = not unlocked
        if self._led is not None and not unlocked:
            self._led.off()
        self._emit(
            "unlocked" if unlocked else "locked", "strike " + ("released" if unlocked else "locked")
        )

    def _drive_strike(self, *, locked: bool) -> None:
        # fail-secure strike: energised = unlocked; fail-safe maglock: energised = locked
        energise = locked if self.settings.fail_safe else not locked
        if energise:
            self._strike.on()
        else:
            self._strike.off()
