"""A Wiegand frame as the edges a reader puts on D0/D1 (for the mock back-end, emulator, tests)."""

from __future__ import annotations

from appliance.wiegand.edges import D0, D1, HIGH, LOW, Edge

SIA_MIN_PULSE_US = 20
SIA_MAX_PULSE_US = 100
SIA_MIN_INTERVAL_US = 200
SIA_MAX_INTERVAL_US = 20_000


def waveform(
    bits: str, start_us: int = 0, interval_us: int = 2000, pulse_us: int = 50
) -> list[Edge]:
    """Edges for ``bits`` (a string of 0/1): one low pulse per bit, on D0 for 0 and D1 for 1.

    The first pulse starts at ``start_us``, each next one ``interval_us`` later (fall to fall).
    """
    if pulse_us >= interval_us:
        raise ValueError(
            f"pulse width {pulse_us} µs must be shorter than the interval {interval_us} µs"
        )
    edges: list[Edge] = []
    t = start_us
    for bit in bits:
        if bit not in "01":
            raise ValueError(f"bits must be 0 or 1, got {bit!r}")
        line = D1 if bit == "1" else D0
        edges.append(Edge(line, LOW, t))
        edges.append(Edge(line, HIGH, t + pulse_us))
        t += interval_us
    return edges
