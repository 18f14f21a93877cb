"""The controller's figures for people: latency in ms, reader health in words, durations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The stages the controller measures (appliance/controller/reads.py), in the order of a read.
STAGES = {
    "edge_to_relay": "Last bit to relay",
    "frame": "Card frame (first to last bit)",
    "decide": "Decision",
}
# Counters that mean a frame was not a card, with their words (appliance/wiegand/reader.py).
MISREADS = {
    "parity_failures": "parity failure",
    "short_frames": "short frame",
    "long_frames": "long frame",
}
OTHER_PROBLEMS = {
    "keypad_errors": "keypad error",
    "internal_errors": "decoding error",
}


def count(n: int, noun: str) -> str:
    """``1 frame``, ``1,203 frames``."""
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def ms(micros: object) -> str:
    """Microseconds as milliseconds, sensibly rounded: ``13.4 ms``, ``0.8 ms``, ``0.04 ms``."""
    if isinstance(micros, bool) or not isinstance(micros, int | float) or micros != micros:
        return "–"
    value = micros / 1000
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 0.1:
        return f"{value:.1f} ms"
    if value >= 0.01:
        return f"{value:.2f} ms"
    return "0 ms" if value <= 0 else "< 0.01 ms"


def duration(seconds: object) -> str:
    """A duration for people: ``45 s``, ``12 min``, ``3 h 12 min``, ``2 days 4 h``."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds != seconds:
        return "an unknown time"
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    minutes, hours, days = s // 60 % 60, s // 3600 % 24, s // 86400
    if days:
        return f"{count(days, 'day')} {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


def _n(reader: dict[str, Any], key: str) -> int:
    value = reader.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


@dataclass(frozen=True, slots=True)
class ReaderSummary:
    """Reader health in one sentence; ``level`` is ok, idle, warn or bad (its colour)."""

    level: str
    text: str


def reader_summary(reader: object, uptime_s: object) -> ReaderSummary:
    """``Reader OK — 1,203 frames (1,180 cards), 2 noise pulses since the controller started…``."""
    if not isinstance(reader, dict) or not reader:
        return ReaderSummary("warn", "The controller sent no reader figures.")
    since = f"since the controller started {duration(uptime_s)} ago"
    frames, cards, keys = _n(reader, "frames"), _n(reader, "cards"), _n(reader, "keys")
    noise = _n(reader, "noise_pulses")
    misread = {words: _n(reader, key) for key, words in MISREADS.items()}
    other = {words: _n(reader, key) for key, words in OTHER_PROBLEMS.items()}
    problems = [count(n, words) for words, n in (misread | other).items() if n]
    wiring = _n(reader, "wiring_faults")
    read = [count(cards, "card")] + ([count(keys, "key")] if keys else [])
    figures = f"{count(frames, 'frame')} ({', '.join(read)})"
    if noise:
        figures += f", {count(noise, 'noise pulse')}"
    if problems:
        figures += f", {', '.join(problems)}"
    if wiring:
        last = reader.get("last_fault")
        why = f" (last: {last})" if isinstance(last, str) and last else ""
        return ReaderSummary(
            "bad", f"Reader wiring fault — {count(wiring, 'fault')}{why}; {figures} {since}."
        )
    unread = sum(misread.values())
    if (unread and unread * 20 > frames) or other["decoding error"]:
        return ReaderSummary("warn", f"Reader misreads — {figures} {since}.")
    if not frames:
        return ReaderSummary("idle", f"Reader OK — no frames read yet {since}.")
    return ReaderSummary("ok", f"Reader OK — {figures} {since}.")


@dataclass(frozen=True, slots=True)
class StageRow:
    """One line of the latency table."""

    label: str
    p50: str
    p99: str
    max: str
    reads: str


def latency_rows(latency_us: object) -> list[StageRow]:
    """The latency table in ms, the known stages first in the order of a read."""
    if not isinstance(latency_us, dict):
        return []
    order = [s for s in STAGES if s in latency_us] + [s for s in latency_us if s not in STAGES]
    rows = []
    for stage in order:
        f = latency_us[stage] if isinstance(latency_us[stage], dict) else {}
        reads = f.get("count")
        rows.append(
            StageRow(
                STAGES.get(stage, str(stage).replace("_", " ")),
                ms(f.get("p50")),
                ms(f.get("p99")),
                ms(f.get("max")),
                f"{reads:,}" if isinstance(reads, int) else "–",
            )
        )
    return rows
