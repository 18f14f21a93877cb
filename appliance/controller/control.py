"""The controller's local control channel: a Unix socket in data_dir, one JSON request per line.

Other processes on the box (the CLI, the admin page) use it for what must act now or read live
state: ``status``, ``refresh`` (wake the view refresher after a database change), ``unlock``
(momentary) and, on the mock back-end, ``swipe``. Every request is checked before it is acted on.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG = logging.getLogger(__name__)
SOCKET_NAME = "control.sock"
MAX_REQUEST = 64 * 1024

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class ControlError(RuntimeError):
    """The controller could not be reached, or refused the request; the message says why."""


class _RequestHandler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        line = self.rfile.readline(MAX_REQUEST + 1)
        try:
            if len(line) > MAX_REQUEST:
                raise ValueError("request too large")
            request = json.loads(line)
            if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
                raise ValueError('a request is a JSON object with a "cmd" string')
            reply = self.server.handler(request)
        except ValueError as exc:
            reply = {"ok": False, "error": str(exc)}
        except Exception as exc:
            LOG.exception("control request failed")
            reply = {"ok": False, "error": f"internal error: {type(exc).__name__}"}
        self.wfile.write(json.dumps(reply, default=str).encode() + b"\n")


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, handler: Handler) -> None:
        self.handler = handler
        super().__init__(path, _RequestHandler)


class ControlServer:
    """Serves ``data_dir/control.sock`` by calling ``handler`` (from the server's threads)."""

    def __init__(self, data_dir: Path, handler: Handler) -> None:
        self.path = data_dir / SOCKET_NAME
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()  # left by a controller that was killed; we hold the controller lock
        self._server = _Server(str(self.path), handler)
        os.chmod(self.path, 0o660)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="control", daemon=True
        )

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving and remove the socket."""
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)


def request(data_dir: Path, cmd: str, timeout: float = 5.0, **args: Any) -> dict[str, Any]:
    """Send one request to the controller for ``data_dir`` and return its reply."""
    path = data_dir / SOCKET_NAME
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            sock.sendall(json.dumps({"cmd": cmd, **args}).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
    except (FileNotFoundError, ConnectionRefusedError):
        raise ControlError(
            f"no controller is running for {data_dir} (start it with 'doorward run')"
        ) from None
    except OSError as exc:
        raise ControlError(f"cannot talk to the controller at {path}: {exc}") from None
    try:
        reply: dict[str, Any] = json.loads(data)
    except ValueError:
        raise ControlError("the controller sent an unreadable reply") from None
    if not reply.get("ok"):
        raise ControlError(str(reply.get("error", "request refused")))
    return reply
