"""The demo's admin page: a demo account and ``doorward web`` as its own process, as on a box."""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

from appliance.store import Store

DEMO_USER = "demo"
STARTUP_SECONDS = 30


def start_admin_page(
    config_file: Path, store: Store, port: int
) -> tuple[subprocess.Popen[str], str]:
    """Create the demo admin account and start the admin page; returns the process and password."""
    from webui.security import make_hasher

    password = secrets.token_urlsafe(12)  # fresh each run: no password is the same on two demos
    store.add_admin_user(
        DEMO_USER, make_hasher({}).hash(password), "admin", actor="demo", first=True
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "appliance.cli",
            "--config",
            str(config_file),
            "web",
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    if not wait_for_port(port, proc, STARTUP_SECONDS):
        proc.kill()
        raise RuntimeError(f"the admin page did not start on port {port} (in use? try --web-port)")
    return proc, password


def wait_for_port(port: int, proc: subprocess.Popen[str], seconds: float) -> bool:
    """True once 127.0.0.1:``port`` accepts connections; False if ``proc`` ends or time runs out.

    The only sign another process gives that its server is up is the port answering.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.1)
