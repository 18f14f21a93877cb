"""Events page: filters, id paging, local times, admin actions, spreadsheet-safe CSV export."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.config import Config, load_config
from appliance.store import EventRecord, EventRow, Store
from appliance.testing.box import write_config
from tests.webui.conftest import signed_in
from webui import events

ZONE = "America/Denver"
# 2026-03-10 05:30 UTC is 2026-03-09 23:30 in Denver (MDT, UTC-6): a date boundary differs.
LATE_EVENING = datetime(2026, 3, 10, 5, 30, tzinfo=UTC).timestamp()


CSV_COLUMNS = {name: i for i, name in enumerate(events.CSV_HEADER)}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path)).model_copy(update={"timezone": ZONE})


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return signed_in(app, "admin")


def add(store: Store, *records: EventRecord) -> None:
    assert store.events.append(list(records)) == len(records)


def rows_of(page: str) -> list[str]:
    """The event ids on a page, in order."""
    return [part.split('"')[0] for part in page.split('id="event-')[1:]]


def test_filters_by_kind_holder_serial(admin: FlaskClient, store: Store) -> None:
    add(
        store,
        EventRecord(ts=LATE_EVENING, kind="granted", holder="Officer Ortiz", serial="CPD-1"),
        EventRecord(ts=LATE_EVENING, kind="denied", holder="Ms. Shah", serial="KW-2"),
        EventRecord(ts=LATE_EVENING, kind="door_open"),
    )
    page = admin.get("/events?kind=denied").get_data(as_text=True)
    assert "Ms. Shah" in page and "Officer Ortiz" not in page and "Door opened</td>" not in page
    both = admin.get("/events?kind=denied&kind=door_open").get_data(as_text=True)
    assert "Ms. Shah" in both and "Door opened</td>" in both and "Officer Ortiz" not in both
    by_holder = admin.get("/events?holder=Officer+Ortiz").get_data(as_text=True)
    assert "CPD-1" in by_holder and "KW-2" not in by_holder
    by_serial = admin.get("/events?serial=KW-2").get_data(as_text=True)
    assert "Ms. Shah" in by_serial and "Officer Ortiz" not in by_serial
    # The kinds are checkboxes with human labels, in groups; the chosen ones stay ticked.
    for kind in ("granted", "denied", "door_open", "admin", "mode"):
        assert f'name="kind" value="{kind}"' in page
    assert 'value="denied" checked' in page and 'value="granted" checked' not in page
    for label in ("Refused", "Lockdown and mode", "Alarms and faults"):
        assert f"<legend>{label}</legend>" in page
    assert 'value="granted"> Entries granted</label>' in page
    assert 'value="admin"> Admin changes</label>' in page


def test_holder_filter_takes_part_of_the_name_in_any_case(admin: FlaskClient, store: Store) -> None:
    add(
        store,
        EventRecord(ts=LATE_EVENING, kind="granted", holder="Officer Ortiz", serial="CPD-1"),
        EventRecord(ts=LATE_EVENING, kind="denied", holder="Ms. Shah", serial="KW-2"),
    )
    page = admin.get("/events?holder=ortiz").get_data(as_text=True)
    assert "CPD-1" in page and "KW-2" not in page
    assert "part of the name" in page


@pytest.mark.parametrize("query", ["kind=grant", "kind=denied&kind=grant"])
def test_an_unknown_kind_is_a_clear_message_not_an_empty_list(
    admin: FlaskClient, store: Store, query: str
) -> None:
    add(store, EventRecord(ts=LATE_EVENING, kind="denied", holder="Ms. Shah"))
    response = admin.get(f"/events?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "unknown event kind &#39;grant&#39; (did you mean &#39;granted&#39;?)" in page
    assert "No events match" not in page and "Ms. Shah" not in page
    export = admin.get(f"/events/export.csv?{query}")
    assert export.status_code == 400 and "did you mean" in export.get_data(as_text=True)


def test_a_kind_on_record_that_this_version_lacks_is_offered(
    admin: FlaskClient, store: Store
) -> None:
    add(store, EventRecord(ts=LATE_EVENING, kind="door_ajar", reason="sensor"))
    page = admin.get("/events?kind=door_ajar").get_data(as_text=True)
    assert "<legend>Other</legend>" in page and 'value="door_ajar" checked' in page
    assert "Door ajar: sensor" in page


def test_local_time_and_date_range_use_the_box_zone(admin: FlaskClient, store: Store) -> None:
    add(store, EventRecord(ts=LATE_EVENING, kind="granted", holder="Night Shift"))
    page = admin.get("/events?kind=granted").get_data(as_text=True)
    assert "2026-03-09 23:30:00 MDT" in page and "Times are in America/Denver" in page
    # The 9th in Denver holds it, though it is the 10th in UTC.
    assert "Night Shift" in admin.get("/events?from=2026-03-09&to=2026-03-09").get_data(
        as_text=True
    )
    assert "Night Shift" not in admin.get("/events?from=2026-03-10").get_data(as_text=True)
    assert "Night Shift" not in admin.get("/events?to=2026-03-08").get_data(as_text=True)


def test_admin_events_show_their_action(admin: FlaskClient, store: Store) -> None:
    store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", actor="web:boss")
    store.cards.set_status(serial="KW-1", status="lost", reason="left on the bus", actor="web:boss")
    page = admin.get("/events?kind=admin&serial=KW-1").get_data(as_text=True)
    assert "Fob KW-1 (Ms. Shah) reported lost by boss: left on the bus" in page
    assert "Fob KW-1 issued to Ms. Shah (staff) by boss" in page
    assert "set_status" not in page and "add_credential" not in page


def test_mode_changes_read_which_way_they_went(admin: FlaskClient, store: Store) -> None:
    store.door.set_mode("lockdown", reason="drill", actor="web:alice")
    store.door.set_mode("normal", reason="drill over", actor="web:alice")
    page = admin.get("/events?kind=mode").get_data(as_text=True)
    assert "Lockdown started by alice: drill" in page
    assert "Lockdown lifted by alice: drill over" in page
    table = list(csv.reader(io.StringIO(admin.get("/events/export.csv?kind=mode").get_data(True))))
    text, mode = CSV_COLUMNS["text"], CSV_COLUMNS["mode"]
    assert [(r[text], r[mode]) for r in table[1:]] == [
        ("Lockdown lifted by alice: drill over", "normal"),
        ("Lockdown started by alice: drill", "lockdown"),
    ]


def test_paging_by_id_newest_first(admin: FlaskClient, store: Store) -> None:
    add(store, *(EventRecord(ts=LATE_EVENING + i, kind="rex", reason=f"r{i}") for i in range(250)))
    first = admin.get("/events?kind=rex").get_data(as_text=True)
    ids = [int(i) for i in rows_of(first)]
    assert len(ids) == 100 and ids == sorted(ids, reverse=True)
    assert "Newer" not in first and f"before={ids[-1]}" in first
    second = admin.get(f"/events?kind=rex&before={ids[-1]}").get_data(as_text=True)
    ids2 = [int(i) for i in rows_of(second)]
    assert len(ids2) == 100 and ids2[0] == ids[-1] - 1 and f"after={ids2[0]}" in second
    third = admin.get(f"/events?kind=rex&before={ids2[-1]}").get_data(as_text=True)
    ids3 = [int(i) for i in rows_of(third)]
    assert len(ids3) == 50 and "Older" not in third
    back = admin.get(f"/events?kind=rex&after={ids2[0]}").get_data(as_text=True)
    assert [int(i) for i in rows_of(back)] == ids and "Newer" not in back
    assert f"before={ids[-1]}" in back


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("from=2026-02-30", "From date must be a date written YYYY-MM-DD"),
        ("to=yesterday", "To date must be a date written YYYY-MM-DD"),
        ("from=2026-03-10&to=2026-03-01", "To date is before From date"),
        ("from=0001-01-01", "From date must be in the years 1970 to 9998"),
        ("kind=%3Cscript%3E", "is not an event kind"),
        ("before=-1", "must be a whole number"),
        ("before=5&after=2", "not both"),
        ("holder=" + "x" * 201, "limit is 200"),
        ("serial=a%01b", "control character"),
    ],
)
def test_bad_input_is_400_with_a_message(admin: FlaskClient, query: str, needle: str) -> None:
    response = admin.get(f"/events?{query}")
    assert response.status_code == 400
    assert needle in response.get_data(as_text=True)
    export = admin.get(f"/events/export.csv?{query}")
    if "before" not in query:
        assert export.status_code == 400 and needle in export.get_data(as_text=True)


def test_text_from_the_log_is_escaped(admin: FlaskClient, store: Store) -> None:
    add(store, EventRecord(ts=LATE_EVENING, kind="denied", holder="<script>alert(1)</script>"))
    page = admin.get("/events").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_csv_export_streams_the_filter(admin: FlaskClient, store: Store) -> None:
    add(
        store,
        EventRecord(ts=LATE_EVENING, kind="denied", holder='=HYPERLINK("http://x")', serial="A"),
        EventRecord(ts=LATE_EVENING + 1, kind="denied", holder="+1", reason="-2", actor="@me"),
        EventRecord(ts=LATE_EVENING + 2, kind="granted", holder="Plain Name", serial="B"),
        *(EventRecord(ts=LATE_EVENING + 3, kind="rex") for _ in range(2500)),
    )
    response = admin.get("/events/export.csv?kind=denied")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=doorward-events-")
    assert disposition.endswith(".csv")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert table[0] == list(events.CSV_HEADER)
    assert [r[6] for r in table[1:]] == ["'+1", '\'=HYPERLINK("http://x")']
    assert table[1][4] == "'-2" and table[1][9] == "'@me"
    assert table[2][1] == "2026-03-09T23:30:00-06:00"  # local, with its offset
    # The sentence is a cell like any other (one that starts with "=" gets its quote).
    assert table[1][CSV_COLUMNS["text"]] == "Denied: a card (+1): -2"
    assert table[2][CSV_COLUMNS["text"]] == 'Denied: fob A (=HYPERLINK("http://x"))'
    assert table[2][CSV_COLUMNS["mode"]] == ""
    # Many batches: every rex event, newest first, nothing left out.
    rex = list(csv.reader(io.StringIO(admin.get("/events/export.csv?kind=rex").get_data(True))))
    ids = [int(r[0]) for r in rex[1:]]
    assert len(ids) == 2500 and ids == sorted(ids, reverse=True)
    assert not list(Path(store.path.parent).glob("*.csv"))  # nothing written to the box


def test_export_link_carries_the_filter(admin: FlaskClient, store: Store) -> None:
    add(store, EventRecord(ts=LATE_EVENING, kind="denied", holder="Ms. Shah"))
    page = admin.get("/events?kind=denied&holder=Ms.+Shah").get_data(as_text=True)
    assert "/events/export.csv?" in page and "kind=denied" in page and "holder=Ms.+Shah" in page


@pytest.mark.parametrize("role", ["admin", "operator", "auditor"])
def test_every_role_may_view_and_export(app: Flask, role: str) -> None:
    client = signed_in(app, role)
    assert client.get("/events").status_code == 200
    assert client.get("/events/export.csv").status_code == 200


def test_signed_out_is_sent_to_sign_in(app: Flask) -> None:
    client = app.test_client()
    for path in ("/events", "/events/export.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/login?next=" in response.headers["Location"]


def test_a_sentence_that_starts_like_a_formula_is_neutralised() -> None:
    when = datetime.fromtimestamp(LATE_EVENING, UTC)
    row = EventRow(1, when, "door_open", "=2+2", *[None] * 7)
    assert events.csv_row(row, UTC)[CSV_COLUMNS["text"]] == "'=2+2"


def test_safe_cell() -> None:
    assert [events.safe_cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "ok", None, 5)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "ok",
        "",
        "5",
    ]


def test_without_a_zone_the_system_local_time_is_used(
    app: Flask, admin: FlaskClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = app.extensions["doorward"]
    monkeypatch.setattr(web, "config", web.config.model_copy(update={"timezone": None}))
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        add(store, EventRecord(ts=LATE_EVENING, kind="granted", holder="Night Shift"))
        page = admin.get("/events?from=2026-03-10&to=2026-03-10").get_data(as_text=True)
        assert "the box&#39;s local time (JST)" in page
        assert "2026-03-10 14:30:00 JST" in page and "Night Shift" in page
        assert "Night Shift" not in admin.get("/events?to=2026-03-09").get_data(as_text=True)
    finally:
        monkeypatch.undo()
        time.tzset()
