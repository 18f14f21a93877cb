"""The admin page's event outputs (the API's Event, the CSV export) follow the one field list."""

from __future__ import annotations

from datetime import UTC, datetime

from appliance.core import event_wire as ew
from appliance.store import EventRow
from webui import api, events
from webui.api_schemas import SCHEMAS

EVENT = EventRow(
    id=12,
    ts=datetime(2026, 3, 10, 5, 30, 1, 250000, tzinfo=UTC),
    kind="admin",
    reason=None,
    credential=None,
    holder="Officer Ortiz",
    serial=None,
    door="Front entrance",
    actor="web:alice",
    detail={"action": "add_holder", "agency": "CPD"},
    source_key=None,
)


def test_the_api_event_schema_lists_the_view_keys() -> None:
    assert tuple(SCHEMAS["Event"]["properties"]) == ew.VIEW_KEYS


def test_the_api_shows_an_event_as_the_view_in_utc() -> None:
    shown = api.event_json(EVENT)
    assert shown == ew.view(EVENT, zone=UTC)
    assert shown["time"] == "2026-03-10T05:30:01.250000+00:00"  # as the API has always shown it
    assert shown["detail"] == {"action": "add_holder", "agency": "CPD"}
    assert shown["text"].startswith("Holder Officer Ortiz added")


def test_the_csv_keeps_its_columns() -> None:
    # Spreadsheets and scripts read these by name and place: never renamed or moved.
    assert events.CSV_HEADER == (
        "id",
        "time",
        "kind",
        "action",
        "reason",
        "credential",
        "holder",
        "serial",
        "door",
        "actor",
        "detail",
        "text",
        "mode",
    )
    cells = dict(zip(events.CSV_HEADER, events.csv_row(EVENT, UTC), strict=True))
    assert cells["time"] == "2026-03-10T05:30:01+00:00"
    assert (cells["action"], cells["holder"], cells["reason"]) == (
        "add_holder",
        "Officer Ortiz",
        "",
    )
    assert cells["detail"] == '{"action": "add_holder", "agency": "CPD"}'
