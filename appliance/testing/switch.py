"""A recording output for door tests: every on/off with the order it happened in.

Limits: it has the ``appliance.hw.io.Output`` shape (``on``, ``off``, ``is_active``) and no
timing or thread safety: a test reads ``history`` after the door has acted.
"""

from __future__ import annotations


class RecordingSwitch:
    """Stands in for a relay, LED or beeper; ``history`` lists every state it was driven to."""

    def __init__(self) -> None:
        self.history: list[bool] = []

    def on(self) -> None:
        self.history.append(True)

    def off(self) -> None:
        self.history.append(False)

    @property
    def is_active(self) -> bool:
        return bool(self.history) and self.history[-1]
