"""Fixtures for store tests: an initialised store on a temporary file, with a clock we set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.store import Store

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class StepClock:
    """A wall clock that moves only when told to."""

    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "doorward.db"


@pytest.fixture
def store(db_path: Path, clock: StepClock) -> Iterator[Store]:
    s = Store(db_path, clock=clock)
    s.init("Front door")
    yield s
    s.close()


@pytest.fixture
def other(store: Store, db_path: Path, clock: StepClock) -> Iterator[Store]:
    """A second store on the same file: stands in for another process."""
    s = Store(db_path, clock=clock)
    yield s
    s.close()
