"""systemd's notify protocol: one datagram per message to ``$NOTIFY_SOCKET``, no binding needed.

``READY=1`` once the door is running (``Type=notify``), ``WATCHDOG=1`` from the loop thread at
half of ``$WATCHDOG_USEC`` (a hung loop stops pinging and systemd restarts the controller),
``STATUS=`` for ``systemctl status``. Without ``$NOTIFY_SOCKET`` every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

LOG = logging.getLogger(__name__)


def _address(text: str) -> str | None:
    if text.startswith("@"):  # an abstract socket: its name begins with a NUL byte
        return "\0" + text[1:]
    if text.startswith("/"):
        return text
    return None  # e.g. vsock: not for a box


def _watchdog_interval(env: Mapping[str, str]) -> float | None:
    """Seconds between pings (half the watchdog's timeout), or None if it is not for us."""
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    pid = env.get("WATCHDOG_PID")
    if usec <= 0 or (pid is not None and pid.strip() != str(os.getpid())):
        return None
    return usec / 1_000_000 / 2


class Notifier:
    """Sends notifications to systemd (or nothing, when not started by it)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self._target = _address(env.get("NOTIFY_SOCKET", ""))
        self.watchdog_interval = _watchdog_interval(env) if self._target else None
        self._next_ping = 0.0
        self._sock: socket.socket | None = None
        if self._target is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.setblocking(False)  # the loop thread must never wait on systemd

    @property
    def enabled(self) -> bool:
        """Whether systemd is listening."""
        return self._sock is not None

    def send(self, *fields: str) -> bool:
        """One message of ``KEY=value`` fields; False if it could not be sent."""
        if self._sock is None or self._target is None:
            return False
        try:
            self._sock.sendto("\n".join(fields).encode(), self._target)
        except OSError as exc:  # a full queue or a vanished socket: never the door's problem
            LOG.debug("sd_notify %s: %s", fields, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        """The service is up."""
        return self.send("READY=1", f"STATUS={status}")

    def status(self, status: str) -> bool:
        """A line for ``systemctl status``."""
        return self.send(f"STATUS={status}")

    def stopping(self) -> bool:
        """The service is shutting down."""
        return self.send("STOPPING=1")

    def watchdog(self, now: float) -> bool:
        """Ping the watchdog if half its interval has passed since the last ping (monotonic s)."""
        if self.watchdog_interval is None or now < self._next_ping:
            return False
        self._next_ping = now + self.watchdog_interval
        return self.send("WATCHDOG=1")

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
