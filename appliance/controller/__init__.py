"""The door controller: the daemon behind ``doorward run``."""

from appliance.controller.daemon import Controller, ControllerError

__all__ = ["Controller", "ControllerError"]
