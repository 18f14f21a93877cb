"""``python -m appliance.testing.pigpiod``: the emulator as its own process, for a real client."""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pigpio
import pytest

from appliance.testing.pigpiod import card_edges

CARD = "10000000100000000000000010"  # H10301 facility 1, card 1
TIMEOUT_S = 20.0


class Process:
    """The emulator's process, its stdout read line by line on a thread (never a sleep)."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "appliance.testing.pigpiod", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def expect(self, start: str) -> str:
        """The next line starting with ``start`` (the lines before it are skipped)."""
        seen: list[str] = []
        while True:
            try:
                line = self.lines.get(timeout=TIMEOUT_S)
            except queue.Empty:
                raise AssertionError(f"no line starting {start!r}; saw {seen}") from None
            if line.startswith(start):
                return line
            seen.append(line)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()


@pytest.fixture
def emulator() -> Iterator[Process]:
    process = Process("--port", "0", "--d0", "5", "--d1", "6", "--stdin")
    try:
        yield process
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
        process.proc.wait(TIMEOUT_S)


def test_a_real_client_reads_a_card_played_from_stdin_and_its_writes_are_printed(
    emulator: Process,
) -> None:
    ready = emulator.expect("pigpiod emulator on 127.0.0.1:")
    port = int(ready.split()[3].rsplit(":", 1)[1])
    pi = pigpio.pi("127.0.0.1", port, show_errors=False)
    assert pi.connected
    got: list[tuple[int, int, int]] = []
    done = threading.Event()

    def record(gpio: int, level: int, tick: int) -> None:
        got.append((gpio, level, tick))
        if len(got) == 2 * len(CARD):
            done.set()

    try:
        callbacks = [pi.callback(gpio, pigpio.EITHER_EDGE, record) for gpio in (5, 6)]
        pi.write(26, 1)
        assert emulator.expect("GPIO26 write 1 at tick")
        emulator.send("12x")
        assert "not a card's bits" in emulator.expect("not a card")
        emulator.send(CARD)
        assert emulator.expect("played 26 bits on GPIO5/GPIO6: 52 reports")
        assert done.wait(TIMEOUT_S)
        wanted = card_edges(CARD, 5, 6)
        assert [(g, level) for g, level, _ in got] == [(g, level) for g, level, _ in wanted]
        start = got[0][2]
        offsets = [(tick - start) % 2**32 for _, _, tick in got]
        assert all(abs(o - w[2]) < 1000 for o, w in zip(offsets, wanted, strict=True))
        for cb in callbacks:
            cb.cancel()
    finally:
        pi.stop()
    emulator.proc.send_signal(signal.SIGTERM)
    assert emulator.expect("stopped") == "stopped"
    assert emulator.proc.wait(TIMEOUT_S) == 0


def test_bad_arguments_exit_2() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "appliance.testing.pigpiod", "--port", "x"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )
    assert out.returncode == 2 and "--port" in out.stderr
