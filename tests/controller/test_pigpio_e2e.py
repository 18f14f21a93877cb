"""The whole box through the pigpiod emulator and the real pigpio client: edge to strike."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from appliance.testing.box import decision, running_box
from appliance.testing.pigpiod import WRAP, PigpiodEmulator, card_edges
from appliance.wiegand.formats import encode

D0, D1, STRIKE = 14, 15, 26
RESPONDER = encode("H10301", 1001, 100)


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch) -> Iterator[PigpiodEmulator]:
    with PigpiodEmulator(start_tick=WRAP - 20_000_000) as emulator:  # the wrap is 20 s away
        monkeypatch.setenv("PIGPIO_ADDR", emulator.host)
        monkeypatch.setenv("PIGPIO_PORT", str(emulator.port))
        yield emulator


@pytest.mark.parametrize(("interval_us", "frame_bits"), [(1000, None), (2000, None), (1000, 26)])
def test_card_opens_the_strike_across_the_tick_wrap(
    tmp_path: Path, emu: PigpiodEmulator, interval_us: int, frame_bits: int | None
) -> None:
    extra = f"frame_bits = {frame_bits}" if frame_bits else ""
    with running_box(tmp_path, backend="pigpio", reader_extra=extra, unlock=0.2) as (_c, events, _):
        assert emu.level(STRIKE) == 1  # active-low relay: locked = high
        mark = len(emu.records)
        start = WRAP - 10 * interval_us  # the tick wraps in the middle of this frame
        assert emu.tick() < start
        emu.play(card_edges(RESPONDER, D0, D1, interval_us, 50), at_tick=start)
        assert emu.wait_for_write(STRIKE, 0, 3.0, since=mark) is not None
        events.wait(decision("granted", "H10301:100:1001"))
        assert emu.wait_for_write(STRIKE, 1, 3.0, since=mark) is not None  # relocked
        assert 0 not in emu.driven_levels(STRIKE)[:1]


def test_glitch_mid_frame_and_a_stuck_line(tmp_path: Path, emu: PigpiodEmulator) -> None:
    with running_box(tmp_path, backend="pigpio") as (c, events, _):
        edges = card_edges(RESPONDER, D0, D1, 2000, 50)
        edges += [(D0, 0, 13 * 2000 + 700), (D0, 1, 13 * 2000 + 704)]  # a 4 µs glitch
        emu.play(edges)
        events.wait(decision("granted", "H10301:100:1001"))
        assert c.reader.health.noise_pulses == 1
        emu.set_level(D1, 0)  # D1 shorted to ground
        fault = events.wait(lambda r: r.kind == "reader_fault")
        assert "D1 held low" in (fault.reason or "")
        recovered = emu.set_level(D1, 1)
        mark = events.mark()
        # after a fault the reader waits for 25 ms of quiet, so no fragment of a frame decodes
        emu.play(card_edges(RESPONDER, D0, D1, 1000, 50), at_tick=recovered.tick + 30_000)
        events.wait(decision("granted", "H10301:100:1001"), start=mark, timeout=5)
        assert c.reader.health.wiring_faults == 1


def test_stop_leaves_the_strike_driven_locked(tmp_path: Path, emu: PigpiodEmulator) -> None:
    with running_box(tmp_path, backend="pigpio", unlock=5.0) as (_c, events, _):
        emu.play(card_edges(RESPONDER, D0, D1, 1000, 50))
        events.wait(lambda r: r.kind == "unlocked")
        assert emu.level(STRIKE) == 0  # unlocked when the controller is told to stop
    assert emu.mode(STRIKE) == 1 and emu.level(STRIKE) == 1  # still an output, driven locked
