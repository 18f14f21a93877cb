"""A store call refused whole: the error it raises, and not a row changed in any table."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from appliance.store import StoreError

from .test_schema import _tables


@contextmanager
def refused_changing_nothing(db_path: Path, message: str) -> Iterator[None]:
    """The block raises ``StoreError`` matching ``message``; every table is as it was before."""
    before = _tables(db_path)
    with pytest.raises(StoreError, match=message):
        yield
    assert _tables(db_path) == before
