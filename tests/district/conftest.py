"""Fixtures for the district register's tests: a console store with a clock we set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.district.register import Register
from appliance.store import Store
from tests.fleet.conftest import broker, cli, district
from tests.store.conftest import StepClock

ACTOR = "district:alice"
__all__ = ["broker", "cli", "district"]  # the fleet's fixtures: a real mosquitto, a district


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def store(tmp_path: Path, clock: StepClock) -> Iterator[Store]:
    s = Store(tmp_path / "doorward.db", clock=clock)
    s.init("district console")
    yield s
    s.close()


@pytest.fixture
def reg(store: Store) -> Register:
    """A register with two agencies, three officers and one fob in Casper PD's property room."""
    r = Register(store)
    r.add_agency("Casper PD", "police", actor=ACTOR)
    r.add_agency("Natrona Sheriff", "sheriff", actor=ACTOR)
    r.add_officer("Jane Ortiz", agency="Casper PD", badge="101", actor=ACTOR)
    r.add_officer("Dan Cole", agency="Casper PD", badge="102", actor=ACTOR)
    r.add_officer("Sam Reed", agency="Natrona Sheriff", badge="101", actor=ACTOR)
    r.register_fob("H10301", 12, 1, serial="CPD-1", agency="Casper PD", actor=ACTOR)
    return r
