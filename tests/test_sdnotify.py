"""sd_notify over a real datagram socket: ready, status, and a watchdog only the loop pings."""

from __future__ import annotations

import os
import secrets
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.sdnotify import Notifier
from appliance.testing.box import running_box


class Systemd:
    """The receiving end of $NOTIFY_SOCKET."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.settimeout(5)

    def receive(self) -> list[str]:
        return self.sock.recv(4096).decode().split("\n")

    def pending(self) -> list[list[str]]:
        found = []
        self.sock.setblocking(False)
        try:
            while True:
                found.append(self.sock.recv(4096).decode().split("\n"))
        except BlockingIOError:
            return found
        finally:
            self.sock.settimeout(5)


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[Systemd, str]]:
    path = tmp_path / "notify"
    listener = Systemd(str(path))
    yield listener, str(path)
    listener.sock.close()


def test_messages_reach_a_path_socket(systemd: tuple[Systemd, str]) -> None:
    listener, path = systemd
    notifier = Notifier({"NOTIFY_SOCKET": path})
    assert notifier.enabled
    assert notifier.ready("door running")
    assert listener.receive() == ["READY=1", "STATUS=door running"]
    assert notifier.status("degraded")
    assert listener.receive() == ["STATUS=degraded"]
    assert notifier.stopping()
    assert listener.receive() == ["STOPPING=1"]
    notifier.close()


def test_an_abstract_socket() -> None:
    name = f"doorward-test-{secrets.token_hex(4)}"
    listener = Systemd("\0" + name)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name})
        assert notifier.ready("up")
        assert listener.receive()[0] == "READY=1"
    finally:
        listener.sock.close()


def test_watchdog_at_half_its_interval(systemd: tuple[Systemd, str]) -> None:
    listener, path = systemd
    notifier = Notifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "10000000"})
    assert notifier.watchdog_interval == 5.0
    sent = [t for t in (0.0, 1.0, 4.9, 5.0, 7.0, 10.1) if notifier.watchdog(100.0 + t)]
    assert sent == [0.0, 5.0, 10.1]
    assert listener.pending() == [["WATCHDOG=1"]] * 3


def test_nothing_without_systemd_or_for_another_process(tmp_path: Path) -> None:
    quiet = Notifier({})
    assert not quiet.enabled and not quiet.ready("x") and not quiet.watchdog(0.0)
    other = Notifier(
        {"NOTIFY_SOCKET": str(tmp_path / "n"), "WATCHDOG_USEC": "1", "WATCHDOG_PID": "1"}
    )
    assert other.watchdog_interval is None  # the watchdog is PID 1's, not ours
    assert not other.send("READY=1")  # nobody listens there: no error, just False


def test_the_controller_is_ready_then_pinged_by_its_loop(
    tmp_path: Path, systemd: tuple[Systemd, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    listener, path = systemd
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")  # a ping every 0.1 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    with running_box(tmp_path) as (controller, _, _):
        ready = listener.receive()
        assert ready[0] == "READY=1" and "Front entrance" in ready[1]
        assert listener.receive() == ["WATCHDOG=1"]
        assert listener.receive() == ["WATCHDOG=1"]
        # A hung loop stops pinging: hold the loop thread and see no ping arrive.
        held, release = threading.Event(), threading.Event()

        def hang() -> None:
            held.set()
            release.wait(5)

        controller.post(hang)
        assert held.wait(5)
        listener.pending()  # whatever was sent before the hold
        listener.sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            listener.receive()
        release.set()
        listener.sock.settimeout(5)
        assert listener.receive() == ["WATCHDOG=1"]
    assert ["STOPPING=1"] in listener.pending()
