"""Both databases keep an event with the wire fields and limits: every stored event travels."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import String

from appliance.core import event_wire as ew
from appliance.district.schema import FleetEvent
from appliance.store import EventRecord, Store, StoreError
from appliance.store.schema.box import Event

TEXT_FIELDS = [f for f in ew.FIELDS if f.shape == "text"]


@pytest.mark.parametrize("table", [Event, FleetEvent])
def test_the_tables_have_the_wire_fields_with_their_lengths(table: type) -> None:
    columns = table.__table__.columns  # type: ignore[attr-defined]
    names = set(columns.keys())
    assert set(ew.BODY_KEYS) <= names and "ts_us" in names
    for f in TEXT_FIELDS:
        column = columns[f.name]
        assert column.nullable == f.nullable, f.name
        if isinstance(column.type, String) and column.type.length is not None:
            assert column.type.length == f.max_len, f.name


@pytest.mark.parametrize("field", [f.name for f in TEXT_FIELDS])
def test_the_box_stores_up_to_the_wire_limit_and_no_more(store: Store, field: str) -> None:
    limit = ew.MAX_LEN[field]
    fields: dict[str, Any] = {"kind": "k", field: "x" * limit}
    at_limit = EventRecord(ts=1_765_000_000.0, **fields)
    assert store.events.append([at_limit]) == 1
    (newest,) = store.events.query(limit=1)
    assert ew.from_wire(json.loads(json.dumps(newest.as_wire()))).body() == ew.body(newest)
    over = EventRecord(ts=1_765_000_000.0, **{**fields, field: "x" * (limit + 1)})
    with pytest.raises(StoreError, match=f"{field} is {limit + 1} characters long"):
        store.events.append([over])
