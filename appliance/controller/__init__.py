"""The door controller: the daemon behind ``doorward run``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from appliance.controller.daemon import Controller, ControllerError

__all__ = ["Controller", "ControllerError"]


def __getattr__(name: str) -> Any:
    # The CLI imports the control socket client from this package on every command; the daemon
    # (and everything it pulls in) is imported only by the commands that run a controller.
    if name in __all__:
        from appliance.controller import daemon

        return getattr(daemon, name)
    raise AttributeError(name)
