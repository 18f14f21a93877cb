"""Input edges for the pigpiod emulator: checking them, and planning their glitch-filtered reports.

An edge is ``(gpio, level, offset_us)``. A plan turns edges into actions, each a raw level change,
a report of one, or both, at an offset, so a burst and a real-time play report the same things.

Limits: a part of the pigpiod emulator; see ``appliance.testing.pigpiod``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from appliance.wiegand.edges import D0, D1
from appliance.wiegand.waveform import waveform

PlayEdge = tuple[int, int, int]  # (gpio, level, offset_us from the start of the waveform)
Action = tuple[int, int, int, int, int]  # (offset_us, order, kind, gpio, level)
RAW, RAW_AND_REPORT, REPORT = 0, 1, 2  # what a planned action does: see plan_actions


def card_edges(
    bits: str, d0_gpio: int, d1_gpio: int, interval_us: int = 2000, pulse_us: int = 50
) -> list[PlayEdge]:
    """The edges a reader puts on BCM pins ``d0_gpio``/``d1_gpio`` for ``bits``, from offset 0."""
    gpio = {D0: d0_gpio, D1: d1_gpio}
    return [(gpio[e.line], e.level, e.t_us) for e in waveform(bits, 0, interval_us, pulse_us)]


def validate_edges(edges: Iterable[PlayEdge]) -> list[PlayEdge]:
    """The edges as checked ``(gpio, level, offset_us)`` tuples; ValueError names a bad one."""
    checked = []
    for edge in edges:
        try:
            gpio, level, offset = edge
        except (TypeError, ValueError):
            raise ValueError(f"edge {edge!r} is not (gpio, level, offset_us)") from None
        if not (isinstance(gpio, int) and 0 <= gpio < 32):
            raise ValueError(f"edge {edge!r}: gpio must be 0-31")
        if level not in (0, 1):
            raise ValueError(f"edge {edge!r}: level must be 0 or 1")
        if not (isinstance(offset, int) and offset >= 0):
            raise ValueError(f"edge {edge!r}: offset must be a non-negative int of µs")
        checked.append((gpio, int(level), offset))
    return checked


def plan_actions(
    items: list[PlayEdge],
    input_level: Callable[[int], int],
    glitch: Sequence[int],
    reported: int,
) -> list[Action]:
    """Actions (offset, order, kind, gpio, level): raw level changes and their reports.

    ``input_level`` gives a GPIO's raw level now, ``glitch`` each GPIO's steady time and
    ``reported`` the level word as last reported. Under a glitch filter a change is reported only
    if it stays ``steady`` µs, and then ``steady`` µs late, as pigpiod does; without one a raw
    change is reported as it happens.
    """
    per_gpio: dict[int, list[tuple[int, int, int]]] = {}
    for order, (gpio, level, offset) in enumerate(items):
        per_gpio.setdefault(gpio, []).append((offset, order, level))
    actions = []
    for gpio, events in per_gpio.items():
        raw, changes = input_level(gpio), []
        for offset, order, level in events:
            if level != raw:
                changes.append((offset, order, level))
                raw = level
        steady, filtered = glitch[gpio], reported >> gpio & 1
        for i, (offset, order, level) in enumerate(changes):
            if not steady:
                actions.append((offset, order, RAW_AND_REPORT, gpio, level))
                continue
            actions.append((offset, order, RAW, gpio, level))
            stays = i + 1 == len(changes) or changes[i + 1][0] - offset >= steady
            if stays and level != filtered:
                actions.append((offset + steady, order, REPORT, gpio, level))
                filtered = level
    return sorted(actions)
