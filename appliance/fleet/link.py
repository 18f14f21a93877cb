"""The MQTT connection both sides use: paho-mqtt 2, reconnecting with backoff forever.

Callbacks run on paho's network thread; whoever uses a Link keeps them short.
"""

from __future__ import annotations

import logging
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from appliance.fleet.broker import Broker as Broker
from appliance.fleet.broker import parse_broker as parse_broker

LOG = logging.getLogger(__name__)
RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 15


class LinkError(RuntimeError):
    """The broker could not be reached or did not acknowledge in time."""


@dataclass(frozen=True, slots=True)
class Tls:
    """The CA that signed the broker's certificate, and this client's certificate and key."""

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


class Link:
    """One MQTT client; ``start`` connects in the background and keeps reconnecting."""

    def __init__(
        self,
        broker: Broker,
        client_id: str,
        *,
        clean: bool,
        tls: Tls | None = None,
        keepalive: int = 30,
        will: tuple[str, bytes] | None = None,
        on_connect: Callable[[], None] | None = None,
        on_message: Callable[[mqtt.MQTTMessage], None] | None = None,
        on_disconnect: Callable[[], None] | None = None,
        manual_ack: bool = False,
    ) -> None:
        self.broker = broker
        self.connected = threading.Event()
        self._stopping = False
        self._on_connect = on_connect
        self._on_message = on_message
        self._on_disconnect = on_disconnect
        self._keepalive = keepalive
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean,
            protocol=mqtt.MQTTv311,
            manual_ack=manual_ack,
        )
        self._manual_ack = manual_ack
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.max_inflight_messages_set(100)
        if broker.tls:
            t = tls or Tls()
            client.tls_set(
                ca_certs=str(t.ca_file) if t.ca_file else None,
                certfile=str(t.cert_file) if t.cert_file else None,
                keyfile=str(t.key_file) if t.key_file else None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        if will is not None:
            client.will_set(will[0], will[1], qos=1, retain=True)
        client.on_connect = self._connected
        client.on_disconnect = self._disconnected
        client.on_message = self._message
        self.client = client

    def start(self) -> None:
        """Connect in the background; paho's thread reconnects with backoff from then on."""
        self.client.connect_async(self.broker.host, self.broker.port, self._keepalive)
        self.client.loop_start()

    def wait_connected(self, timeout: float) -> None:
        """Block until connected; LinkError after ``timeout``."""
        if not self.connected.wait(timeout):
            raise LinkError(f"cannot reach the broker at {self.broker} within {timeout:g} s")

    def stop(self) -> None:
        """Disconnect cleanly (no last will) and stop the network thread."""
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def publish(
        self, topic: str, payload: bytes, *, retain: bool = False, qos: int = 1
    ) -> mqtt.MQTTMessageInfo:
        """Queue a message; its info says when the broker has acknowledged it."""
        return self.client.publish(topic, payload, qos=qos, retain=retain)

    def publish_and_wait(self, topic: str, payload: bytes, *, retain: bool, timeout: float) -> None:
        """Publish at QoS 1 and wait for the broker's acknowledgement; LinkError if none comes."""
        info = self.publish(topic, payload, retain=retain)
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            raise LinkError(f"publishing to {topic} failed: {mqtt.error_string(info.rc)}")
        try:
            info.wait_for_publish(timeout)
        except (RuntimeError, ValueError) as err:
            raise LinkError(f"publishing to {topic} failed: {err}") from None
        if not info.is_published():
            raise LinkError(f"the broker at {self.broker} did not acknowledge within {timeout:g} s")

    def subscribe(self, topics: list[str]) -> None:
        """Subscribe at QoS 1 (call from on_connect: a clean session forgets subscriptions)."""
        self.client.subscribe([(t, 1) for t in topics])

    # -- paho's callbacks (its network thread) ---------------------------------------------
    def _connected(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            LOG.warning("broker %s refused the connection: %s", self.broker, reason)
            return
        LOG.info("connected to the broker at %s", self.broker)
        self.connected.set()
        if self._on_connect is not None:
            self._on_connect()

    def _disconnected(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if self.connected.is_set() and not self._stopping:
            LOG.warning("lost the broker at %s (%s); reconnecting", self.broker, reason)
        self.connected.clear()
        if self._on_disconnect is not None:
            self._on_disconnect()

    def _message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        if self._on_message is not None:
            try:
                self._on_message(msg)
            except Exception:  # one bad message must never stop the link
                # With manual_ack it stays unacknowledged: the broker delivers it again later.
                LOG.exception("handling a message on %s failed", msg.topic)
                return
        if self._manual_ack:
            self.client.ack(msg.mid, msg.qos)
