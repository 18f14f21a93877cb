"""The door controller: the daemon behind ``doorward run`` (others use ``appliance.control``)."""

from __future__ import annotations

from appliance.controller.daemon import Controller, ControllerError

__all__ = ["Controller", "ControllerError"]
