"""The audit log: append in one transaction, dedup by source_key, query by filters and time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from appliance.store import EventRecord, Store, StoreError

from .test_schema import _tables

T = 1_720_000_000.0  # 2024-07-03T09:46:40Z


def _swipes(n: int, *, start: float = T, step: float = 60.0) -> list[EventRecord]:
    return [
        EventRecord(
            ts=start + i * step,
            kind="granted" if i % 2 == 0 else "denied",
            reason=None if i % 2 == 0 else "revoked",
            credential=f"H10301:1:{i}",
            holder=f"Holder {i % 3}",
            serial=f"S{i}",
            door="Front door",
            detail={"latency_us": 800 + i},
            source_key=f"journal:{i}",
        )
        for i in range(n)
    ]


def test_append_and_read_back(store: Store) -> None:
    records = _swipes(3)
    assert store.events.append(records) == 3
    rows = store.events.query(kinds=["granted", "denied"], newest_first=False)
    assert [r.credential for r in rows] == ["H10301:1:0", "H10301:1:1", "H10301:1:2"]
    first = rows[0]
    assert first.ts == datetime.fromtimestamp(T, UTC) and first.ts.tzinfo is UTC
    assert first.detail == {"latency_us": 800} and first.source_key == "journal:0"
    assert [r.id for r in rows] == sorted(r.id for r in rows)


def test_replay_is_idempotent(store: Store) -> None:
    assert store.events.append(_swipes(5)) == 5
    before = store.events.query(limit=1000)
    assert store.events.append(_swipes(5)) == 0
    assert store.events.append(_swipes(7)) == 2
    after = store.events.query(limit=1000)
    assert len(after) == len(before) + 2
    assert after[2:] == before  # nothing already stored was touched
    # Events without a key are never deduplicated.
    plain = [EventRecord(ts=T, kind="rex"), EventRecord(ts=T, kind="rex")]
    assert store.events.append(plain) == 2
    assert len(store.events.query(kinds=["rex"])) == 2


def test_duplicate_key_inside_one_batch(store: Store) -> None:
    a = EventRecord(ts=T, kind="granted", source_key="k")
    b = EventRecord(ts=T + 1, kind="denied", source_key="k")
    assert store.events.append([a, b]) == 1
    [row] = store.events.query(kinds=["granted", "denied"])
    assert row.kind == "granted"


def test_holder_filter_matches_part_of_the_name_in_any_case(store: Store) -> None:
    store.events.append(
        [
            EventRecord(ts=T, kind="granted", holder="Officer Ortiz"),
            EventRecord(ts=T + 1, kind="granted", holder="Ms. Shah"),
            EventRecord(ts=T + 2, kind="granted", holder="100% Ortiz_Jr"),
        ]
    )
    assert [r.holder for r in store.events.query(holder="ortiz", newest_first=False)] == [
        "Officer Ortiz",
        "100% Ortiz_Jr",
    ]
    assert [r.holder for r in store.events.query(holder="SHAH")] == ["Ms. Shah"]
    # LIKE's wildcards are literal: "%" finds only the name with a percent sign in it.
    assert [r.holder for r in store.events.query(holder="%")] == ["100% Ortiz_Jr"]
    assert store.events.query(holder="z_j") != [] and store.events.query(holder="s_h") == []


def test_filters(store: Store) -> None:
    store.events.append(_swipes(10))
    assert [r.serial for r in store.events.query(serial="S3")] == ["S3"]
    assert {r.holder for r in store.events.query(holder="Holder 1")} == {"Holder 1"}
    assert len(store.events.query(holder="Holder 1")) == 3
    assert {r.kind for r in store.events.query(kinds=["denied"])} == {"denied"}
    assert len(store.events.query(kinds="denied")) == 5  # one kind as a string works too
    newest = store.events.query(limit=3)
    assert [r.serial for r in newest] == ["S9", "S8", "S7"]
    older = store.events.query(limit=3, before_id=newest[-1].id)
    assert [r.serial for r in older] == ["S6", "S5", "S4"]
    later = store.events.query(after_id=older[0].id, newest_first=False)
    assert [r.serial for r in later] == ["S7", "S8", "S9"]


def test_time_filters_with_offsets(store: Store) -> None:
    store.events.append(_swipes(10, step=3600))  # hourly from T
    eastern = timezone(timedelta(hours=-4))
    since = datetime.fromtimestamp(T + 2 * 3600, UTC).astimezone(eastern)
    until = datetime.fromtimestamp(T + 5 * 3600, UTC).astimezone(timezone(timedelta(hours=9)))
    rows = store.events.query(since=since, until=until, newest_first=False)
    assert [r.serial for r in rows] == ["S2", "S3", "S4"]  # since inclusive, until exclusive
    assert rows[0].ts == since and rows[0].ts.tzinfo is UTC
    assert [r.serial for r in store.events.query(since=T + 8 * 3600)] == ["S9", "S8"]
    with pytest.raises(StoreError, match="no time zone"):
        store.events.query(since=datetime(2024, 7, 3, 12, 0))


def test_fractional_seconds_survive(store: Store) -> None:
    store.events.append([EventRecord(ts=T + 0.123456, kind="granted")])
    [row] = store.events.query(kinds=["granted"])
    assert row.ts == datetime.fromtimestamp(T, UTC) + timedelta(microseconds=123456)


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (EventRecord(ts=float("inf"), kind="x"), "finite"),
        (EventRecord(ts=T, kind=""), "kind must not be empty"),
        (EventRecord(ts=T, kind="k" * 33), "limit is 32"),
        (EventRecord(ts=T, kind="x", detail={"f": object()}), "not JSON"),
        (EventRecord(ts=T, kind="x", serial="a\x00b"), "control character"),
    ],
)
def test_bad_record_rejects_whole_batch(
    store: Store, db_path: Path, record: EventRecord, message: str
) -> None:
    before = _tables(db_path)
    with pytest.raises(StoreError, match=f"event 2: .*{message}|{message}"):
        store.events.append([EventRecord(ts=T, kind="ok"), record])
    assert _tables(db_path) == before


def test_query_limits(store: Store) -> None:
    with pytest.raises(StoreError, match="limit"):
        store.events.query(limit=0)
    with pytest.raises(StoreError, match="limit"):
        store.events.query(limit=10_001)
    with pytest.raises(StoreError, match="after_id"):
        store.events.query(after_id="3")  # type: ignore[arg-type]
