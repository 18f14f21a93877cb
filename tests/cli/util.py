"""Helpers for the ``doorward`` command tests."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.config import load_config
from appliance.store import Store
from appliance.testing.box import write_config

# The box runs in this process, where the CLI's own polling competes for the interpreter: a
# common 2 ms reader, which the controller must read whole however busy it is.
SWIPE_INTERVAL = ["--interval-us", "2000"]


@dataclass(frozen=True)
class Result:
    """What one command did: its exit status and everything it printed."""

    code: int
    out: str
    err: str

    @property
    def err_lines(self) -> list[str]:
        return self.err.splitlines()


class Cli:
    """``doorward`` in-process: ``cli(*argv)`` or ``cli.on(config, *argv)``."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def __call__(self, *argv: str) -> Result:
        self._capsys.readouterr()  # drop anything printed before, e.g. by a fixture
        code = main(list(argv))
        out, err = self._capsys.readouterr()
        return Result(code, out, err)

    def on(self, config: Path, *argv: str) -> Result:
        return self("--config", str(config), *argv)


def init_box(tmp_path: Path, cli: Cli) -> Path:
    """Write a mock-backend config under ``tmp_path`` and run ``init``; returns the config."""
    config = write_config(tmp_path)
    result = cli.on(config, "init")
    assert result.code == 0, result.err
    return config


@dataclass(frozen=True)
class Census:
    """What a box holds: a failed command must leave every count as it was."""

    credentials: int
    events: int
    newest_event: int
    holders: int
    groups: int
    mode: str


def census(config: Path) -> Census:
    """Count what the box's store holds now."""
    with Store(load_config(config).db_path) as store:
        events = store.events.query(limit=10_000)
        return Census(
            credentials=store.cards.count(),
            events=len(events),
            newest_event=events[0].id if events else 0,
            holders=len(store.holders.list()),
            groups=len(store.groups.list()),
            mode=store.door.mode()[0].value,
        )


def assert_clean_error(result: Result, *needles: str, code: int | None = None) -> None:
    """A refusal: non-zero (or ``code``), every stderr line an error, no traceback, no output."""
    assert result.code != 0, result
    if code is not None:
        assert result.code == code, result
    assert "Traceback" not in result.err
    lines = result.err_lines
    assert lines, "no message on stderr"
    assert all(line.startswith("doorward: error: ") for line in lines), lines
    for needle in needles:
        assert needle in result.err, (needle, result.err)
    assert result.out == ""


def doorward_cmd(*argv: str) -> list[str]:
    """The command line to run ``doorward`` as a real process with this interpreter."""
    return [sys.executable, "-m", "appliance.cli", *argv]


def run_process(*argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``doorward`` as a real process and wait for it."""
    return subprocess.run(
        doorward_cmd(*argv), capture_output=True, text=True, timeout=timeout, check=False
    )


def start_process(*argv: str, ready: str, timeout: float = 30) -> tuple[subprocess.Popen[str], str]:
    """``doorward`` as a real process, once a line of its output contains ``ready``.

    Readiness comes from the process's own output, not a sleep. Returns it and its output so far;
    a reader thread keeps draining the pipe so the process never blocks on it.
    """
    proc = subprocess.Popen(
        doorward_cmd(*argv), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")  # the process ended

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    try:
        while ready not in (seen[-1] if seen else ""):
            seen.append(lines.get(timeout=timeout))
            assert seen[-1], f"doorward {' '.join(argv)} ended early:\n" + "".join(seen)
    except BaseException:
        proc.kill()
        proc.wait(10)
        raise
    return proc, "".join(seen)
