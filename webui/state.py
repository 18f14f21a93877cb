"""What every view needs, handed in by the app factory: the store, the door's channel, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask import current_app, g, has_request_context

from appliance.config import Config
from appliance.controller import control
from appliance.store import Store
from webui.ratelimit import RateLimiter

EXTENSION = "doorward"
CONTROL_TIMEOUT = 2.0  # a page waits at most this long for the controller


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

    @property
    def data_dir(self) -> Path:
        """The box's data directory."""
        return self.config.data_dir

    def control(self, cmd: str, *, timeout: float = CONTROL_TIMEOUT, **args: Any) -> dict[str, Any]:
        """One request to the running controller; raises control.ControlError.

        ``status`` is asked once per page: the view and the page's banner share the answer.
        """
        if cmd != "status" or args or not has_request_context():
            return control.request(self.data_dir, cmd, timeout=timeout, **args)
        found: dict[str, Any] | str | None = g.get("doorward_status")
        if found is None:
            try:
                found = control.request(self.data_dir, cmd, timeout=timeout)
            except control.ControlError as exc:
                found = str(exc)
            g.doorward_status = found
        if isinstance(found, str):
            raise control.ControlError(found)
        return found

    def refresh(self) -> bool:
        """Wake the controller after a change (best effort); whether it was reached."""
        try:
            self.control("refresh")
        except control.ControlError:
            return False
        return True

    def admin_exists(self) -> bool:
        """Whether the first admin has been created."""
        if not self.has_admin:
            self.has_admin = self.store.users.count() > 0
        return self.has_admin


def state() -> WebState:
    """The current app's WebState."""
    found: WebState = current_app.extensions[EXTENSION]
    return found
