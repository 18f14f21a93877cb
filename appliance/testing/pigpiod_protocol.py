"""The pigpiod socket protocol as the emulator speaks it: numbers, error codes, report packing.

See shared/reference/pigpio-protocol.md: a command is four little-endian uint32 (cmd, p1, p2, p3)
with p3 bytes of extension; a report on a notification socket is 12 bytes.

Limits: a part of the pigpiod emulator; see ``appliance.testing.pigpiod``.
"""

from __future__ import annotations

import socket
import struct

__all__ = [
    "BAD_FILTER",
    "BAD_GPIO",
    "BAD_HANDLE",
    "BAD_LEVEL",
    "BAD_MODE",
    "BAD_PARAM",
    "BAD_PUD",
    "BAD_USER_GPIO",
    "BAD_WDOG_TIMEOUT",
    "BR1",
    "FG",
    "FLAG_WDOG",
    "FN",
    "HWVER",
    "HWVER_PI3BPLUS",
    "INPUT",
    "MAX_EXTENSION",
    "MODEG",
    "MODES",
    "NB",
    "NC",
    "NOIB",
    "NO_HANDLE",
    "NP",
    "OUTPUT",
    "PIGPIO_VERSION",
    "PIGPV",
    "PUD",
    "PUD_DOWN",
    "PUD_OFF",
    "PUD_UP",
    "READ",
    "TICK",
    "UNKNOWN_COMMAND",
    "WDOG",
    "WRAP",
    "WRITE",
]

WRAP = 1 << 32
HWVER_PI3BPLUS = 0xA020D3
PIGPIO_VERSION = 79
INPUT, OUTPUT = 0, 1
PUD_OFF, PUD_DOWN, PUD_UP = 0, 1, 2
FLAG_WDOG = 0x20
MAX_EXTENSION = 65536  # far above any command the client sends; more is a broken or hostile client

MODES, MODEG, PUD, READ, WRITE, WDOG, BR1, TICK, HWVER = 0, 1, 2, 3, 4, 9, 10, 16, 17
NB, NP, NC, PIGPV, FG, FN, NOIB = 19, 20, 21, 26, 97, 98, 99

BAD_USER_GPIO, BAD_GPIO, BAD_MODE, BAD_LEVEL, BAD_PUD = -2, -3, -4, -5, -6
BAD_WDOG_TIMEOUT, NO_HANDLE, BAD_HANDLE, BAD_PARAM = -15, -24, -25, -81
UNKNOWN_COMMAND, BAD_FILTER = -88, -125


def bits_of(mask: int) -> list[int]:
    """The GPIOs (0-31) set in ``mask``."""
    return [g for g in range(32) if mask >> g & 1]


def recv_exact(conn: socket.socket, n: int) -> bytes | None:
    """Exactly ``n`` bytes from ``conn``, or None if the peer closed first."""
    buf = bytearray()
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return bytes(buf)


class Notifier:
    """An in-band notification handle: its socket, the GPIO it watches, its sequence number."""

    def __init__(self, handle: int, conn: socket.socket) -> None:
        self.handle, self.conn = handle, conn
        self.bits, self.paused, self.seq = 0, False, 0

    def pack(self, flags: int, tick: int, levels: int) -> bytes:
        """One 12-byte report (seq, flags, tick, levels); the sequence number moves on."""
        data = struct.pack("<HHII", self.seq, flags, tick % WRAP, levels)
        self.seq = (self.seq + 1) & 0xFFFF
        return data
