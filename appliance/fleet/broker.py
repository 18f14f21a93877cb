"""Where the fleet's MQTT broker is, from its URL. Pure: no paho, no sockets.

The box's ``[fleet]`` section and the console's ``district.toml`` are checked with it, so a wrong
URL is refused when the file is read, long before anything dials out.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class Broker:
    """Where the broker is: host, port, and whether to speak TLS."""

    host: str
    port: int
    tls: bool

    def __str__(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}"


def parse_broker(url: str) -> Broker:
    """``mqtt://host[:port]`` (1883) or ``mqtts://host[:port]`` (8883); ValueError otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise ValueError(f"broker URL {url!r} is not readable ({err})") from None
    if parts.scheme not in ("mqtt", "mqtts"):
        raise ValueError(f"broker URL {url!r} must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise ValueError(f"broker URL {url!r} names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"broker URL {url!r}: only a host and a port, nothing else")
    tls = parts.scheme == "mqtts"
    return Broker(parts.hostname, port or (8883 if tls else 1883), tls)
