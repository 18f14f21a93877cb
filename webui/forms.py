"""Reading hostile form input: each check records a message for people, naming the field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_INT = 2**63 - 1


class Form:
    """The submitted fields and the errors found in them, by field name."""

    def __init__(self, data: Mapping[str, str]) -> None:
        self.data = data
        self.errors: dict[str, str] = {}

    @property
    def ok(self) -> bool:
        """True if no check failed."""
        return not self.errors

    def error(self, name: str, message: str) -> None:
        """Record a problem with one field (the first one found is kept)."""
        self.errors.setdefault(name, message)

    def text(
        self,
        name: str,
        label: str,
        *,
        required: bool = True,
        max_len: int = 200,
        min_len: int = 0,
        multiline: bool = False,
        strip: bool = True,
    ) -> str | None:
        """A text field: stripped, without control characters, within its length."""
        raw = self.data.get(name, "")
        value = raw.strip() if strip else raw
        if not value:
            if required:
                self.error(name, f"{label} is required")
            return None
        if len(value) > max_len:
            self.error(name, f"{label} is {len(value)} characters long; the limit is {max_len}")
            return None
        if len(value) < min_len:
            self.error(name, f"{label} must be at least {min_len} characters long")
            return None
        bad = (_CONTROL_BUT_NEWLINE_RE if multiline else _CONTROL_RE).search(value)
        if bad:
            self.error(name, f"{label} contains a control character")
            return None
        return value

    def integer(
        self, name: str, label: str, *, required: bool = True, low: int = 0, high: int = MAX_INT
    ) -> int | None:
        """A whole number from ``low`` to ``high``."""
        value = self.text(name, label, required=required, max_len=20)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit()):
            self.error(name, f"{label} must be a whole number")
            return None
        number = int(value)
        if not low <= number <= high:
            self.error(name, f"{label} must be from {low} to {high}")
            return None
        return number

    def choice(self, name: str, label: str, choices: Iterable[str]) -> str | None:
        """One of ``choices``."""
        options = list(choices)
        value = self.data.get(name, "")
        if value not in options:
            self.error(name, f"{label} must be one of {', '.join(options)}")
            return None
        return value
