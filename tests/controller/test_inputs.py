"""The door's inputs through the controller: door switch, REX, lockdown button; card + PIN."""

from __future__ import annotations

from pathlib import Path

from appliance.core.model import Mode
from appliance.store import Store
from appliance.testing.box import decision, mock, running_box, seed
from appliance.wiegand.formats import encode
from appliance.wiegand.waveform import waveform

INPUTS = """
[dps]
pin = 22
pull_up = false
[rex]
pin = 27
[lockdown_button]
pin = 17
"""
STAFF = encode("H10301", 3456, 12)
RESPONDER = encode("H10301", 1001, 100)


def test_rex_door_switch_and_relock_on_close(tmp_path: Path) -> None:
    with running_box(tmp_path, unlock=30.0, extra=INPUTS) as (c, events, _):
        dps, rex = c.factory.pin(22), c.factory.pin(27)
        rex.drive_low()  # pressed
        events.wait(lambda r: r.kind == "rex" and "unlocked" in (r.reason or ""))
        events.wait(lambda r: r.kind == "unlocked")
        rex.drive_high()
        dps.drive_high()  # the door opens
        events.wait(lambda r: r.kind == "door_open" and r.reason == "door opened")
        dps.drive_low()  # and closes: relock at once, not after 30 s
        events.wait(lambda r: r.kind == "door_closed")
        events.wait(lambda r: r.kind == "locked", timeout=2)
        assert c.call(lambda: c.door.locked)
        mark = events.mark()
        dps.drive_high()  # opened with no grant and no REX
        alarm = events.wait(lambda r: r.kind == "alarm", start=mark)
        assert "forced open" in (alarm.reason or "")
        dps.drive_low()
        events.wait(lambda r: r.kind == "alarm_cleared", start=mark)


def test_lockdown_button_locks_down_here_and_on_record(tmp_path: Path) -> None:
    with running_box(tmp_path, extra=INPUTS) as (c, events, config):
        seen = c.refresher.refreshes
        c.factory.pin(17).drive_low()
        assert c.call(lambda: c.door.mode) == Mode.LOCKDOWN  # at once, before any database write
        mock(c).play(STAFF, realtime=False)
        assert events.wait(decision("denied", "H10301:12:3456")).reason == "lockdown"
        mock(c).play(RESPONDER, realtime=False)
        events.wait(decision("granted", "H10301:100:1001"))
        assert c.refresher.wait_refresh(seen, 2.0)  # the button's lockdown reached the store
        with Store(config.db_path) as other:
            assert other.door.mode() == (Mode.LOCKDOWN, "lockdown button pressed")
            assert any(e.kind == "mode" and e.actor == "button" for e in other.events.query())


def key_bits(keys: str) -> list[str]:
    return [format({"*": 10, "#": 11}.get(k) or int(k), "04b") for k in keys]


def pin_seed(store: Store) -> None:
    seed(store)
    store.groups.add("vault", pin_required=True, actor="test")
    store.cards.add("H10301", 7, 77, "Ms. Vault", group="vault", pin="2468", actor="test")


def test_card_and_pin(tmp_path: Path) -> None:
    reader = 'keypad = "4bit"\npin_timeout_seconds = 1.0'
    with running_box(tmp_path, seed_fn=pin_seed, reader_extra=reader) as (c, events, _):
        card = encode("H10301", 77, 7)
        for keys, reason in (("2468#", "granted"), ("1111#", "wrong PIN"), ("", "PIN required")):
            mark = events.mark()
            src = mock(c)
            t = src.now_us() + 1000
            edges = waveform(card, t, 1000, 50)  # the card, then a key every 50 ms, as typed
            for bits in key_bits(keys):
                t = edges[-1].t_us + 50_000
                edges += waveform(bits, t, 1000, 50)
            src.inject(edges)
            rec = events.wait(
                lambda r: r.kind in ("granted", "denied") and r.credential == "H10301:7:77",
                start=mark,
            )
            assert rec.reason == reason, c.reader.health
            assert any(r.kind == "pin_wait" for r in events.records[mark:])
