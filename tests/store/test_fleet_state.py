"""The fleet link state: what the agent writes is what the page reads; no rev, no event, no junk."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from appliance.store import Store, StoreError
from appliance.store.fleet.link import MAX_STATUS_CHARS

STATUS: dict[str, Any] = {
    "connected": True,
    "broker": "mqtts://broker.district.example:8883",
    "box_id": "lincoln-front",
    "school": "Lincoln Elementary",
    "list_version": 42,
    "list_applied_at": "2026-01-31T14:00:00+00:00",
    "last_message_at": "2026-01-31T14:00:01+00:00",
    "outbox_pending": 0,
    "last_rejection": {"at": "2026-01-31T13:00:00+00:00", "topic": "d/x", "reason": "bad sig"},
    "rejections": 3,
    "latency_s": 0.25,
    "alarms": ["tamper"],
    "note": None,
}


def test_never_written_is_empty(store: Store) -> None:
    assert store.fleet.status() == {}


def test_written_status_is_read_back_by_another_process(store: Store, other: Store) -> None:
    store.fleet.set_status(STATUS)
    assert other.fleet.status() == STATUS


def test_a_write_replaces_the_whole_status(store: Store) -> None:
    store.fleet.set_status(STATUS)
    store.fleet.set_status({"connected": False})
    assert store.fleet.status() == {"connected": False}


def test_no_rev_bump_and_no_event(store: Store) -> None:
    rev = store.current_rev()
    before = store.events.query(limit=1000)
    store.fleet.set_status(STATUS)
    store.fleet.set_status({**STATUS, "connected": False})
    assert store.current_rev() == rev
    assert store.events.query(limit=1000) == before


def test_the_returned_dict_is_a_copy(store: Store) -> None:
    store.fleet.set_status(STATUS)
    got = store.fleet.status()
    got["connected"] = False
    assert store.fleet.status()["connected"] is True


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ([1, 2], "must be a JSON object, not list"),
        ("connected", "must be a JSON object, not str"),
        (None, "must be a JSON object, not NoneType"),
        ({1: True}, "key 1 must be"),
        ({"": True}, "key '' must be"),
        ({"bad key": True}, "key 'bad key' must be"),
        ({"k" * 65: True}, "must be 1-64"),
        ({"at": object()}, "at must be text, a number"),
        ({"at": b"bytes"}, "not bytes"),
        ({"x": {"y": {"z": {"deep": 1}}}}, "nested more than 3 levels"),
        ({"x": float("nan")}, "finite number"),
        ({"x": float("inf")}, "finite number"),
        ({"x": 2**64}, "too large"),
        ({"reason": "a\x00b"}, "control character"),
        ({"reason": "r" * 2001}, "the limit is 2000"),
        ({"list": list(range(201))}, "201 items"),
        ({f"k{i}": i for i in range(201)}, "201 keys"),
        ({"last_rejection": {"at": set()}}, "last_rejection.at must be"),
    ],
)
def test_hostile_status_is_refused_and_changes_nothing(
    store: Store, status: Any, words: str
) -> None:
    store.fleet.set_status(STATUS)
    with pytest.raises(StoreError, match="fleet status") as err:
        store.fleet.set_status(status)
    assert words in str(err.value)
    assert store.fleet.status() == STATUS


def test_oversized_status_is_refused(store: Store) -> None:
    big = {f"k{i}": "x" * 2000 for i in range(40)}
    with pytest.raises(StoreError, match=f"the limit is {MAX_STATUS_CHARS}"):
        store.fleet.set_status(big)
    assert store.fleet.status() == {}


def test_unreadable_stored_text_reads_as_empty(store: Store) -> None:
    with sqlite3.connect(store.path) as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('fleet.status', '[not an object')")
    assert store.fleet.status() == {}


def test_before_init_says_so(tmp_path: Any) -> None:
    with Store(tmp_path / "fresh.db") as fresh, pytest.raises(StoreError, match="doorward init"):
        fresh.fleet.status()


def test_a_busy_agents_status_fits(store: Store) -> None:
    """The most the agent writes: 100 conflict lines, a long rejection detail, Unix times."""
    status = {
        **STATUS,
        "at": 1_769_868_000.25,
        "list_applied_at": 1_769_868_000.5,
        "conflicts": [f"H10301:12:{n} is a local card on this box: {'x' * 90}" for n in range(100)],
        "last_rejection": {"at": 1.5, "topic": "t" * 300, "reason": "r", "detail": "d" * 2000},
    }
    store.fleet.set_status(status)
    assert store.fleet.status() == status
