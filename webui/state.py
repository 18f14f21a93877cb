"""What every view needs, handed in by the app factory: the store, the door's channel, the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from flask import current_app

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
    dummy_hash: str = field(default="", repr=False)

    @property
    def data_dir(self) -> Path:
        """The box's data directory."""
        return self.config.data_dir

    def control(self, cmd: str, **args: Any) -> dict[str, Any]:
        """One request to the running controller; raises control.ControlError."""
        return control.request(self.data_dir, cmd, timeout=CONTROL_TIMEOUT, **args)

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
            self.has_admin = self.store.count_admin_users() > 0
        return self.has_admin


def state() -> WebState:
    """The current app's WebState."""
    found: WebState = current_app.extensions[EXTENSION]
    return found
