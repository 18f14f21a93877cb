"""appliance.control's client against the controller's real ControlServer in a temporary directory.

The server's handler is a controllable stand-in (no door); waits run on a fake clock.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from appliance.control import (
    MAX_REPLY,
    MAX_REQUEST,
    POLL_INTERVAL,
    SOCKET_NAME,
    Control,
    ControlError,
    decode_request,
    encode_request,
    exchange,
)
from appliance.controller.control import ControlServer


class FakeClock:
    """A monotonic clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 500.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Door:
    """A handler for ControlServer: records requests; its view catches up when told."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.view_revision = 3
        self.catch_up_after: int | None = None  # status requests until the view has rev 7
        self.refuse: str | None = None
        self.status: object = None  # replaces the status when set
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.requests.append(request)
            if self.refuse:
                raise ValueError(self.refuse)
            cmd = request["cmd"]
            if cmd == "boom":
                raise RuntimeError("a bug")
            if cmd == "status":
                asked = sum(r["cmd"] == "status" for r in self.requests)
                if self.catch_up_after is not None and asked >= self.catch_up_after:
                    self.view_revision = 7
                status = {"mode": "normal", "view_revision": self.view_revision}
                return {"ok": True, "status": status if self.status is None else self.status}
            return {"ok": True}

    def commands(self) -> list[str]:
        with self._lock:
            return [r["cmd"] for r in self.requests]


@pytest.fixture
def door(tmp_path: Path) -> Iterator[Door]:
    handler = Door()
    server = ControlServer(tmp_path, handler)
    server.start()
    try:
        yield handler
    finally:
        server.close()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(tmp_path: Path, clock: FakeClock) -> Control:
    return Control(tmp_path, timeout=2.0, clock=clock, sleep=clock.sleep)


def test_status_is_the_controllers_object(door: Door, client: Control) -> None:
    assert client.status() == {"mode": "normal", "view_revision": 3}
    assert client.running() is True
    assert door.commands() == ["status", "status"]
    door.status = ["not", "an", "object"]
    with pytest.raises(ControlError, match="not a JSON object"):
        client.status()
    assert client.running() is False


def test_refresh_without_a_revision_only_wakes(door: Door, client: Control) -> None:
    assert client.refresh() is True
    assert door.commands() == ["refresh"]


def test_refresh_waits_until_the_view_has_the_revision(
    door: Door, client: Control, clock: FakeClock
) -> None:
    door.catch_up_after = 3  # the third status shows revision 7
    assert client.refresh(wait_for_rev=7, timeout=1.5) is True
    assert door.commands() == ["refresh", "status", "status", "status"]
    assert clock.slept == [POLL_INTERVAL, POLL_INTERVAL]
    # a view already past the revision: one status, no wait
    assert client.refresh(wait_for_rev=5) is True
    assert door.commands()[-2:] == ["refresh", "status"]


def test_refresh_gives_up_at_its_bound(door: Door, client: Control, clock: FakeClock) -> None:
    start = clock.now
    assert client.refresh(wait_for_rev=4, timeout=1.5) is False
    assert clock.now - start == pytest.approx(1.5, abs=POLL_INTERVAL)
    polls = door.commands().count("status")
    assert polls == pytest.approx(1.5 / POLL_INTERVAL, abs=2)
    assert door.commands()[0] == "refresh"


def test_a_revision_that_is_not_a_number_never_counts(
    door: Door, client: Control, clock: FakeClock
) -> None:
    door.status = {"view_revision": True}
    assert client.refresh(wait_for_rev=0, timeout=0.1) is False
    door.status = {"view_revision": "9"}
    assert client.refresh(wait_for_rev=0, timeout=0.1) is False


def test_a_controller_that_stops_answering_while_waited_on(door: Door, client: Control) -> None:
    door.catch_up_after = None
    original = client.status
    calls = 0

    def status(*, timeout: float | None = None) -> dict[str, Any]:
        nonlocal calls
        calls += 1
        if calls == 2:
            door.refuse = "shutting down"
        return original(timeout=timeout)

    client.status = status  # type: ignore[method-assign]
    with pytest.raises(ControlError, match="shutting down"):
        client.refresh(wait_for_rev=9)


def test_unlock_and_swipe_send_their_arguments(door: Door, client: Control) -> None:
    client.unlock("delivery", actor="web:admin")
    client.swipe("0101", interval_us=500)
    assert door.requests == [
        {"cmd": "unlock", "actor": "web:admin", "reason": "delivery"},
        {"cmd": "swipe", "bits": "0101", "interval_us": 500, "pulse_us": 50},
    ]


def test_a_refused_request_says_why(door: Door, client: Control) -> None:
    door.refuse = "'reason' must be a non-empty string"
    with pytest.raises(ControlError, match="'reason' must be a non-empty string"):
        client.unlock("", actor="x")
    door.refuse = None
    with pytest.raises(ControlError, match=r"internal error: RuntimeError"):
        client.request("boom")


def test_no_socket_means_no_controller(tmp_path: Path) -> None:
    with pytest.raises(ControlError, match=r"^no controller is running for .*doorward run"):
        Control(tmp_path).status()
    assert Control(tmp_path).running() is False
    (tmp_path / SOCKET_NAME).touch()  # a stale file, nothing listening
    with pytest.raises(ControlError, match=r"^no controller is running"):
        Control(tmp_path).refresh()


def test_an_oversized_request_is_never_sent(door: Door, client: Control) -> None:
    with pytest.raises(ControlError, match="request too large"):
        client.unlock("x" * MAX_REQUEST, actor="a")
    assert door.requests == []
    # the largest request that fits is read whole by the server
    pad = MAX_REQUEST - len(encode_request("status", {"pad": ""})) + 1
    assert len(encode_request("status", {"pad": "p" * pad})) == MAX_REQUEST + 1
    client.request("status", pad="p" * pad)
    assert door.commands() == ["status"]


def test_the_server_refuses_an_oversized_or_malformed_line(door: Door, tmp_path: Path) -> None:
    def raw(line: bytes) -> bytes:
        return exchange(tmp_path / SOCKET_NAME, line, 5)

    assert b"request too large" in raw(b'{"cmd": "status", "pad": "' + b"p" * MAX_REQUEST + b'"}\n')
    assert b'a request is a JSON object with a \\"cmd\\" string' in raw(b"[1, 2]\n")
    assert b'"ok": false' in raw(b"not json\n")
    assert door.requests == []
    with pytest.raises(ValueError, match="too large"):
        decode_request(b"x" * (MAX_REQUEST + 1) + b"\n")


class _Raw(socketserver.StreamRequestHandler):
    server: _RawServer

    def handle(self) -> None:
        self.rfile.readline()
        self.wfile.write(self.server.reply())


class _RawServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def __init__(self, path: Path, reply: Callable[[], bytes]) -> None:
        self.reply = reply
        super().__init__(str(path), _Raw)


@pytest.fixture
def raw_server(tmp_path: Path) -> Iterator[Callable[[Callable[[], bytes]], None]]:
    servers: list[_RawServer] = []

    def start(reply: Callable[[], bytes]) -> None:
        server = _RawServer(tmp_path / SOCKET_NAME, reply)
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(server)

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (b"garbage\n", "unreadable reply"),
        (b"", "unreadable reply"),  # closed without a word
        (b"[1]\n", "unreadable reply"),
        (b'{"ok": "yes"}\n', "request refused"),
        (b'{"ok": false}\n', "request refused"),
        (b"x" * (MAX_REPLY + 10) + b"\n", "larger than"),
    ],
)
def test_an_unusable_reply_is_a_control_error(
    raw_server: Callable[[Callable[[], bytes]], None], tmp_path: Path, reply: bytes, why: str
) -> None:
    raw_server(lambda: reply)
    with pytest.raises(ControlError, match=why):
        Control(tmp_path).status()
