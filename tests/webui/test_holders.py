"""Holders and agencies: list, search, paging, add, edit, escaping, and who may do what."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from appliance.store import Store
from tests.webui.conftest import BAD_LIST_QUERIES, assert_refused

SCRIPT = "<script>alert(1)</script>"


def holder_id(store: Store, name: str) -> int:
    return next(h.id for h in store.holders.list() if h.name == name)


def test_list_shows_agency_badge_contact_and_fob_count(admin: FlaskClient, store: Store) -> None:
    store.holders.add(
        "Officer Ortiz", agency="Casper PD", badge="B-77", contact="555-0100", actor="t"
    )
    store.cards.add("H10301", 100, 1001, "Officer Ortiz", group="responders", actor="t")
    store.cards.add("H10301", 100, 1002, "Officer Ortiz", group="responders", actor="t")
    store.holders.add("Mr. Idle", actor="t")
    page = admin.get("/holders").get_data(as_text=True)
    for text in ("Officer Ortiz", "Casper PD", "B-77", "555-0100", "Mr. Idle", "2 holder(s)"):
        assert text in page, text
    row = page.split("Officer Ortiz</td>")[1].split("</tr>")[0]
    assert ">2</a>" in row
    assert f"/holders/{holder_id(store, 'Officer Ortiz')}/edit" in page


def test_search_by_name_agency_or_badge(admin: FlaskClient, store: Store) -> None:
    store.holders.add("Officer Ortiz", agency="Casper PD", actor="t")
    store.holders.add("Deputy Ruiz", agency="Natrona SO", badge="N-9", actor="t")
    by_agency = admin.get("/holders?q=casper").get_data(as_text=True)
    assert "Officer Ortiz" in by_agency and "Deputy Ruiz" not in by_agency
    by_name = admin.get("/holders?q=ruiz").get_data(as_text=True)
    assert "Deputy Ruiz" in by_name and "Officer Ortiz" not in by_name
    assert "Deputy Ruiz" in admin.get("/holders?q=N-9").get_data(as_text=True)
    assert "0 holder(s)" in admin.get("/holders?q=100%25").get_data(as_text=True)  # % is literal


def test_paging_fifty_a_page(admin: FlaskClient, store: Store) -> None:
    for i in range(60):
        store.holders.add(f"Holder {i:03}", actor="t")
    first = admin.get("/holders").get_data(as_text=True)
    assert "60 holder(s), page 1 of 2" in first and "Holder 049" in first
    assert "Holder 050" not in first and "page=2" in first
    second = admin.get("/holders?page=2").get_data(as_text=True)
    assert "Holder 050" in second and "Holder 059" in second and "Holder 049" not in second
    assert "page 2 of 2" in admin.get("/holders?page=99").get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "needle"),
    [*BAD_LIST_QUERIES, ("page=x", "Page must be a whole number")],
)
def test_bad_search_input_is_400(admin: FlaskClient, query: str, needle: str) -> None:
    assert_refused(admin.get(f"/holders?{query}"), needle)


def test_agencies_count_holders_and_fobs(admin: FlaskClient, store: Store) -> None:
    store.holders.add("A1", agency="Casper PD", actor="t")
    store.holders.add("A2", agency="Casper PD", actor="t")
    store.holders.add("B1", agency="Natrona SO", actor="t")
    store.holders.add("Nobody", actor="t")
    store.cards.add("H10301", 1, 1, "A1", actor="t")
    store.cards.add("H10301", 1, 2, "A1", actor="t")
    store.cards.add("H10301", 1, 3, "A2", actor="t")
    page = admin.get("/holders/agencies").get_data(as_text=True)
    rows = {r.split("</tr>")[0] for r in page.split("<tr>")[2:]}
    casper = next(r for r in rows if ">Casper PD</a>" in r)
    natrona = next(r for r in rows if ">Natrona SO</a>" in r)
    assert "<td>2</td><td>3</td>" in casper and "<td>1</td><td>0</td>" in natrona
    assert "(no agency)" in page
    assert directory_rows(store) == [("Casper PD", 2, 3), ("Natrona SO", 1, 0), (None, 1, 0)]


def directory_rows(store: Store) -> list[tuple[str | None, int, int]]:
    assert isinstance(store, Store)
    return [(a.name, a.holders, a.credentials) for a in store.holders.agencies()]


def test_add_a_holder(admin: FlaskClient, store: Store) -> None:
    response = admin.post(
        "/holders/add",
        data={"name": "Sgt. Hale", "agency": "Casper PD", "badge": "77", "notes": "two\nlines"},
    )
    assert response.status_code == 302
    (row,) = store.holders.list()
    assert (row.name, row.agency, row.badge, row.contact, row.notes) == (
        "Sgt. Hale",
        "Casper PD",
        "77",
        None,
        "two\nlines",
    )
    (event,) = store.events.query(kinds=["admin"], limit=1)
    assert event.actor == "web:admin"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({"name": ""}, "Name is required"),
        ({"name": "x" * 201}, "limit is 200"),
        ({"name": "Ok", "badge": "b" * 65}, "limit is 64"),
        ({"name": "Bad\x00name"}, "control character"),
        ({"name": "Ok", "notes": "n" * 2001}, "limit is 2000"),
        ({"name": "Ms. Shah"}, "already exists"),
    ],
)
def test_add_refuses_bad_input_and_changes_nothing(
    admin: FlaskClient, store: Store, data: dict[str, str], needle: str
) -> None:
    store.holders.add("Ms. Shah", actor="t")
    before = store.current_rev()
    response = admin.post("/holders/add", data=data)
    assert_refused(response, needle)
    assert store.current_rev() == before


def test_edit_changes_and_clears_fields(admin: FlaskClient, store: Store) -> None:
    store.holders.add("Ms. Shah", agency="School", badge="S1", contact="x@y", actor="t")
    hid = holder_id(store, "Ms. Shah")
    page = admin.get(f"/holders/{hid}/edit").get_data(as_text=True)
    assert 'value="School"' in page and 'value="S1"' in page
    data = {"name": "Ms. Shah", "agency": "District", "badge": "", "contact": "x@y"}
    assert admin.post(f"/holders/{hid}/edit", data=data).status_code == 302
    (row,) = store.holders.list()
    assert (row.agency, row.badge, row.contact) == ("District", None, "x@y")


def test_edit_refuses_bad_input_and_unknown_holder(admin: FlaskClient, store: Store) -> None:
    store.holders.add("Ms. Shah", agency="School", actor="t")
    hid = holder_id(store, "Ms. Shah")
    before = store.current_rev()
    bad = admin.post(f"/holders/{hid}/edit", data={"name": "Ms. Shah", "agency": "a" * 201})
    assert_refused(bad, "limit is 200")
    stale = admin.post(f"/holders/{hid}/edit", data={"name": "Someone else", "agency": "X"})
    assert_refused(stale, "not for this holder")
    assert store.current_rev() == before
    assert admin.get("/holders/999/edit").status_code == 404
    assert admin.post("/holders/999/edit", data={"name": "x"}).status_code == 404


def test_html_in_holder_fields_is_shown_as_text(admin: FlaskClient, store: Store) -> None:
    store.holders.add(SCRIPT, agency=SCRIPT, badge="<b>", contact="<i>", notes=SCRIPT, actor="t")
    for path in ("/holders", "/holders/agencies", f"/holders/{holder_id(store, SCRIPT)}/edit"):
        page = admin.get(path).get_data(as_text=True)
        assert SCRIPT not in page and "<b>" not in page, path
        assert "&lt;script&gt;" in page, path
