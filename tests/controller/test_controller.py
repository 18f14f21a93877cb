"""The controller end to end on the mock back-end: reads, revocation, lockdown, degraded mode."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from appliance.control import Control, ControlError
from appliance.core.model import Mode, Status
from appliance.store import Store, StoreError
from appliance.testing.box import decision, mock, running_box
from appliance.wiegand.formats import encode

RESPONDER = encode("H10301", 1001, 100)
STAFF = encode("H10301", 3456, 12)
LOST = encode("H10301", 1003, 100)


def strike_level(controller) -> bool:  # type: ignore[no-untyped-def]
    return bool(controller.factory.pin(26).state)


def test_responder_granted_strike_pulses_and_relocks(tmp_path: Path) -> None:
    with running_box(tmp_path, unlock=0.2) as (c, events, _):
        assert strike_level(c) is True  # active-low relay, locked: pin high
        mock(c).play(RESPONDER, interval_us=1000, realtime=False)
        rec = events.wait(decision("granted", "H10301:100:1001"))
        assert rec.reason == "granted" and rec.detail and rec.detail["responder"] is True
        events.wait(lambda r: r.kind == "unlocked")
        events.wait(lambda r: r.kind == "locked", timeout=2)
        assert strike_level(c) is True
        states = [s.state for s in c.factory.pin(26).states]
        assert False in states  # it was driven active (low) in between


def test_denials_name_their_reason(tmp_path: Path) -> None:
    with running_box(tmp_path) as (c, events, _):
        mock(c).play(LOST, realtime=False)
        assert events.wait(decision("denied", "H10301:100:1003")).reason == "lost"
        mock(c).play(encode("H10301", 9, 9), realtime=False)
        assert events.wait(decision("denied", "H10301:9:9")).reason == "unknown card"
        bad = RESPONDER[:-1] + ("1" if RESPONDER[-1] == "0" else "0")
        mock(c).play(bad, realtime=False)
        rec = events.wait(lambda r: r.kind == "denied" and r.reason == "reader fault")
        assert rec.credential is None
        assert c.reader.health.parity_failures == 1 and strike_level(c) is True


def test_revocation_by_another_process_applies_within_a_second(tmp_path: Path) -> None:
    with running_box(tmp_path) as (c, events, config):
        mock(c).play(RESPONDER, realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        seen = c.refresher.refreshes
        t0 = time.monotonic()
        with Store(config.db_path) as other:
            other.cards.set_status(
                serial="CPD-1", status=Status.LOST, reason="reported lost", actor="test"
            )
        assert c.refresher.wait_refresh(seen, timeout=1.0)
        assert time.monotonic() - t0 < 1.0
        mark = events.mark()
        mock(c).play(RESPONDER, realtime=False)
        assert events.wait(decision("denied", "H10301:100:1001"), start=mark).reason == "lost"


def test_lockdown_only_immune_groups_open(tmp_path: Path) -> None:
    with running_box(tmp_path) as (c, events, config):
        seen = c.refresher.refreshes
        with Store(config.db_path) as other:
            other.door.set_mode(Mode.LOCKDOWN, reason="drill", actor="test")
        assert c.refresher.wait_refresh(seen, timeout=1.0)
        mock(c).play(STAFF, realtime=False)
        assert events.wait(decision("denied", "H10301:12:3456")).reason == "lockdown"
        mock(c).play(RESPONDER, realtime=False)
        rec = events.wait(decision("granted", "H10301:100:1001"))
        assert rec.detail and rec.detail["mode"] == "lockdown"


def test_degraded_database_keeps_deciding_and_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_box(tmp_path) as (c, events, config):
        broken = True
        real_version = c.store.data_version
        real_append = c.store.events.append

        def version() -> int:
            if broken:
                raise StoreError("database disk image is malformed")
            return real_version()

        def append(records):  # type: ignore[no-untyped-def]
            if broken:
                raise StoreError("database disk image is malformed")
            return real_append(records)

        monkeypatch.setattr(c.store, "data_version", version)
        monkeypatch.setattr(c.store.events, "append", append)
        monkeypatch.setattr(c.audit, "_retry", 0.01)
        events.wait(lambda r: r.kind == "fault", timeout=2)
        assert c.degraded
        mock(c).play(RESPONDER, realtime=False)
        rec = events.wait(decision("granted", "H10301:100:1001"))
        assert rec.detail and rec.detail["degraded"] is True
        broken = False
        events.wait(lambda r: r.kind == "fault_cleared", timeout=2)
        assert not c.degraded and c.audit.flush(5)
        with Store(config.db_path) as other:  # nothing recorded while degraded was lost
            kinds = [e.kind for e in other.events.query(limit=50)]
        assert "fault" in kinds and "granted" in kinds and "fault_cleared" in kinds


def test_control_socket_status_and_swipe(tmp_path: Path) -> None:
    with running_box(tmp_path) as (_c, events, config):
        status = Control(config.data_dir).request("status")["status"]
        assert status["door"] == "Front entrance" and status["locked"] is True
        assert status["reader"]["frames"] == 0 and status["credentials_loaded"] == 4
        Control(config.data_dir).request("swipe", bits=STAFF, interval_us=1000)
        events.wait(decision("granted", "H10301:12:3456"))
        for bad in ({"bits": "012"}, {"bits": STAFF, "interval_us": 5}, {"bits": ""}):
            with pytest.raises(ControlError):
                Control(config.data_dir).request("swipe", **bad)
        with pytest.raises(ControlError, match="unknown command"):
            Control(config.data_dir).request("explode")
        Control(config.data_dir).request("unlock", actor="test", reason="delivery")
        assert events.wait(lambda r: r.kind == "unlock").reason == "delivery"


def test_second_controller_refused(tmp_path: Path) -> None:
    from appliance.controller import Controller, ControllerError

    with (
        running_box(tmp_path) as (_, _, config),
        pytest.raises(ControllerError, match="already running"),
    ):
        Controller(config)


def test_frames_are_not_split_while_another_thread_keeps_the_process_busy(tmp_path: Path) -> None:
    """A late controller thread must not end a frame at its gap before the next edge arrives."""
    import threading

    with running_box(tmp_path) as (c, events, config):
        stop = threading.Event()

        def busy() -> None:  # holds the GIL in long stretches, as a big view refresh would
            with Store(config.db_path) as store:
                while not stop.is_set():
                    store.cards.list(limit=100)
                    sum(range(200_000))

        thread = threading.Thread(target=busy, daemon=True)
        thread.start()
        try:
            for _ in range(20):
                mark = events.mark()
                mock(c).play(RESPONDER, interval_us=2000, realtime=True)
                try:
                    rec = events.wait(lambda r: r.kind in ("granted", "denied"), start=mark)
                except AssertionError:
                    raise AssertionError(c.reader.health) from None
                assert rec.kind == "granted", rec
        finally:
            stop.set()
            thread.join(5)
        assert c.reader.health.short_frames == 0


def test_a_really_corrupt_database_file_degrades_then_recovers(tmp_path: Path) -> None:
    with running_box(tmp_path) as (c, events, config):
        db = config.db_path
        head = db.read_bytes()[: 4096 * 4]
        with db.open("r+b") as f:
            f.write(b"\0" * len(head))  # the header and first pages wiped under the controller
        assert "not a database" in (events.wait(lambda r: r.kind == "fault").reason or "")
        mock(c).play(RESPONDER, realtime=False)
        rec = events.wait(decision("granted", "H10301:100:1001"))
        assert rec.detail and rec.detail["degraded"] is True
        with db.open("r+b") as f:
            f.write(head)
        events.wait(lambda r: r.kind == "fault_cleared")
        assert c.audit.flush(5) and not c.degraded
        with Store(config.db_path) as other:
            kinds = [e.kind for e in other.events.query(limit=50)]
        assert {"fault", "granted", "fault_cleared"} <= set(kinds)
