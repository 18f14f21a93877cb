"""docs/fleet.md's certificate authority and broker config, run as printed.

The page's OpenSSL block makes the CA and the broker's, console's and a box's certificates; a real
mosquitto runs the page's config and ACL with them (port and directories moved into a temp dir).
The broker must refuse a client without a certificate, let the console read every box, and keep a
box to its own topics.
"""

from __future__ import annotations

import contextlib
import os
import queue
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.testing.mosquitto import MOSQUITTO, Mosquitto
from tests.test_readme import ROOT, blocks

FLEET_PAGE = ROOT / "docs" / "fleet.md"
WAIT = 10.0


def _block(containing: str) -> str:
    found = [b.text for b in blocks(FLEET_PAGE) if containing in b.text]
    assert len(found) == 1, f"docs/fleet.md: one block with {containing!r}, found {len(found)}"
    return found[0]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    home = tmp_path_factory.mktemp("pki")
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _block("openssl ecparam")],
        cwd=home,
        check=True,
        capture_output=True,
        timeout=60,
    )
    server = Mosquitto(home / "run")
    port = server.port
    conf = _block("require_certificate").replace("listener 8883", f"listener {port} 127.0.0.1")
    conf = conf.replace("/etc/mosquitto/certs/", f"{home}/")
    conf = conf.replace("/etc/mosquitto/doorward.acl", f"{home}/doorward.acl")
    conf += f"persistence_location {home}/\n"
    if os.geteuid() == 0:  # as root it would drop to the 'mosquitto' user, who cannot read home
        conf += "user root\n"
    (home / "doorward.acl").write_text(_block("pattern readwrite"))
    conf += f"log_dest file {server.log}\n"
    server.conf.write_text(conf)
    assert Path(MOSQUITTO).exists()
    server.start()
    try:
        yield home, port
    finally:
        server.stop()


class Client:
    """A paho client with the page's files; messages it receives land in ``inbox``."""

    def __init__(self, home: Path, port: int, name: str | None) -> None:
        self.inbox: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.events: queue.Queue[str] = queue.Queue()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=name or "nobody")
        cert = (str(home / f"{name}.pem"), str(home / f"{name}.key")) if name else (None, None)
        self.client.tls_set(ca_certs=str(home / "ca.pem"), certfile=cert[0], keyfile=cert[1])
        # The broker's certificate names mqtt.district.example; here it is dialled as 127.0.0.1.
        self.client.tls_insecure_set(True)
        self.client.on_connect = lambda c, u, f, rc, p: self.events.put(f"connect {rc}")
        self.client.on_subscribe = lambda c, u, mid, rc, p: self.events.put("subscribed")
        self.client.on_message = lambda c, u, m: self.inbox.put((m.topic, bytes(m.payload)))
        self.client.on_disconnect = lambda *a: self.events.put("disconnect")
        self.port = port

    def connect(self) -> str:
        try:
            self.client.connect("127.0.0.1", self.port)
        except (ssl.SSLError, OSError) as exc:
            return f"refused: {exc}"
        self.client.loop_start()
        return self.events.get(timeout=WAIT)

    def subscribe(self, topic: str) -> None:
        self.client.subscribe(topic, qos=1)
        assert self.events.get(timeout=WAIT) == "subscribed"

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(WAIT)

    def try_publish(self, topic: str, payload: bytes) -> None:
        """Publish, whether or not the broker keeps the connection (a refusal may close it)."""
        with contextlib.suppress(RuntimeError, ValueError):
            self.client.publish(topic, payload, qos=1).wait_for_publish(WAIT)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _received_until(client: Client, marker: bytes) -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []
    while not got or got[-1][1] != marker:
        got.append(client.inbox.get(timeout=WAIT))
    return got


def test_the_certificates_verify_against_the_district_ca(broker: tuple[Path, int]) -> None:
    home, _ = broker
    names = ["mqtt.district.example.pem", "console.pem", "kw-front.pem"]
    out = subprocess.run(
        ["openssl", "verify", "-CAfile", "ca.pem", *names],
        cwd=home,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def test_the_broker_refuses_a_client_without_a_certificate(broker: tuple[Path, int]) -> None:
    stranger = Client(*broker, None)
    outcome = stranger.connect()
    stranger.close()
    assert outcome != "connect Success", outcome


def test_the_console_reads_every_box_and_a_box_only_writes_its_own(
    broker: tuple[Path, int],
) -> None:
    console, box = Client(*broker, "console"), Client(*broker, "kw-front")
    try:
        assert console.connect() == "connect Success"
        console.subscribe("doorward/natrona/#")
        console.publish("doorward/natrona/list/snapshot", b"list", retain=True)
        assert box.connect() == "connect Success"
        box.subscribe("doorward/natrona/list/#")
        assert box.inbox.get(timeout=WAIT) == ("doorward/natrona/list/snapshot", b"list")
        for topic in ("box/other/status", "list/snapshot"):
            box.try_publish(f"doorward/natrona/{topic}", b"forged")
        box.close()  # the broker may drop a client for a refused publish: speak again afresh
        box = Client(*broker, "kw-front")
        assert box.connect() == "connect Success"
        box.publish("doorward/natrona/box/kw-front/status", b"mine")
        got = _received_until(console, b"mine")
        assert b"forged" not in [payload for _, payload in got], got
    finally:
        console.close()
        box.close()
