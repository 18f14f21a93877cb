"""The controller's side of the local control channel: serves ``data_dir/control.sock``.

The protocol (socket name, framing, sizes) and the client every other process uses are in
``appliance.control``; what each command does is in ``appliance.controller.commands``. Every
request is checked before it is acted on.
"""

from __future__ import annotations

import logging
import os
import socketserver
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance.control import MAX_REQUEST, SOCKET_NAME, decode_request, encode_reply

LOG = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class _RequestHandler(socketserver.StreamRequestHandler):
    server: _Server

    def handle(self) -> None:
        line = self.rfile.readline(MAX_REQUEST + 2)  # the newline, and one byte to see "too large"
        try:
            reply = self.server.handler(decode_request(line))
        except ValueError as exc:
            reply = {"ok": False, "error": str(exc)}
        except Exception as exc:
            LOG.exception("control request failed")
            reply = {"ok": False, "error": f"internal error: {type(exc).__name__}"}
        self.wfile.write(encode_reply(reply))


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: str, handler: Handler) -> None:
        self.handler = handler
        super().__init__(path, _RequestHandler)


class ControlServer:
    """Serves ``data_dir/control.sock`` by calling ``handler`` (from the server's threads).

    ``poll_interval``: how often the serving thread looks for ``close`` (seconds).
    """

    def __init__(self, data_dir: Path, handler: Handler, *, poll_interval: float = 0.05) -> None:
        self.path = data_dir / SOCKET_NAME
        if self.path.exists() or self.path.is_symlink():
            self.path.unlink()  # left by a controller that was killed; we hold the controller lock
        self._server = _Server(str(self.path), handler)
        os.chmod(self.path, 0o660)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(poll_interval,), name="control", daemon=True
        )

    def start(self) -> None:
        """Start serving."""
        self._thread.start()

    def close(self) -> None:
        """Stop serving and remove the socket."""
        self._server.shutdown()
        self._server.server_close()
        self.path.unlink(missing_ok=True)
