"""Requests on the control socket: checked, then carried out on the controller's loop thread."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from appliance import __version__
from appliance.control import MAX_TEXT, Command

if TYPE_CHECKING:
    from appliance.controller.daemon import Controller

MAX_REASON = MAX_TEXT


def _text(request: dict[str, Any], key: str, default: str | None = None) -> str:
    value = request.get(key, default)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_REASON:
        raise ValueError(f"{key!r} must be a non-empty string of at most {MAX_REASON} characters")
    return value.strip()


def _int(request: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = request.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ValueError(f"{key!r} must be a whole number from {low} to {high}")
    return value


class CommandHandler:
    """Answers ``status``, ``refresh``, ``unlock`` and (mock back-end) ``swipe``."""

    def __init__(self, controller: Controller) -> None:
        self.c = controller

    def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        """Check and carry out one request; raise ValueError for a bad one."""
        cmd = request["cmd"]
        if cmd == Command.STATUS:
            return {"ok": True, "status": self.c.call(self.status)}
        if cmd == Command.REFRESH:
            self.c.refresher.wake()
            return {"ok": True}
        if cmd == Command.UNLOCK:
            actor = _text(request, "actor")
            reason = _text(request, "reason")
            self.c.call(lambda: self._unlock(actor, reason))
            return {"ok": True}
        if cmd == Command.SWIPE:
            return self._swipe(request)
        raise ValueError(f"unknown command {cmd!r}")

    def status(self) -> dict[str, Any]:
        """The controller now (called on the loop thread)."""
        c = self.c
        view = c.refresher.view
        return {
            "version": __version__,
            "door": c.config.door.name,
            "backend": c.config.gpio.backend,
            **c.door.status(),
            "degraded": c.degraded,
            "clock_synchronised": c.clock_synced,
            "credentials_loaded": len(view.cards),
            "view_revision": c.applied_rev,  # all of it in use: cards, groups, mode, settings
            "reader": c.reader.health.as_dict(),
            "latency_us": c.reads.stats.summary(),
            "last_unknown_card": c.reads.last_unknown,
            "audit_failures": c.audit.failures,
            "uptime_s": round(time.monotonic() - c.started_at, 1),
        }

    def _unlock(self, actor: str, reason: str) -> None:
        self.c.audit.record("unlock", reason=reason, actor=actor)
        self.c.door.grant(time.monotonic())

    def _swipe(self, request: dict[str, Any]) -> dict[str, Any]:
        from appliance.hw.mock_backend import MockEdgeSource

        if not isinstance(self.c.source, MockEdgeSource):
            raise ValueError('swipe works only with the mock back-end ([gpio] backend = "mock")')
        bits = request.get("bits")
        if not isinstance(bits, str) or not bits or len(bits) > 128 or set(bits) - {"0", "1"}:
            raise ValueError("'bits' must be 1 to 128 characters of 0 and 1")
        interval = _int(request, "interval_us", 2000, 200, 20_000)
        pulse = _int(request, "pulse_us", 50, 20, 100)
        self.c.source.play(bits, interval_us=interval, pulse_us=pulse, realtime=True)
        return {"ok": True}
