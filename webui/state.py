"""What every view needs, handed in by the app factory: the store, the door's channel, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask import current_app, g, has_request_context

from appliance.config import Config
from appliance.control import NOT_RUNNING, PAGE_APPLY_TIMEOUT, PAGE_TIMEOUT, Control, ControlError
from appliance.store import Store, StoreError
from webui.ratelimit import RateLimiter

EXTENSION = "doorward"


class Applied(Enum):
    """What a page can honestly say about a change it stored (``WebState.confirm``)."""

    AT_THE_DOOR = "at the door"  # the controller's view has the change
    NOT_CONFIRMED = "not confirmed"  # a controller answers, but did not have it within the bound
    NO_CONTROLLER = "no controller"  # none is running (or it cannot be reached): at its start

    @property
    def level(self) -> str:
        """The flash category: a change the door may not have is a warning."""
        return "warn" if self is Applied.NOT_CONFIRMED else "ok"

    @property
    def api(self) -> str:
        """The API's word for it: ``at_the_door``, ``not_confirmed`` or ``no_controller``."""
        return self.value.replace(" ", "_")

    def suffix(self) -> str:
        """For a sentence that is true once stored: nothing, or what the door does not have yet."""
        return "" if self is Applied.AT_THE_DOOR else f" ({self.note('')})"

    def note(self, at_the_door: str) -> str:
        """The end of a page's sentence: ``at_the_door`` when applied, else what is true."""
        if self is Applied.AT_THE_DOOR:
            return at_the_door
        if self is Applied.NO_CONTROLLER:
            return "no controller is running: applies at its start"
        return (
            f"stored, but the controller has not confirmed it within {PAGE_APPLY_TIMEOUT:g} s: "
            "see the dashboard"
        )


@dataclass
class WebState:
    """The app's collaborators (one per app, no module globals)."""

    config: Config
    store: Store
    hasher: PasswordHasher
    limiter: RateLimiter
    clock: Callable[[], float] = time.monotonic
    has_admin: bool = False  # cached once true: accounts are never deleted
    quiet_until: float = 0.0  # pages skip the controller's status until then (it timed out)
    dummy_hash: str = field(default="", repr=False)
    control: Control = field(init=False, repr=False)  # the running controller (tests swap it)

    def __post_init__(self) -> None:
        self.control = Control(self.config.data_dir, timeout=PAGE_TIMEOUT)

    @property
    def data_dir(self) -> Path:
        """The box's data directory."""
        return self.config.data_dir

    def status(self, *, timeout: float | None = None) -> dict[str, Any]:
        """The running controller's status; raises ControlError.

        Asked once per page: the view and the page's banner share the answer.
        """
        if not has_request_context():
            return self.control.status(timeout=timeout)
        found: dict[str, Any] | str | None = g.get("doorward_status")
        if found is None:
            try:
                found = self.control.status(timeout=timeout)
            except ControlError as exc:
                found = str(exc)
            g.doorward_status = found
        if isinstance(found, str):
            raise ControlError(found)
        return found

    def confirm(self) -> Applied:
        """After a change: wake the controller and wait (briefly) until its view has it.

        Waits until the controller's ``view_revision`` reaches the store's change counter as
        read now (after the caller's write), at most ``PAGE_APPLY_TIMEOUT`` seconds.
        """
        try:
            rev: int | None = self.store.current_rev()
        except StoreError:
            rev = None  # the change is stored; the door's view cannot be compared: only wake it
        try:
            applied = self.control.refresh(wait_for_rev=rev, timeout=PAGE_APPLY_TIMEOUT)
            if applied and rev is not None:
                return Applied.AT_THE_DOOR
        except ControlError as exc:
            if str(exc).startswith(NOT_RUNNING):
                return Applied.NO_CONTROLLER
        return Applied.NOT_CONFIRMED

    def admin_exists(self) -> bool:
        """Whether the first admin has been created."""
        if not self.has_admin:
            self.has_admin = self.store.users.count() > 0
        return self.has_admin


def state() -> WebState:
    """The current app's WebState."""
    found: WebState = current_app.extensions[EXTENSION]
    return found
