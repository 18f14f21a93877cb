"""The controller's local control channel: its protocol, and the one client other processes use.

The controller (``doorward run``) serves a Unix socket in its data directory (the server is in
``appliance.controller.control``); the CLI, the admin page, the fleet agent and the benchmarks
reach the running door only through :class:`Control`:

- ``status()``: the controller now (mode, alarms, reader health, ``view_revision``, ...);
- ``refresh(wait_for_rev=...)``: wake the view refresher after a database change, and optionally
  wait until the controller's view has caught up with the store's change counter;
- ``unlock(reason, actor=...)``: a momentary unlock, recorded with who and why;
- ``swipe(bits, ...)``: play a card on the mock back-end's reader.

The wire form: one JSON object per line each way, a request ``{"cmd": NAME, ...}`` of at most
``MAX_REQUEST`` bytes, a reply ``{"ok": true, ...}`` or ``{"ok": false, "error": WHY}``. Every
timeout the box's processes use for it is named here.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

SOCKET_NAME = "control.sock"  # in the data directory
MAX_REQUEST = 64 * 1024  # bytes in one request line, its newline excluded
MAX_REPLY = 1024 * 1024  # bytes in one reply line: a status is a few kB
MAX_TEXT = 200  # characters in an unlock's reason or actor

# -- timeouts (seconds): the only place they are chosen ----------------------------------------
REPLY_TIMEOUT = 5.0  # a command that acts, or a status a person asked for
PROBE_TIMEOUT = 1.0  # is a controller running? (the CLI's and the agent's quick looks)
WAKE_TIMEOUT = 0.5  # the fleet agent wakes the refresher after applying a list
PAGE_TIMEOUT = 2.0  # an admin page waits at most this long for one reply
BANNER_TIMEOUT = 0.5  # every page's banner asks for the status (it answers in ms)
CLI_APPLY_TIMEOUT = 3.0  # the CLI waits this long for the door to have a change (by design < 1 s)
PAGE_APPLY_TIMEOUT = 1.5  # the admin page waits this long for the door to have a change
POLL_INTERVAL = 0.02  # between status requests while waiting (the refresher applies in ms)
MIN_REQUEST_TIMEOUT = 0.05  # the last request of a wait still gets this long


class Command(StrEnum):
    """The requests the controller answers."""

    STATUS = "status"
    REFRESH = "refresh"
    UNLOCK = "unlock"
    SWIPE = "swipe"


class ControlError(RuntimeError):
    """The controller could not be reached, or refused the request; the message says why."""


NOT_RUNNING = "no controller is running"  # how every "nothing listens" message begins


def encode_request(cmd: str, args: dict[str, Any]) -> bytes:
    """One request line; raises ControlError if it is larger than the server reads."""
    line = json.dumps({"cmd": cmd, **args}).encode()
    if len(line) > MAX_REQUEST:
        raise ControlError(f"request too large ({len(line)} bytes, at most {MAX_REQUEST})")
    return line + b"\n"


def decode_request(line: bytes) -> dict[str, Any]:
    """A request line as the server reads it; raises ValueError saying what is wrong."""
    if len(line.rstrip(b"\n")) > MAX_REQUEST:
        raise ValueError("request too large")
    request = json.loads(line)
    if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
        raise ValueError('a request is a JSON object with a "cmd" string')
    return request


def encode_reply(reply: dict[str, Any]) -> bytes:
    """One reply line (values JSON does not know are sent as their text)."""
    return json.dumps(reply, default=str).encode() + b"\n"


def decode_reply(data: bytes) -> dict[str, Any]:
    """A reply line as the client reads it: the reply if ``ok``, else ControlError with its why."""
    try:
        reply = json.loads(data)
    except ValueError:
        raise ControlError("the controller sent an unreadable reply") from None
    if not isinstance(reply, dict):
        raise ControlError("the controller sent an unreadable reply")
    if reply.get("ok") is not True:
        raise ControlError(str(reply.get("error", "request refused")))
    return reply


def exchange(path: Path, line: bytes, timeout: float) -> bytes:
    """Send ``line`` to the socket at ``path`` and read the reply: up to its newline, or the end.

    Raises OSError when the socket cannot be reached, ControlError for a reply over MAX_REPLY.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        sock.sendall(line)
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_REPLY + 1:
                raise ControlError(f"the controller's reply is larger than {MAX_REPLY} bytes")
    return data


class Control:
    """The running controller for ``data_dir``, as seen by any other process on the box.

    ``timeout`` bounds each request; ``clock`` and ``sleep`` pace ``refresh(wait_for_rev=...)``
    (tests hand in a fake pair). Every method raises ControlError when the controller cannot be
    reached or refuses.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        timeout: float = REPLY_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.data_dir = data_dir
        self.timeout = timeout
        self._clock = clock
        self._sleep = sleep

    @property
    def path(self) -> Path:
        """The socket's path."""
        return self.data_dir / SOCKET_NAME

    def request(self, cmd: str, *, timeout: float | None = None, **args: Any) -> dict[str, Any]:
        """Send one request and return the controller's reply (for commands with no method)."""
        line = encode_request(cmd, args)
        try:
            data = exchange(self.path, line, self.timeout if timeout is None else timeout)
        except (FileNotFoundError, ConnectionRefusedError):
            raise ControlError(
                f"{NOT_RUNNING} for {self.data_dir} (start it with 'doorward run')"
            ) from None
        except OSError as exc:
            raise ControlError(f"cannot talk to the controller at {self.path}: {exc}") from None
        return decode_reply(data)

    def status(self, *, timeout: float | None = None) -> dict[str, Any]:
        """The controller's status (a JSON object; see ``CommandHandler.status`` for its keys)."""
        status = self.request(Command.STATUS, timeout=timeout).get("status")
        if not isinstance(status, dict):
            raise ControlError("the controller sent a status that is not a JSON object")
        return status

    def running(self) -> bool:
        """Whether a controller answers a status request within ``PROBE_TIMEOUT``."""
        try:
            self.status(timeout=min(self.timeout, PROBE_TIMEOUT))
        except ControlError:
            return False
        return True

    def refresh(
        self, wait_for_rev: int | None = None, *, timeout: float = CLI_APPLY_TIMEOUT
    ) -> bool:
        """Wake the view refresher; with ``wait_for_rev``, wait until the view has that revision.

        Returns True once the controller's ``view_revision`` is at least ``wait_for_rev`` (at
        once without it), False if it is not within ``timeout`` seconds. Raises ControlError if
        the controller cannot be reached (or stops answering while waited on).
        """
        deadline = self.deadline(timeout)
        self.request(Command.REFRESH, timeout=self._bounded(timeout))
        if wait_for_rev is None:
            return True
        rev = wait_for_rev
        return self.wait(lambda status: _whole(status.get("view_revision")) >= rev, deadline)

    def wait(self, until: Callable[[dict[str, Any]], bool], deadline: float) -> bool:
        """Ask for the status until ``until(status)`` holds (True) or ``deadline`` passes (False).

        ``deadline`` is on this client's clock (``clock() + seconds``); raises ControlError if the
        controller cannot be reached.
        """
        while True:
            status = self.status(timeout=self._bounded(deadline - self._clock()))
            if until(status):
                return True
            if self._clock() >= deadline:
                return False
            self._sleep(POLL_INTERVAL)

    def deadline(self, seconds: float) -> float:
        """``seconds`` from now on this client's clock (for ``wait``)."""
        return self._clock() + seconds

    def unlock(self, reason: str, *, actor: str) -> None:
        """Unlock the door once (its unlock time), recorded with ``actor`` and ``reason``."""
        self.request(Command.UNLOCK, actor=actor, reason=reason)

    def swipe(self, bits: str, *, interval_us: int = 2000, pulse_us: int = 50) -> None:
        """Play ``bits`` (a Wiegand frame of 0s and 1s) on the mock back-end's reader."""
        self.request(Command.SWIPE, bits=bits, interval_us=interval_us, pulse_us=pulse_us)

    def _bounded(self, remaining: float) -> float:
        return max(MIN_REQUEST_TIMEOUT, min(self.timeout, remaining))


def _whole(value: object) -> int:
    """A revision from a status: a whole number, or -1 for anything else."""
    return value if isinstance(value, int) and not isinstance(value, bool) else -1
