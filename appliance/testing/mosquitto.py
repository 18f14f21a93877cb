"""A real Eclipse Mosquitto broker on 127.0.0.1 for the fleet tests: free port, temp config.

Persistence is on, so a restart keeps retained messages and the QoS 1 messages queued for
persistent sessions (the broker saves them when it stops; ``kill`` is the crash case). With
``tls={"ca", "cert", "key"}`` (e.g. from ``appliance.testing.pki``) it requires client
certificates and takes each client's certificate name as its user name.

Limits: not an emulator: it runs Debian's ``mosquitto`` binary (``apt install mosquitto``), on
loopback only, anonymous without TLS and with no ACLs. ``start`` polls the port for up to 10 s.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """One broker process; ``stop``/``start`` restart it on the same port with the same store."""

    def __init__(self, workdir: Path, *, tls: dict[str, Path] | None = None) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.tls = tls
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.dir / "mosquitto.log"
        self.conf = self.dir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "persistence true",
            f"persistence_location {self.dir}/",
            "autosave_interval 1",
            "max_queued_messages 0",
            "max_inflight_messages 0",
            "persistent_client_expiration 1d",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            # As root it would drop to the 'mosquitto' user, who cannot read a test's temp files.
            lines.append("user root")
        if tls is not None:
            lines += [
                f"cafile {tls['ca']}",
                f"certfile {tls['cert']}",
                f"keyfile {tls['key']}",
                "require_certificate true",
                "use_identity_as_username true",
            ]
        self.conf.write_text("\n".join(lines) + "\n")

    @property
    def url(self) -> str:
        """The broker URL for configs."""
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the broker and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        """Stop it as an operator would (it saves its store first)."""
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def kill(self) -> None:
        """Kill it without warning (a crash: only what was autosaved survives)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@contextmanager
def running_mosquitto(workdir: Path, **kwargs: object) -> Iterator[Mosquitto]:
    """A broker for the length of the block."""
    broker = Mosquitto(workdir, **kwargs)  # type: ignore[arg-type]
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
