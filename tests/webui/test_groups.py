"""Groups: the list in plain words, the weekly schedule editor, holidays, and fixed responders."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from appliance.store import GroupRow, ScheduleWindow, Store
from tests.webui.conftest import AuthActions, FakeController, assert_refused

SCRIPT = "<script>alert(1)</script>"

TWO_WINDOWS = {
    "name": "custodians",
    "doors_mode": "listed",
    "doors": "Front entrance",
    "when": "schedule",
    "rows": "2",
    "days-0": "mon-fri",
    "start-0": "06:30",
    "end-0": "18:00",
    "days-1": "custom",
    "custom-1": "sat",
    "start-1": "8:00",
    "end-1": "12:00",
    "holidays": "2026-12-25\n2026-01-01",
    "pin_required": "yes",
    "save": "1",
}


def group(store: Store, name: str) -> GroupRow:
    return next(g for g in store.groups.list() if g.name == name)


def test_the_built_in_groups_in_plain_words(app: Flask, store: Store) -> None:
    client = app.test_client()
    AuthActions(client).login("auditor")
    page = client.get("/groups").get_data(as_text=True)
    responders = page.split(f'id="group-{group(store, "responders").id}"')[1].split("</tr>")[0]
    staff = page.split(f'id="group-{group(store, "staff").id}"')[1].split("</tr>")[0]
    assert "every door" in responders and "at all times" in responders
    assert "Opens during lockdown" in responders and "Locked out" not in responders
    assert "Front entrance" in staff and "Locked out during lockdown" in staff
    assert "Add a group" not in page and "/edit" not in page  # an auditor only reads


def test_schedule_editor_round_trip(
    admin: FlaskClient, store: Store, controller: FakeController
) -> None:
    assert admin.get("/groups/add").status_code == 200
    response = admin.post("/groups/add", data=TWO_WINDOWS)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "refresh" in controller.commands()
    added = group(store, "custodians")
    assert (added.all_doors, added.doors, added.always) == (False, ("Front entrance",), False)
    assert added.schedule == (
        ScheduleWindow((0, 1, 2, 3, 4), "06:30", "18:00"),
        ScheduleWindow((5,), "08:00", "12:00"),
    )
    assert added.holidays == (date(2026, 1, 1), date(2026, 12, 25))
    assert (added.lockdown_immune, added.pin_required) == (False, True)
    listed = admin.get("/groups").get_data(as_text=True).split(f'id="group-{added.id}"')[1]
    row = listed.split("</tr>")[0]
    for text in (
        "Monday to Friday 06:30–18:00",
        "Sat 08:00–12:00",
        "2026-01-01, 2026-12-25",
        "Locked out during lockdown",
        "PIN required",
    ):
        assert text in row, text

    form = admin.get(f"/groups/{added.id}/edit").get_data(as_text=True)
    assert 'value="06:30"' in form and 'value="sat"' in form and "2026-12-25" in form
    edit = {
        "doors_mode": "all",
        "when": "schedule",
        "rows": "1",
        "days-0": "custom",
        "custom-0": "tue-thu",
        "start-0": "22:00",
        "end-0": "02:00",
        "holidays": "",
        "lockdown_immune": "yes",
        "save": "1",
    }
    assert admin.post(f"/groups/{added.id}/edit", data=edit).status_code == 302
    changed = group(store, "custodians")
    assert changed.all_doors and changed.holidays == () and changed.lockdown_immune
    assert changed.schedule == (ScheduleWindow((1, 2, 3), "22:00", "02:00"),)
    assert not changed.pin_required
    row = admin.get("/groups").get_data(as_text=True).split(f'id="group-{added.id}"')[1]
    assert "Tue, Wed, Thu 22:00–02:00" in row.split("</tr>")[0]
    assert "Opens during lockdown" in row.split("</tr>")[0]

    always = {"doors_mode": "all", "when": "always", "rows": "1", "days-0": "mon-fri"}
    assert admin.post(f"/groups/{added.id}/edit", data=always).status_code == 302
    assert group(store, "custodians").always and group(store, "custodians").schedule == ()
    (event,) = store.events.query(kinds=["admin"], limit=1)
    assert event.actor == "web:admin"


def test_add_and_remove_rows_without_javascript(admin: FlaskClient, store: Store) -> None:
    before = store.current_rev()
    added = admin.post("/groups/add", data={**TWO_WINDOWS, "add_row": "1"})
    page = added.get_data(as_text=True)
    assert added.status_code == 200
    assert 'name="rows" value="3"' in page and 'name="start-2"' in page
    assert 'value="06:30"' in page and 'value="8:00"' in page  # typed values are kept
    removed = admin.post("/groups/add", data={**TWO_WINDOWS, "remove_row": "0"})
    page = removed.get_data(as_text=True)
    assert 'name="rows" value="1"' in page and 'value="8:00"' in page
    assert 'value="06:30"' not in page
    assert store.current_rev() == before  # editing rows saves nothing


def test_blank_rows_are_ignored(admin: FlaskClient, store: Store) -> None:
    data = {**TWO_WINDOWS, "rows": "3", "days-2": "daily", "start-2": "", "end-2": ""}
    assert admin.post("/groups/add", data=data).status_code == 302
    assert len(group(store, "custodians").schedule) == 2


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"name": ""}, "Name is required"),
        ({"name": "staff"}, "group &#39;staff&#39; already exists"),
        ({"end-1": "25:00"}, "row 2: time &#39;25:00&#39; is not a time of day"),
        ({"start-0": "7am"}, "row 1: time &#39;7am&#39; is not HH:MM"),
        ({"custom-1": "funday"}, "row 2: unknown day &#39;funday&#39;"),
        ({"days-0": "weekdays"}, "row 1: days must be one of"),
        ({"start-1": "12:00"}, "row 2: starts and ends at 12:00"),
        ({"rows": "0"}, "needs at least one row"),
        ({"rows": "51"}, "Number of schedule rows must be from 0 to 50"),
        ({"holidays": "2026-02-30"}, "holiday &#39;2026-02-30&#39; is not a date"),
        ({"holidays": "christmas"}, "is not a date YYYY-MM-DD"),
        ({"doors": " , "}, "name at least one door"),
        ({"doors_mode": "some"}, "Doors must be one of"),
        ({"when": "sometimes"}, "When must be one of"),
    ],
)
def test_bad_group_input_is_refused_and_changes_nothing(
    admin: FlaskClient, store: Store, change: dict[str, str], needle: str
) -> None:
    before = store.current_rev()
    response = admin.post("/groups/add", data={**TWO_WINDOWS, **change})
    assert_refused(response, needle)
    assert store.current_rev() == before
    assert "custodians" not in {g.name for g in store.groups.list()}


def test_edit_refuses_bad_input(admin: FlaskClient, store: Store) -> None:
    staff = group(store, "staff")
    before = store.current_rev()
    bad = {k: v for k, v in TWO_WINDOWS.items() if k != "name"} | {"end-0": "99:99"}
    response = admin.post(f"/groups/{staff.id}/edit", data=bad)
    assert_refused(response, "row 1")
    assert store.current_rev() == before and group(store, "staff") == staff
    assert admin.get("/groups/999/edit").status_code == 404


def test_responders_are_read_only(admin: FlaskClient, store: Store) -> None:
    responders = group(store, "responders")
    page = admin.get(f"/groups/{responders.id}/edit").get_data(as_text=True)
    assert "cannot be changed" in page and 'name="save"' not in page
    assert ">View</a>" in admin.get("/groups").get_data(as_text=True)
    before = store.current_rev()
    data = {**TWO_WINDOWS, "lockdown_immune": ""}
    response = admin.post(f"/groups/{responders.id}/edit", data=data)
    assert_refused(response, "responders group cannot be changed")
    assert store.current_rev() == before and group(store, "responders") == responders


def test_html_in_group_and_door_names_is_text(admin: FlaskClient, store: Store) -> None:
    data = {**TWO_WINDOWS, "name": "<b>x</b>", "doors": SCRIPT}
    assert admin.post("/groups/add", data=data).status_code == 302
    page = admin.get("/groups").get_data(as_text=True)
    assert "<b>x</b>" not in page and SCRIPT not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page and "&lt;script&gt;" in page
    form = admin.post("/groups/add", data={**TWO_WINDOWS, "name": SCRIPT, "end-0": SCRIPT})
    assert form.status_code == 400 and SCRIPT not in form.get_data(as_text=True)
