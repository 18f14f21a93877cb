"""CSV cells a spreadsheet shows as text, and back: one rule for every export and import.

A spreadsheet runs a cell that starts with ``= + - @``, a tab or a carriage return (or the
full-width ``＝ ＋ － ＠``) as a formula, so a holder named ``=HYPERLINK(...)`` would become a live
link in an auditor's sheet (CSV injection). The rule, exact both ways:

- export: a cell that starts with one of those characters, or with a single quote ``'``, gets one
  more ``'`` in front (``=1`` → ``'=1``, ``'a`` → ``''a``);
- import: a cell that starts with ``'`` loses exactly one (``'=1`` → ``=1``, ``''a`` → ``'a``).

So ``restore_cell(safe_cell(x)) == x`` for every text ``x``, a genuine leading quote included.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
QUOTE = "'"


def safe_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text (None is empty); see the module's rule."""
    text = "" if value is None else str(value)
    return QUOTE + text if text.startswith((*FORMULA_START, QUOTE)) else text


def restore_cell(text: str) -> str:
    """The value safe_cell() was given: one leading quote, if any, removed."""
    return text[1:] if text.startswith(QUOTE) else text


class SafeWriter:
    """A CSV writer whose every cell goes through safe_cell(), and whose rows read back whole."""

    def __init__(self, out: TextIO, *, lineterminator: str = "\n") -> None:
        self._minimal = csv.writer(out, lineterminator=lineterminator)
        # csv quotes only the line terminator's characters: with "\n" a bare CR would split a row.
        self._all = csv.writer(out, lineterminator=lineterminator, quoting=csv.QUOTE_ALL)

    def writerow(self, values: Iterable[object]) -> None:
        """Write one row of neutralised cells."""
        cells = [safe_cell(v) for v in values]
        (self._all if any("\r" in c for c in cells) else self._minimal).writerow(cells)
