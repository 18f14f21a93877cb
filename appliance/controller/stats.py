"""Latency figures for the last reads, for ``doorward status`` and the admin page."""

from __future__ import annotations

from collections import deque


def percentile(values: list[float], q: float) -> float | None:
    """The q-th percentile (0-100) by nearest rank, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


class LatencyStats:
    """Keeps the last ``size`` samples per stage (microseconds)."""

    def __init__(self, size: int = 1000) -> None:
        self._samples: dict[str, deque[float]] = {}
        self._size = size

    def add(self, stage: str, micros: float) -> None:
        """Record one sample for ``stage``."""
        self._samples.setdefault(stage, deque(maxlen=self._size)).append(micros)

    def summary(self) -> dict[str, dict[str, float | int | None]]:
        """p50/p99/max and count per stage."""
        out: dict[str, dict[str, float | int | None]] = {}
        for stage, samples in self._samples.items():
            values = list(samples)
            out[stage] = {
                "p50": percentile(values, 50),
                "p99": percentile(values, 99),
                "max": max(values) if values else None,
                "count": len(values),
            }
        return out
