"""The controller's figures in words: latency in ms, durations, reader health."""

from __future__ import annotations

import pytest

from webui.readable import duration, latency_rows, ms, reader_summary


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (13406.0, "13.4 ms"),
        (800, "0.8 ms"),
        (41.0, "0.04 ms"),
        (120.0, "0.1 ms"),
        (2.0, "< 0.01 ms"),
        (0, "0 ms"),
        (2_500_000, "2,500 ms"),
        (None, "–"),
        (True, "–"),
        ("13", "–"),
        (float("nan"), "–"),
    ],
)
def test_latency_in_ms_with_sensible_precision(micros: object, text: str) -> None:
    assert ms(micros) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (45.9, "45 s"),
        (720, "12 min"),
        (11_520, "3 h 12 min"),
        (187_200, "2 days 4 h"),
        (None, "an unknown time"),
    ],
)
def test_durations(seconds: object, text: str) -> None:
    assert duration(seconds) == text


def test_reader_health_in_words() -> None:
    ok = reader_summary({"frames": 1, "cards": 1}, 30)
    assert (ok.level, ok.text) == (
        "ok",
        "Reader OK — 1 frame (1 card) since the controller started 30 s ago.",
    )
    idle = reader_summary({"frames": 0}, 30)
    assert idle.level == "idle" and "no frames read yet" in idle.text
    misreads = reader_summary(
        {"frames": 10, "cards": 7, "parity_failures": 2, "short_frames": 1}, 60
    )
    assert misreads.level == "warn"
    assert misreads.text.startswith(
        "Reader misreads — 10 frames (7 cards), 2 parity failures, 1 short frame"
    )
    wiring = reader_summary({"frames": 5, "wiring_faults": 1, "last_fault": "D1 stuck low"}, 60)
    assert wiring.level == "bad" and wiring.text.startswith(
        "Reader wiring fault — 1 fault (last: D1 stuck low)"
    )
    assert reader_summary(None, 1).level == "warn"
    assert reader_summary({"frames": "lots", "cards": -3}, "x").text == (
        "Reader OK — no frames read yet since the controller started an unknown time ago."
    )


def test_latency_rows_put_the_stages_in_the_order_of_a_read() -> None:
    rows = latency_rows(
        {
            "decide": {"p50": 41.0, "p99": 90.0, "max": 120.0, "count": 7},
            "later_stage": {"p50": None, "count": 0},
            "edge_to_relay": {"p50": 800.0, "p99": 900.0, "max": 1000.0, "count": 7},
            "broken": "not a dict",
        }
    )
    assert [r.label for r in rows] == ["Last bit to relay", "Decision", "later stage", "broken"]
    assert rows[0].p50 == "0.8 ms" and rows[2].p50 == "–" and rows[3].reads == "–"
    assert latency_rows(None) == []
