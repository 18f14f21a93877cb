"""One wire form for events: as_wire -> JSON -> from_wire is the identity; hostile input refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.core import event_wire as ew
from appliance.core.describe import sentence
from appliance.core.event_kinds import KINDS
from appliance.district.state import FleetEventRow
from appliance.store.rows import EventRow, datetime_to_us

# JSON values as a box's detail holds them: finite numbers, text without lone surrogates.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
details = st.none() | st.dictionaries(st.text(max_size=12), json_values, max_size=5)


def opt_text(name: str) -> st.SearchStrategy[str | None]:
    return st.none() | st.text(max_size=ew.MAX_LEN[name])


# Every kind the code records, and any other a newer box may send.
kinds = st.sampled_from(sorted(KINDS)) | st.text(min_size=1, max_size=32)

wire_events = st.builds(
    ew.WireEvent,
    id=st.integers(1, ew.MAX_ID),
    ts=st.floats(0, ew.MAX_TS) | st.integers(0, ew.MAX_TS).map(float),
    kind=kinds,
    reason=opt_text("reason"),
    credential=opt_text("credential"),
    holder=opt_text("holder"),
    serial=opt_text("serial"),
    door=opt_text("door"),
    actor=opt_text("actor"),
    detail=details,
)

# Times a box keeps (whole microseconds, UTC), up to the year 2200.
stored_times = st.integers(0, datetime_to_us(datetime(2200, 1, 1, tzinfo=UTC))).map(
    lambda us: datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
)


def row(**changes: Any) -> EventRow:
    fields: dict[str, Any] = {
        "id": 7,
        "ts": datetime(2026, 12, 7, 15, 4, 5, 123456, tzinfo=UTC),
        "kind": "granted",
        "reason": "granted",
        "credential": "H10301:100:1001",
        "holder": "Officer Ortiz",
        "serial": "CPD-1",
        "door": "Front entrance",
        "actor": None,
        "detail": {"card_id": 3},
        "source_key": "journal:1:7",
    }
    return EventRow(**{**fields, **changes})


def through_json(value: dict[str, Any]) -> Any:
    return json.loads(json.dumps(value))


@settings(max_examples=300)
@given(wire_events)
def test_as_wire_json_from_wire_is_the_identity(event: ew.WireEvent) -> None:
    wire = event.as_wire()
    assert tuple(wire) == ew.WIRE_KEYS
    back = ew.from_wire(through_json(wire))
    assert back == event
    assert ew.as_wire(back) == wire


@settings(max_examples=200)
@given(
    stored_times,
    st.sampled_from(sorted(KINDS)),
    details,
    st.integers(1, ew.MAX_ID),
)
def test_a_stored_event_travels_exactly_to_the_microsecond(
    when: datetime, kind: str, detail: dict[str, Any] | None, event_id: int
) -> None:
    stored = row(id=event_id, ts=when, kind=kind, detail=detail)
    arrived = ew.from_wire(through_json(stored.as_wire()))
    assert arrived.ts_us == datetime_to_us(when) and arrived.at == when
    assert (arrived.id, arrived.body()) == (event_id, ew.body(stored))
    assert sentence(arrived) == sentence(stored)  # the district reads it as the box does


def test_the_wire_form_is_what_boxes_have_always_sent() -> None:
    # A box and a console of different versions meet at the broker: keys never change.
    assert row().as_wire() == {
        "id": 7,
        "ts": datetime(2026, 12, 7, 15, 4, 5, 123456, tzinfo=UTC).timestamp(),
        "kind": "granted",
        "reason": "granted",
        "credential": "H10301:100:1001",
        "holder": "Officer Ortiz",
        "serial": "CPD-1",
        "door": "Front entrance",
        "actor": None,
        "detail": {"card_id": 3},
    }
    assert "source_key" not in row().as_wire()  # the box's own dedup key stays at home


GOOD = row().as_wire()
DEEP: Any = 1
for _ in range(ew.MAX_DETAIL_DEPTH):
    DEEP = [DEEP]

HOSTILE: list[tuple[object, str, str]] = [
    ([GOOD], "event", "must be a JSON object, not list"),
    (None, "event", "not null"),
    ({**GOOD, "mood": "fine"}, "event", "unknown field(s) 'mood'"),
    ({**GOOD, "source_key": "x"}, "event", "unknown field(s) 'source_key'"),
    ({k: v for k, v in GOOD.items() if k != "door"}, "door", "is missing"),
    ({**GOOD, "id": True}, "id", "must be an integer, not bool"),
    ({**GOOD, "id": 7.0}, "id", "must be an integer, not float"),
    ({**GOOD, "id": "7"}, "id", "must be an integer, not str"),
    ({**GOOD, "id": 0}, "id", "from 1 to 2**62"),
    ({**GOOD, "id": 2**62 + 1}, "id", "from 1 to 2**62"),
    ({**GOOD, "ts": "2026-12-07"}, "ts", "not str"),
    ({**GOOD, "ts": None}, "ts", "not null"),
    ({**GOOD, "ts": False}, "ts", "not bool"),
    ({**GOOD, "ts": float("nan")}, "ts", "not nan"),
    ({**GOOD, "ts": float("inf")}, "ts", "not inf"),
    ({**GOOD, "ts": -1.0}, "ts", "from 0 to 2**40"),
    ({**GOOD, "ts": 2.0**40 + 1}, "ts", "from 0 to 2**40"),
    ({**GOOD, "kind": None}, "kind", "is required"),
    ({**GOOD, "kind": ""}, "kind", "0 characters long; 1 to 32 allowed"),
    ({**GOOD, "kind": "k" * 33}, "kind", "33 characters long"),
    ({**GOOD, "kind": 5}, "kind", "must be text, not int"),
    ({**GOOD, "reason": "r" * 2001}, "reason", "2001 characters long; 2000 allowed"),
    ({**GOOD, "credential": "c" * 65}, "credential", "65 characters long"),
    ({**GOOD, "holder": ["Ann"]}, "holder", "must be text, not list"),
    ({**GOOD, "holder": "h" * 201}, "holder", "201 characters long"),
    ({**GOOD, "serial": "s" * 65}, "serial", "65 characters long"),
    ({**GOOD, "door": "d" * 101}, "door", "101 characters long"),
    ({**GOOD, "actor": "a" * 101}, "actor", "101 characters long"),
    ({**GOOD, "actor": "web:\ud800"}, "actor", "lone surrogate"),
    ({**GOOD, "detail": [1]}, "detail", "JSON object or null, not list"),
    ({**GOOD, "detail": "{}"}, "detail", "not str"),
    ({**GOOD, "detail": {"a": float("nan")}}, "detail.a", "finite number"),
    ({**GOOD, "detail": {"a": [1, {"b": float("-inf")}]}}, "detail.a[1].b", "finite number"),
    ({**GOOD, "detail": {"a": "\udfff"}}, "detail.a", "lone surrogate"),
    ({**GOOD, "detail": {"\ud800": 1}}, "detail key", "lone surrogate"),
    ({**GOOD, "detail": {1: "a"}}, "detail", "key that is not text"),
    ({**GOOD, "detail": {"a": {1, 2}}}, "detail.a", "holds a set"),
    ({**GOOD, "detail": {"a": DEEP}}, "detail.a", "nested more than 32 deep"),
    ({**GOOD, "detail": {"a": "x" * ew.MAX_DETAIL_CHARS}}, "detail", "characters of JSON"),
]


@pytest.mark.parametrize(("body", "field", "words"), HOSTILE)
def test_hostile_input_is_refused_naming_the_field(body: object, field: str, words: str) -> None:
    with pytest.raises(ew.WireError) as caught:
        ew.from_wire(body)
    assert caught.value.field.startswith(field), caught.value
    assert str(caught.value).startswith(f"{caught.value.field}: ")
    assert words in str(caught.value)


def test_the_limits_themselves_are_allowed() -> None:
    top = {name: "x" * limit for name, limit in ew.MAX_LEN.items()}
    nested: Any = 1
    for _ in range(ew.MAX_DETAIL_DEPTH - 1):
        nested = [nested]
    edge = {**GOOD, **top, "id": 2**62, "ts": 2**40, "detail": {"a": nested}}
    event = ew.from_wire(edge)
    assert event.ts == float(2**40) and isinstance(event.ts, float)  # an integer time is seconds
    assert ew.from_wire({**GOOD, "id": 1, "ts": 0, "detail": {}}).detail == {}
    assert ew.from_wire({**GOOD, "kind": "a_kind_from_a_newer_box"}).kind.startswith("a_kind")


def test_the_field_lists_agree_with_each_other() -> None:
    assert ("id", "ts", *ew.BODY_KEYS) == ew.WIRE_KEYS
    assert tuple(ew.body(row())) == ew.BODY_KEYS
    assert ("id", "time", *ew.BODY_KEYS, "text") == ew.VIEW_KEYS
    assert set(ew.CSV_COLUMNS) == (set(ew.VIEW_KEYS) | {"action", "mode"})
    assert len(ew.CSV_COLUMNS) == len(set(ew.CSV_COLUMNS))


def test_the_view_is_the_box_cli_contract() -> None:
    shown = ew.view(row(), zone=timezone(timedelta(hours=-7)))
    assert tuple(shown) == ew.VIEW_KEYS
    assert shown["time"] == "2026-12-07T08:04:05.123456-07:00"
    assert shown["text"] == sentence(row()) and shown["detail"] == {"card_id": 3}
    assert ew.view(row(), zone=UTC)["time"] == "2026-12-07T15:04:05.123456+00:00"
    assert ew.view(row(detail=None))["detail"] is None
    assert ew.view(row(detail={}))["detail"] == {}  # as the API has always shown it


def test_the_district_view_is_the_box_view_with_its_box_in_front() -> None:
    box = row()
    home = FleetEventRow(
        id=99,
        ts=box.ts,
        **ew.body(box),
        box_id="kw-front",
        box_event_id=box.id,
        school="Kelly Walsh",
    )
    shown = ew.district_view(home, zone=UTC)
    assert tuple(shown) == ew.DISTRICT_VIEW_KEYS
    box_part = {"box": "kw-front", "box_event_id": 7, "school": "Kelly Walsh"}
    assert shown == {**box_part, **ew.view(box, zone=UTC)}  # id: the box's, not the console's


def test_csv_cells_follow_the_columns() -> None:
    admin = row(kind="admin", detail={"action": "add_holder", "z": 1, "a": "=x"}, actor="cli:t")
    cells = dict(zip(ew.CSV_COLUMNS, ew.csv_cells(admin, UTC), strict=True))
    assert cells["action"] == "add_holder" and cells["mode"] is None
    assert cells["detail"] == '{"a": "=x", "action": "add_holder", "z": 1}'  # sorted keys
    assert cells["time"] == "2026-12-07T15:04:05+00:00"  # whole seconds in a spreadsheet
    mode = row(kind="mode", detail={"mode": "lockdown"})
    cells = dict(zip(ew.CSV_COLUMNS, ew.csv_cells(mode, UTC), strict=True))
    assert (cells["action"], cells["mode"]) == (None, "lockdown")
    cells = dict(zip(ew.CSV_COLUMNS, ew.csv_cells(row(detail={}), UTC), strict=True))
    assert cells["detail"] is None  # as the export has always written it
