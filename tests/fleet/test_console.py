"""The district console without a broker: staging signed messages, storing what boxes send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appliance.district.collector import Collector
from appliance.district.console import (
    District,
    DistrictError,
    Publisher,
    init_district,
    open_district,
)
from appliance.district.state import DistrictStore
from appliance.fleet.messages import Change, Snapshot, parse_list
from appliance.fleet.signing import Rejected, load_public_key, open_envelope
from appliance.store import Store
from tests.cli.util import Cli

BROKER = "mqtt://127.0.0.1:1"  # never dialled by these tests


@pytest.fixture
def district(tmp_path: Path) -> District:
    return init_district(tmp_path / "district", "natrona", BROKER, snapshot_every=3)


def opened(district: District, payload: bytes, version: int | None) -> Any:
    key = load_public_key((district.path / "district.pub").read_text())
    return parse_list(open_envelope(payload, key, max_bytes=1 << 24).body, "natrona", version)


def test_each_change_is_signed_logged_and_numbered(district: District) -> None:
    with district.store() as store:
        p = Publisher(district, store)
        assert p.stage_changes("t") is None  # nothing yet: nothing to say
        store.cards.add("H10301", 1, 1, "Ann", serial="A-1", group="responders", actor="t")
        assert p.stage_changes("t") == 1
        assert p.stage_changes("t") is None
        store.cards.set_status(serial="A-1", status="lost", reason="lost", actor="t")
        store.groups.add("custodians", actor="t")
        assert p.stage_changes("t") == 2
        assert p.stage_lockdown(True, "Kelly Walsh", "police", "t") == 3
        log = {m.version: m for m in DistrictStore(store).unpublished()}
    assert sorted(log) == [1, 2, 3, 4]  # every 3 changes a snapshot follows
    second = opened(district, log[2].payload, 2)
    assert isinstance(second, Change)
    assert [c.status for c in second.credentials] == ["lost"]
    assert second.groups is not None and [g.name for g in second.groups] == ["custodians"]
    third = opened(district, log[3].payload, 3)
    assert third.lockdown is not None and third.lockdown.school == "Kelly Walsh"
    snap = opened(district, log[4].payload, None)
    assert isinstance(snap, Snapshot) and snap.version == 4
    assert snap.lockdown.schools == ["Kelly Walsh"] and len(snap.credentials) == 1


def test_lockdown_rules(district: District) -> None:
    with district.store() as store:
        p = Publisher(district, store)
        p.stage_lockdown(True, None, "drill", "t")
        with pytest.raises(DistrictError, match="lift it with 'lockdown off --all'"):
            p.stage_lockdown(False, "Kelly Walsh", None, "t")
        p.stage_lockdown(False, None, None, "t")
        p.stage_lockdown(True, "Kelly Walsh", None, "t")
        assert DistrictStore(store).meta_json("fleet.district_lockdown") == {
            "all": False,
            "schools": ["Kelly Walsh"],
        }


def test_a_list_too_large_for_one_message_is_refused(tmp_path: Path) -> None:
    d = init_district(tmp_path / "d", "natrona", BROKER)
    (d.path / "district.toml").write_text(
        (d.path / "district.toml").read_text() + "max_message_bytes = 1024\n"
    )
    d = open_district(d.path)
    with d.store() as store:
        lines = ["format,facility,number,holder,serial,group"]
        lines += [f"H10301,1,{n},Holder {n},S{n},staff" for n in range(200)]
        store.cards.import_csv("\n".join(lines) + "\n", actor="t")
        with pytest.raises(DistrictError, match="max_message_bytes is 1024"):
            Publisher(d, store).stage_snapshot("t")
        assert DistrictStore(store).unpublished() == []  # nothing logged


def event(n: int) -> dict[str, Any]:
    return {
        "id": n,
        "ts": 1_700_000_000.0 + n,
        "kind": "granted",
        "reason": None,
        "credential": "H10301:1:1",
        "holder": "Ann",
        "serial": "A-1",
        "door": "Front entrance",
        "actor": None,
        "detail": {"card_id": 1},
    }


def batch(box: str, ids: range) -> bytes:
    return json.dumps(
        {"box_id": box, "school": "Kelly Walsh", "events": [event(n) for n in ids]}
    ).encode()


def test_events_home_are_stored_once_and_checked(district: District) -> None:
    with district.store() as store:
        c = Collector(district, store)
        c.handle("kw-1", "events", batch("kw-1", range(1, 11)))
        c.handle("kw-1", "events", batch("kw-1", range(5, 16)))  # a redelivery, and more
        c.handle("nc-1", "events", batch("nc-1", range(1, 3)))
        state = DistrictStore(store)
        assert state.count_events("kw-1") == 15 and state.count_events() == 17
        assert state.newest_box_event("kw-1") == 15
        rows = state.events(box="kw-1", since=1_700_000_010.0, limit=100, newest_first=False)
        assert [r.box_event_id for r in rows] == list(range(10, 16))
        assert state.events(school="Kelly Walsh", serial="A-1", kinds=["denied"]) == []
        for payload, box in (
            (batch("nc-1", range(1, 2)), "kw-1"),  # another box's events
            (b"not json", "kw-1"),
            (json.dumps({"box_id": "kw-1", "school": None, "events": []}).encode(), "kw-1"),
            (batch("kw-1", range(1, 2)).replace(b'"granted"', b'""'), "kw-1"),
        ):
            with pytest.raises(Rejected):
                c.handle(box, "events", payload)
        assert state.count_events() == 17


def test_status_and_rejection_reports(district: District) -> None:
    with district.store() as store:
        c = Collector(district, store)
        status = {"box_id": "kw-1", "online": True, "school": "Kelly Walsh", "list_version": 4}
        c.handle("kw-1", "status", json.dumps(status).encode())
        report = {"box_id": "kw-1", "rejection": {"at": 1.0, "topic": "t", "reason": "wrong_key"}}
        c.handle("kw-1", "rejections", json.dumps(report).encode())
        c.handle("kw-1", "status", json.dumps({"box_id": "kw-1", "online": False}).encode())
        (box,) = DistrictStore(store).boxes()
        assert (box.online, box.school, box.list_version) == (False, "Kelly Walsh", 4)
        assert box.status["last_rejection"]["reason"] == "wrong_key"
        with pytest.raises(Rejected):
            c.handle("kw-1", "status", json.dumps({**status, "mood": "fine"}).encode())


def test_cli_refuses_a_missing_district_and_a_second_init(tmp_path: Path, cli: Cli) -> None:
    result = cli("fleet", "--district", str(tmp_path / "nowhere"), "status")
    assert result.code == 1 and "not a district directory" in result.err
    init_district(tmp_path / "d", "natrona", BROKER)
    result = cli(
        "fleet", "--district", str(tmp_path / "d"), "init", "--name", "x", "--broker", BROKER
    )
    assert result.code == 1 and "already holds a district key" in result.err
    result = cli("fleet", "--district", str(tmp_path / "d"), "status")
    assert result.code == 0 and "district natrona: list version 0, 0 box(es)" in result.out
    with Store(tmp_path / "d" / "data" / "doorward.db") as store:
        assert store.cards.count() == 0
