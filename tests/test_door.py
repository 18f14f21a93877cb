"""The door state machine: strike timing, relock on close, alarms, REX, modes, lock types."""

from __future__ import annotations

from appliance.core.model import Mode
from appliance.door import Door, DoorSettings
from appliance.testing.switch import RecordingSwitch


def make(
    **kw: object,
) -> tuple[Door, RecordingSwitch, list[tuple[str, str]], RecordingSwitch, RecordingSwitch]:
    strike, led, beeper = RecordingSwitch(), RecordingSwitch(), RecordingSwitch()
    events: list[tuple[str, str]] = []
    settings = DoorSettings(**{"unlock_seconds": 0.5, "dps_debounce_seconds": 0.1, **kw})  # type: ignore[arg-type]
    door = Door(
        settings,
        strike,
        led=led,
        beeper=beeper,
        emit=lambda k, d: events.append((k, d)),
        has_dps=True,
    )
    return door, strike, events, led, beeper


def kinds(events: list[tuple[str, str]]) -> list[str]:
    return [k for k, _ in events]


def test_starts_locked_and_fail_secure_strike_is_off() -> None:
    door, strike, events, _, _ = make()
    assert door.locked and strike.history == [False] and events == []


def test_fail_safe_maglock_is_energised_when_locked() -> None:
    door, strike, _, _, _ = make(fail_safe=True)
    assert strike.history == [True]
    door.grant(0.0)
    assert strike.history == [True, False]
    door.poll(0.5)
    assert strike.history == [True, False, True]
    door.stop()
    assert strike.history[-1] is True


def test_grant_unlocks_for_fractional_seconds_then_relocks() -> None:
    door, strike, events, led, _ = make()
    door.grant(10.0)
    assert not door.locked and strike.history[-1] is True and led.is_active
    assert door.next_deadline() == 10.5
    door.poll(10.49)
    assert not door.locked
    door.poll(10.5)
    assert door.locked and strike.history[-1] is False and not led.is_active
    assert kinds(events) == ["unlocked", "locked"]


def test_relocks_as_soon_as_the_door_closes() -> None:
    door, _strike, events, _, _ = make(unlock_seconds=10.0)
    door.grant(0.0)
    door.dps_changed(True, 1.0)
    door.poll(1.1)  # debounced: open
    door.dps_changed(False, 2.0)
    door.poll(2.1)
    assert door.locked and kinds(events) == ["unlocked", "door_open", "door_closed", "locked"]


def test_forced_open_alarm_is_debounced() -> None:
    door, _, events, _, _ = make()
    door.dps_changed(True, 5.0)
    door.dps_changed(False, 5.05)  # a bounce: not a door opening
    door.poll(5.2)
    assert "alarm" not in kinds(events)
    door.dps_changed(True, 6.0)
    door.poll(6.1)
    assert ("alarm", "door forced open: opened with no grant and no REX") in events
    assert door.alarms == {"forced_open"}
    door.dps_changed(False, 7.0)
    door.poll(7.1)
    assert door.alarms == set() and kinds(events)[-1] == "alarm_cleared"


def test_open_soon_after_relock_is_not_forced() -> None:
    door, _, events, _, _ = make(forced_open_grace_seconds=1.0)
    door.grant(0.0)
    door.poll(0.5)  # relocked
    door.dps_changed(True, 1.0)
    door.poll(1.1)
    assert "alarm" not in kinds(events)


def test_held_open_alarm() -> None:
    door, _, events, _, _ = make(held_open_seconds=30.0)
    door.grant(0.0)
    door.dps_changed(True, 0.2)
    door.poll(0.3)
    assert door.next_deadline() is not None
    door.poll(30.19)
    assert "alarm" not in kinds(events)
    door.poll(30.2)
    assert door.alarms == {"held_open"}


def test_rex_unlocks_or_only_shunts() -> None:
    door, _strike, _events, _, _ = make()
    door.rex(0.0)
    assert not door.locked
    shunt, s_strike, s_events, _, _ = make(rex_unlocks=False)
    shunt.rex(0.0)
    assert shunt.locked and s_strike.history == [False]
    shunt.dps_changed(True, 0.2)
    shunt.poll(0.3)
    assert "alarm" not in kinds(s_events)  # the exit was announced: no forced-open alarm


def test_lockdown_ends_an_unlock_and_rex_only_shunts() -> None:
    door, _, _, _, _ = make(unlock_seconds=10.0)
    door.grant(0.0)
    door.set_mode(Mode.LOCKDOWN, 1.0)
    assert door.locked
    door.rex(2.0)
    assert door.locked
    door.grant(3.0)  # a responder's grant still opens it
    assert not door.locked


def test_held_unlocked_mode() -> None:
    door, strike, _events, _, _ = make()
    door.set_mode(Mode.HELD_UNLOCKED, 0.0)
    assert not door.locked
    door.poll(100.0)
    assert not door.locked
    door.dps_changed(True, 101.0)
    door.poll(200.0)
    assert not door.alarms
    door.set_mode(Mode.NORMAL, 201.0)
    assert door.locked and strike.history[-1] is False


def test_deny_beeps_briefly() -> None:
    door, _, _, _, beeper = make()
    door.deny(0.0)
    assert beeper.is_active
    door.poll(0.39)
    assert beeper.is_active
    door.poll(0.4)
    assert not beeper.is_active


def test_strike_never_active_at_start_on_a_stale_latch() -> None:
    from appliance.hw import io
    from appliance.hw.mock_backend import make_pin_factory

    factory = make_pin_factory()
    pin = factory.pin(26, latch=False)  # an active-low relay whose latch holds "energised"
    strike = io.output_pin(factory, 26, active_high=False, initial_active=False)
    Door(DoorSettings(), strike)
    assert all(state for _, state in pin.states[1:])  # driven high (off) only, never low


def test_reopening_after_relock_on_close_is_forced() -> None:
    door, _, _, _, _ = make(unlock_seconds=30.0)
    door.grant(0.0)
    door.dps_changed(True, 1.0)
    door.poll(1.1)
    door.dps_changed(False, 2.0)
    door.poll(2.1)  # closed: relocked, the passage is over
    door.dps_changed(True, 3.0)
    door.poll(3.1)
    assert door.alarms == {"forced_open"}


def test_a_door_found_open_at_start_is_timed_not_forced() -> None:
    door, _, events, _, _ = make(held_open_seconds=30.0)
    door.initial_dps(True, 100.0)
    door.poll(100.5)
    assert not door.alarms and events == []
    door.poll(130.0)
    assert door.alarms == {"held_open"}
