"""The door's inputs (door switch, REX, lockdown button), wired to the controller's loop thread."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from appliance.config import Config, InputSection
from appliance.door import Door
from appliance.hw import io


def asserted(section: InputSection, is_active: bool) -> bool:
    """Whether the input is asserted (door open, button pressed), from gpiozero's is_active."""
    # gpiozero calls a pulled-up input active when low, a pulled-down one when high
    low = is_active if section.pull_up else not is_active
    return low if section.active_low else not low


class DoorInputs:
    """Watches the configured inputs; every change is acted on through ``post`` (the loop)."""

    def __init__(
        self,
        config: Config,
        factory: Any,
        door: Door,
        post: Callable[[Callable[[], None]], None],
        lockdown_button: Callable[[bool], None],
    ) -> None:
        self._config = config
        self._factory = factory
        self._door = door
        self._post = post
        self._lockdown_button = lockdown_button
        self._pins: list[io.InputPin] = []

    def start(self) -> None:
        """Set the inputs up; the door switch's state at start is read, not taken as a change."""
        c = self._config
        if c.dps is not None:
            dps = self._watch(
                c.dps, lambda is_open: self._door.dps_changed(is_open, time.monotonic())
            )
            self._door.initial_dps(asserted(c.dps, dps.is_active), time.monotonic())
        if c.rex is not None:
            self._watch(c.rex, self._rex)
        if c.lockdown_button is not None:
            self._watch(c.lockdown_button, self._lockdown_button)

    def close(self) -> None:
        """Release the input pins."""
        for pin in self._pins:
            pin.close()

    def _rex(self, pressed: bool) -> None:
        if pressed:
            self._door.rex(time.monotonic())

    def _watch(self, section: InputSection, act: Callable[[bool], None]) -> io.InputPin:
        def changed(is_active: bool) -> None:
            state = asserted(section, is_active)
            self._post(lambda: act(state))

        pin = io.input_pin(self._factory, section.pin, pull_up=section.pull_up, on_change=changed)
        self._pins.append(pin)
        return pin
