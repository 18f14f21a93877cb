"""The fast query paths keep their meaning: case-blind search, several event kinds in id order."""

from __future__ import annotations

from appliance.store import EventRecord, Store


def test_search_ignores_case(store: Store) -> None:
    store.cards.add("H10301", 1, 7, "Officer Jane Ortiz", serial="cpd-0042", actor="t")
    for term in ("ORTIZ", "ortiz", "CPD-00", "jane"):
        assert [r.holder for r in store.cards.list(search=term)] == ["Officer Jane Ortiz"]


def test_several_kinds_come_back_merged_in_id_order_and_cut_at_the_limit(store: Store) -> None:
    kinds = ["granted", "denied", "locked", "admin_x"]
    store.events.append(
        [EventRecord(ts=1000.0 + i, kind=kinds[i % 4], serial=f"S{i % 3}") for i in range(200)]
    )
    for newest_first in (True, False):
        got = store.events.query(
            kinds=["denied", "granted", "denied"], limit=25, newest_first=newest_first
        )
        every = store.events.query(limit=1000, newest_first=newest_first)
        expected = [e.id for e in every if e.kind in ("granted", "denied")][:25]
        assert [e.id for e in got] == expected
    one = store.events.query(kinds=["granted", "locked"], serial="S1", limit=10)
    assert one and all(e.serial == "S1" and e.kind in ("granted", "locked") for e in one)


def test_search_terms_are_literal_not_patterns(store: Store) -> None:
    store.holders.add("Officer 50% Off_Duty", actor="t")
    store.holders.add("Officer 500 Offxduty", actor="t")
    for term in ("0%", "f_D"):
        assert [h.name for h in store.holders.search(search=term)] == ["Officer 50% Off_Duty"]
