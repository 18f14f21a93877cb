"""Accountability: responder entries and their review, fob reports, and the 0002 migration."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from appliance.config import Config, load_config
from appliance.store import EventRecord, Store, StoreError
from appliance.testing.box import write_config
from tests.webui.conftest import assert_refused, copied_store, signed_in

DAY = 86_400.0
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC).timestamp()


AccStore = Store  # the mixin is part of Store now


class Clock:
    """The store's wall clock, moved by the test."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def wall() -> Clock:
    return Clock()


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path)).model_copy(update={"timezone": "America/Denver"})


@pytest.fixture
def store(config: Config, initialised_db: Path, wall: Clock) -> Iterator[Store]:
    with copied_store(config, initialised_db, clock=wall) as s:
        yield s


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    return signed_in(app, "admin")


def entry(store: Store, ts: float, holder: str = "Deputy Ruiz", responder: bool = True) -> int:
    detail = {"card_id": 1, "responder": True} if responder else {"card_id": 1}
    record = EventRecord(
        ts=ts,
        kind="granted",
        credential="H10301:100:4242",
        holder=holder,
        serial="NCSO-7",
        door="Front entrance",
        detail=detail,
    )
    store.events.append([record])
    newest = store.events.query(limit=1)[0]
    assert newest.holder == holder
    return newest.id


def api(store: Store) -> Store:
    assert isinstance(store, Store)
    return store


# -- responder entries and reviews ------------------------------------------------------------


def test_responder_entries_listed_with_review_state(admin: FlaskClient, store: Store) -> None:
    first = entry(store, START + 60)
    entry(store, START + 120, holder="Staff Member", responder=False)
    second = entry(store, START + 180, holder="Officer Ortiz")
    page = admin.get("/accountability").get_data(as_text=True)
    assert "2 responder entries, 2 not yet reviewed" in page
    assert "Staff Member" not in page
    assert page.index(f'id="entry-{second}"') < page.index(f'id="entry-{first}"')
    assert f"/accountability/{first}/review" in page
    assert "2026-01-05 08:01:00 MST" in page  # local time, with the zone


def test_an_entry_says_the_mode_in_words(admin: FlaskClient, store: Store) -> None:
    detail = {"card_id": 1, "responder": True, "mode": "held_unlocked"}
    store.events.append([EventRecord(ts=START, kind="granted", holder="Dep. Ruiz", detail=detail)])
    eid = store.events.query(limit=1)[0].id
    assert "(during held unlocked)" in admin.get("/accountability").get_data(as_text=True)
    review = admin.get(f"/accountability/{eid}/review").get_data(as_text=True)
    assert "<dd>held unlocked</dd>" in review and "held_unlocked" not in review


def test_admin_reviews_an_entry(admin: FlaskClient, store: Store, wall: Clock) -> None:
    eid = entry(store, START + 60)
    wall.now = START + DAY
    form = admin.get(f"/accountability/{eid}/review").get_data(as_text=True)
    assert "Deputy Ruiz" in form and "Record review" in form
    rev = store.current_rev()
    response = admin.post(
        f"/accountability/{eid}/review", data={"incident": "CPD-26-0042", "note": "alarm call"}
    )
    assert response.status_code == 302
    done = api(store).reviews.responder_entry(eid)
    assert done is not None and done.incident == "CPD-26-0042" and done.note == "alarm call"
    assert done.reviewer == "web:admin" and done.reviewed_at == datetime.fromtimestamp(
        START + DAY, UTC
    )
    assert store.current_rev() == rev + 1
    logged = store.events.query(kinds=["admin"], limit=1)[0]
    assert logged.actor == "web:admin" and logged.detail is not None
    assert logged.detail["action"] == "review" and logged.detail["event_id"] == eid
    assert logged.detail["incident"] == "CPD-26-0042"
    reviewed = admin.get("/accountability?state=reviewed").get_data(as_text=True)
    assert "Incident CPD-26-0042" in reviewed and "reviewed by web:admin" in reviewed
    assert "2026-01-06 08:00:00 MST" in reviewed
    assert f'id="entry-{eid}"' not in admin.get("/accountability?state=unreviewed").get_data(
        as_text=True
    )
    # A second review is refused and changes nothing.
    again = admin.post(f"/accountability/{eid}/review", data={"incident": "other"})
    assert again.status_code == 409 and "already reviewed by web:admin" in again.get_data(True)
    assert api(store).reviews.responder_entry(eid) == done and store.current_rev() == rev + 1


def test_a_reason_alone_is_enough(admin: FlaskClient, store: Store) -> None:
    eid = entry(store, START)
    assert admin.post(f"/accountability/{eid}/review", data={"note": "drill"}).status_code == 302
    done = api(store).reviews.responder_entry(eid)
    assert done is not None and done.incident is None and done.note == "drill"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({}, "give the incident number or the reason"),
        ({"incident": "  ", "note": ""}, "give the incident number or the reason"),
        ({"incident": "x" * 101}, "limit is 100"),
        ({"incident": "a\x00b"}, "control character"),
        ({"note": "y" * 2001}, "limit is 2000"),
    ],
)
def test_bad_review_is_400_and_changes_nothing(
    admin: FlaskClient, store: Store, data: dict[str, str], needle: str
) -> None:
    eid = entry(store, START)
    rev = store.current_rev()
    response = admin.post(f"/accountability/{eid}/review", data=data)
    assert_refused(response, needle)
    done = api(store).reviews.responder_entry(eid)
    assert done is not None and done.reviewer is None and store.current_rev() == rev


def test_only_responder_entries_can_be_reviewed(admin: FlaskClient, store: Store) -> None:
    staff = entry(store, START, holder="Staff", responder=False)
    assert admin.get(f"/accountability/{staff}/review").status_code == 404
    assert admin.post(f"/accountability/{staff}/review", data={"note": "x"}).status_code == 404
    assert admin.get("/accountability/999999/review").status_code == 404
    with pytest.raises(StoreError, match="not a responder entry"):
        api(store).reviews.review(staff, incident="1", note=None, actor="t")


def test_auditor_sees_but_cannot_review(app: Flask, store: Store) -> None:
    eid = entry(store, START)
    auditor = signed_in(app, "auditor")
    page = auditor.get("/accountability").get_data(as_text=True)
    assert "Deputy Ruiz" in page and "not reviewed" in page
    assert f"/accountability/{eid}/review" not in page
    assert auditor.get(f"/accountability/{eid}/review").status_code == 403
    assert auditor.post(f"/accountability/{eid}/review", data={"note": "x"}).status_code == 403
    done = api(store).reviews.responder_entry(eid)
    assert done is not None and done.reviewer is None


def test_operator_gets_403_everywhere(app: Flask, store: Store) -> None:
    eid = entry(store, START)
    operator = signed_in(app, "operator")
    for path in (
        "/accountability",
        f"/accountability/{eid}/review",
        "/accountability/reports/never_used",
        "/accountability/reports/not_seen",
        "/accountability/reports/lost",
    ):
        assert operator.get(path).status_code == 403, path
    assert operator.post(f"/accountability/{eid}/review", data={"note": "x"}).status_code == 403


def test_review_state_filter_and_paging(admin: FlaskClient, store: Store) -> None:
    ids = [entry(store, START + i) for i in range(130)]
    first = admin.get("/accountability?state=unreviewed").get_data(as_text=True)
    assert first.count('id="entry-') == 100 and f"before={ids[30]}" in first
    second = admin.get(f"/accountability?state=unreviewed&before={ids[30]}").get_data(True)
    assert second.count('id="entry-') == 30 and f"after={ids[29]}" in second
    assert "Older" not in second


@pytest.mark.parametrize(
    ("query", "needle"),
    [("state=maybe", "state must be one of"), ("before=x", "must be a whole number")],
)
def test_bad_list_input_is_400(admin: FlaskClient, query: str, needle: str) -> None:
    assert_refused(admin.get(f"/accountability?{query}"), needle)


def test_review_text_is_escaped(admin: FlaskClient, store: Store) -> None:
    eid = entry(store, START, holder="<b>bold</b>")
    admin.post(f"/accountability/{eid}/review", data={"note": "<script>x()</script>"})
    page = admin.get("/accountability").get_data(as_text=True)
    assert "<script>x()" not in page and "&lt;script&gt;x()" in page and "<b>bold" not in page


# -- fob reports ------------------------------------------------------------------------------


def _fob(store: Store, number: int, holder: str) -> str:
    store.cards.add("H10301", 12, number, holder, serial=f"S-{number}", actor="t")
    return f"H10301:12:{number}"


def _presented(store: Store, card: str, ts: float, kind: str = "granted") -> None:
    store.events.append([EventRecord(ts=ts, kind=kind, credential=card)])


@pytest.fixture
def fleet(store: Store, wall: Clock) -> Store:
    """Fobs issued at START; the clock is then 60 days on."""
    used = _fob(store, 1, "Used Recently")
    old = _fob(store, 2, "Used Long Ago")
    _fob(store, 3, "Never Used")
    denied = _fob(store, 4, "Only Refused")
    lost = _fob(store, 5, "Lost And Tried")
    stolen = _fob(store, 6, "Stolen Untried")
    _presented(store, used, START + 55 * DAY)
    _presented(store, old, START + 2 * DAY)
    _presented(store, denied, START + 50 * DAY, kind="denied")
    _presented(store, lost, START + DAY)
    _presented(store, stolen, START + DAY)
    wall.now = START + 10 * DAY
    store.cards.set_status(serial="S-5", status="lost", reason="dropped", actor="web:admin")
    store.cards.set_status(serial="S-6", status="stolen", reason="car break-in", actor="web:admin")
    _presented(store, lost, START + 5 * DAY, kind="denied")  # before it was marked: not counted
    _presented(store, lost, START + 20 * DAY, kind="denied")
    _presented(store, lost, START + 30 * DAY, kind="denied")
    wall.now = START + 60 * DAY
    _fob(store, 7, "Issued Today")
    return store


def _serials(page: str) -> set[str]:
    return {f"S-{n}" for n in range(1, 8) if f"<td>S-{n}</td>" in page}


def test_never_used_report(admin: FlaskClient, fleet: Store) -> None:
    page = admin.get("/accountability/reports/never_used").get_data(as_text=True)
    assert _serials(page) == {"S-3", "S-4", "S-7"}
    assert "3 fob(s)" in page and "never" in page


def test_not_seen_report(admin: FlaskClient, fleet: Store) -> None:
    page = admin.get("/accountability/reports/not_seen").get_data(as_text=True)
    # 30 days by default: the fob refused 10 days ago was seen; today's fob is too new.
    assert _serials(page) == {"S-2", "S-3"} and "30 day(s)" in page
    assert "2026-01-07 08:00:00 MST" in page  # S-2's last grant, in local time
    week = admin.get("/accountability/reports/not_seen?days=7").get_data(as_text=True)
    assert _serials(week) == {"S-2", "S-3", "S-4"}


def test_lost_report_says_who_tried_since(admin: FlaskClient, fleet: Store) -> None:
    page = admin.get("/accountability/reports/lost").get_data(as_text=True)
    assert _serials(page) == {"S-5", "S-6"}
    tried = page.split('id="fob-5"')[1].split("</tr>")[0]
    assert "refused 2 time(s)" in tried and "2026-02-04 08:00:00 MST" in tried
    assert "dropped" in tried and "web:admin" in tried
    untried = page.split('id="fob-6"')[1].split("</tr>")[0]
    assert "<td>no</td>" in untried and "car break-in" in untried


def test_reports_page_by_id(admin: FlaskClient, store: Store) -> None:
    for n in range(105):
        _fob(store, 100 + n, f"Holder {n:03}")
    first = admin.get("/accountability/reports/never_used").get_data(as_text=True)
    assert first.count('id="fob-') == 100 and "105 fob(s)" in first and "More" in first
    last_id = int(first.split('id="fob-')[100].split('"')[0])
    second = admin.get(f"/accountability/reports/never_used?after={last_id}").get_data(True)
    assert second.count('id="fob-') == 5 and "More" not in second


@pytest.mark.parametrize(
    ("query", "needle"),
    [
        ("days=0", "Days must be from 1 to 3650"),
        ("days=3651", "Days must be from 1 to 3650"),
        ("days=ten", "Days must be a whole number"),
        ("days=-5", "Days must be a whole number"),
        ("after=1.5", "must be a whole number"),
    ],
)
def test_bad_report_input_is_400(admin: FlaskClient, query: str, needle: str) -> None:
    assert_refused(admin.get(f"/accountability/reports/not_seen?{query}"), needle)


def test_unknown_report_is_404(admin: FlaskClient) -> None:
    assert admin.get("/accountability/reports/everything").status_code == 404


def test_auditor_sees_reports(app: Flask, fleet: Store) -> None:
    auditor = signed_in(app, "auditor")
    for report in ("never_used", "not_seen", "lost"):
        assert auditor.get(f"/accountability/reports/{report}").status_code == 200


def test_store_refuses_bad_report_arguments(store: Store) -> None:
    acc = api(store)
    with pytest.raises(StoreError, match="report must be one of"):
        acc.reviews.fob_report("all")
    with pytest.raises(StoreError, match="days must be a whole number from 1 to 3650"):
        acc.reviews.fob_report("not_seen", days=0)
    with pytest.raises(StoreError, match="limit must be 1 to 1000"):
        acc.reviews.responder_entries(limit=0)
    with pytest.raises(StoreError, match="review state must be one of"):
        acc.reviews.responder_entries(state="pending")


# -- indexes ---------------------------------------------------------------------------------


def test_queries_use_the_indexes(fleet: Store) -> None:
    """The plans the 1,000,000-event promise rests on: events are searched by index, not scanned."""
    seen: list[tuple[str, Any]] = []

    def record(conn: object, cursor: object, statement: str, params: Any, *rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    acc = api(fleet)
    engine = fleet._db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        acc.reviews.responder_entries(state="unreviewed")
        acc.reviews.count_responder_entries()
        for report in ("never_used", "not_seen", "lost"):
            acc.reviews.fob_report(report, days=30)
            acc.reviews.count_fob_report(report, days=30)
        acc.events.kinds()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert len(seen) >= 9
    with sqlite3.connect(fleet.path) as raw:
        for sql, params in seen:
            plan = " ".join(r[3] for r in raw.execute(f"EXPLAIN QUERY PLAN {sql}", params))
            assert "SCAN events" not in plan, (sql, plan)
            if "events" in sql:
                assert "INDEX ix_events" in plan or "COVERING INDEX" in plan, (sql, plan)
