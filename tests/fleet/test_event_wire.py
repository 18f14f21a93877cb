"""The one wire form at both ends: what a box ships, what the console checks, stores and prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from appliance.config import load_config
from appliance.core import event_wire as ew
from appliance.district.collector import Collector
from appliance.district.console import District, init_district
from appliance.district.state import DistrictStore
from appliance.fleet.messages import BoxEvent, EventBatch, parse_box_message
from appliance.fleet.signing import Rejected
from appliance.store import EventRecord, Store, StoreError
from tests.cli.util import Cli, init_box
from tests.core.test_event_wire import GOOD, HOSTILE, wire_events

BROKER = "mqtt://127.0.0.1:1"  # never dialled


SHAPES = {"id": "integer", "seconds": "number", "text": "string", "detail": "object"}


def test_box_event_has_the_fields_of_the_one_definition() -> None:
    assert tuple(BoxEvent.model_fields) == ew.WIRE_KEYS
    assert all(f.is_required() for f in BoxEvent.model_fields.values())  # null or not, present
    schema = BoxEvent.model_json_schema()
    assert schema["required"] == list(ew.WIRE_KEYS)
    assert schema["additionalProperties"] is False
    for spec in ew.FIELDS:
        prop = schema["properties"][spec.name]
        choices = prop.get("anyOf", [prop])
        assert ({"type": "null"} in choices) == spec.nullable, spec.name
        (value,) = [c for c in choices if c.get("type") != "null"]
        assert value["type"] == SHAPES[spec.shape], spec.name
        assert value.get("maxLength") == spec.max_len, spec.name
        if spec.max_len is not None:
            assert value.get("minLength", 0) == spec.min_len, spec.name
    assert schema["properties"]["id"]["maximum"] == ew.MAX_ID
    assert schema["properties"]["ts"]["maximum"] == ew.MAX_TS


@settings(max_examples=150)
@given(wire_events)
def test_box_event_accepts_what_from_wire_accepts(event: ew.WireEvent) -> None:
    body = json.loads(json.dumps(event.as_wire()))
    assert BoxEvent.model_validate(body).wire() == ew.from_wire(body) == event


@pytest.mark.parametrize(("body", "field", "words"), HOSTILE)
def test_box_event_refuses_what_from_wire_refuses(body: object, field: str, words: str) -> None:
    batch = {"box_id": "kw-1", "school": None, "events": [GOOD, body]}
    with pytest.raises(Rejected) as caught:
        parse_box_message(EventBatch, batch, "kw-1")
    assert caught.value.reason == "malformed"
    assert caught.value.detail.startswith(f"events.1: {field}"), caught.value.detail
    assert words in caught.value.detail


@pytest.fixture
def district(tmp_path: Path) -> District:
    return init_district(tmp_path / "district", "natrona", BROKER)


def test_the_console_checks_what_it_stores(district: District) -> None:
    with district.store() as store:
        state = DistrictStore(store)
        with pytest.raises(StoreError, match=r"event 2: kind: is 33 characters long"):
            state.store_events("kw-1", None, [GOOD, {**GOOD, "id": 8, "kind": "k" * 33}])
        with pytest.raises(StoreError, match=r"event 1: event: unknown field\(s\) 'mood'"):
            state.store_events("kw-1", None, [{**GOOD, "mood": 1}])
        assert state.count_events() == 0  # nothing of a refused batch
        assert state.store_events("kw-1", "KW", [ew.from_wire(GOOD)]) == 1
        (stored,) = state.events()
        assert (stored.box_event_id, stored.school, stored.ts.timestamp()) == (7, "KW", GOOD["ts"])
        assert ew.as_wire(stored) == {**GOOD, "id": stored.id}  # every field as it was sent


def test_the_console_refuses_json_nested_past_the_parser(district: District) -> None:
    # A RecursionError would escape the handler: never acknowledged, redelivered for ever.
    with district.store() as store:
        collector = Collector(district, store)
        nested = b'{"box_id": "kw-1", "events": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        for what in ("events", "status", "rejections"):
            with pytest.raises(Rejected) as caught:
                collector.handle("kw-1", what, nested)
            assert (caught.value.reason, caught.value.detail) == (
                "malformed",
                "JSON nested too deeply",
            )
        assert DistrictStore(store).count_events() == 0


def test_box_and_district_print_an_event_alike(
    tmp_path: Path, cli: Cli, district: District
) -> None:
    """`doorward events --json` at the box and `fleet events --json` after shipping it home."""
    (tmp_path / "box").mkdir()
    box = init_box(tmp_path / "box", cli)
    with Store(load_config(box).db_path) as store:
        store.holders.add("Officer Ortiz", agency="CPD", actor="cli:test")
        store.events.append(
            [
                EventRecord(
                    ts=1_765_000_000.123456,
                    kind="granted",
                    reason="granted",
                    credential="H10301:100:1001",
                    holder="Officer Ortiz",
                    serial="CPD-1",
                    door="Front entrance",
                    detail={"card_id": 1, "nested": {"list": [1, 2.5, None, "=x"]}},
                    source_key="t:1",
                ),
                EventRecord(ts=1_765_000_001.0, kind="mode", detail={"mode": "lockdown"}),
                EventRecord(ts=1_765_000_002.5, kind="door_open", detail={}),
            ]
        )
        rows = store.events.query(newest_first=False, limit=100)
        # What the fleet agent publishes on box/<id>/events.
        payload = json.dumps(
            {"box_id": "kw-1", "school": "Kelly Walsh", "events": [r.as_wire() for r in rows]}
        ).encode()
    with district.store() as store:
        Collector(district, store).handle("kw-1", "events", payload)
    at_box = [json.loads(line) for line in cli.on(box, "events", "--json").out.splitlines()]
    args = ("fleet", "--district", str(district.path), "events", "--json")
    at_home = [json.loads(line) for line in cli(*args).out.splitlines()]
    at_home.sort(key=lambda e: e["id"])  # the district orders by time, the box by id
    assert len(at_box) == len(rows) >= 4 and all(tuple(e) == ew.VIEW_KEYS for e in at_box)
    assert all(tuple(e) == ew.DISTRICT_VIEW_KEYS for e in at_home)
    for box_line, home_line in zip(at_box, at_home, strict=True):
        origin = {"box": "kw-1", "box_event_id": box_line["id"], "school": "Kelly Walsh"}
        assert home_line == {**origin, **box_line}
    by_kind = {e["kind"]: e for e in at_home}
    assert by_kind["granted"]["detail"]["nested"] == {"list": [1, 2.5, None, "=x"]}
    assert by_kind["granted"]["time"].endswith(".123456" + by_kind["granted"]["time"][-6:])
    assert by_kind["door_open"]["detail"] == {}
    assert "Holder Officer Ortiz added by test on the command line" in {e["text"] for e in at_home}
