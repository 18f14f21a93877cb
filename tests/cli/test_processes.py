"""The command as real processes: ``run`` until SIGTERM, and the ``demo`` smoke test."""

from __future__ import annotations

import queue
import signal
import subprocess
import threading
from pathlib import Path

import pytest

from appliance.cli import UsageError
from appliance.cli.demo import prepare_dir
from tests.cli.util import SWIPE_INTERVAL, Cli, census, doorward_cmd, run_process


def test_run_serves_the_door_until_sigterm(box: Path, cli: Cli) -> None:
    proc = subprocess.Popen(
        doorward_cmd("--config", str(box), "run"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    log: queue.Queue[str] = queue.Queue()

    def pump() -> None:  # readiness from the controller's own log, no polling
        assert proc.stderr is not None
        for line in proc.stderr:
            log.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        while "running on the mock back-end" not in log.get(timeout=30):
            pass
        add = ["--format", "H10301", "--facility", "100", "--number", "1001", "--serial", "CPD-1"]
        added = cli.on(
            box, "card", "add", "--holder", "Officer Ortiz", "--group", "responders", *add
        )
        assert added.code == 0 and added.err == ""  # the running controller confirmed it
        swiped = cli.on(box, "swipe", *add[:6], *SWIPE_INTERVAL)
        assert swiped.code == 0, swiped.err
        assert swiped.out.splitlines()[1] == "granted  H10301:100:1001  Officer Ortiz [CPD-1]"
        status = cli.on(box, "status")
        assert status.code == 0 and "running on the mock back-end" in status.out
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    stopped = cli.on(box, "events", "--kind", "controller", "--limit", "1").out
    assert "stopped" in stopped
    stopped_status = cli.on(box, "status")
    assert stopped_status.code == 3 and "NOT RUNNING" in stopped_status.out


def test_run_refuses_an_uninitialised_box(tmp_path: Path) -> None:
    from appliance.testing.box import write_config

    result = run_process("--config", str(write_config(tmp_path)), "run", timeout=30)
    assert result.returncode == 1
    assert "doorward init" in result.stderr and "Traceback" not in result.stderr


def test_demo_smoke(tmp_path: Path) -> None:
    result = run_process("demo", "--once", "--dir", str(tmp_path / "demo"), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    steps: dict[str, list[str]] = {}
    title = ""
    for line in result.stdout.splitlines():
        if line.startswith(">>> "):
            title = line[4:]
        elif title and line.strip():
            steps.setdefault(title, []).append(line)

    def decided(step: str) -> str:
        return next(line for line in steps[step] if " GRANTED " in line or " DENIED " in line)

    responder = decided("A responder's fob at a normal door")
    assert (
        " GRANTED " in responder and "Officer Jane Ortiz" in responder and "RESPONDER" in responder
    )
    lost = decided("The fob Officer Becker reported lost")
    assert " DENIED " in lost and " lost " in lost and "H10301:100:1003" in lost
    assert " DENIED " in decided("A card nobody enrolled")
    assert "door mode: lockdown" in "\n".join(
        steps["Lockdown: the office puts the door in lockdown"]
    )
    staff = decided("The staff badge, during lockdown")
    assert " DENIED " in staff and " lockdown " in staff
    deputy = decided("A sheriff's deputy's fob, during lockdown")
    assert " GRANTED " in deputy and "Deputy Ana Ruiz" in deputy
    assert "door mode: normal" in "\n".join(steps["Lockdown lifted"])
    config = tmp_path / "demo" / "doorward.toml"
    assert census(config).mode == "normal"


def test_demo_reseeds_its_own_dir_but_never_touches_another(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    config = prepare_dir(home)
    (home / "data").mkdir()
    (home / "data" / "old.db").write_text("stale")
    assert prepare_dir(home) == config and not (home / "data").exists()

    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(UsageError, match="not a Doorward demo box"):
        prepare_dir(precious)
    assert (precious / "thesis.tex").read_text() == "years of work"
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(UsageError, match="not a directory"):
        prepare_dir(a_file)


def test_demo_refuses_a_bad_dir_cleanly(tmp_path: Path, cli: Cli) -> None:
    (tmp_path / "notes.txt").write_text("keep me")
    result = cli("demo", "--once", "--dir", str(tmp_path))
    assert result.code == 2 and "not a Doorward demo box" in result.err
    assert (tmp_path / "notes.txt").read_text() == "keep me"


def test_demo_serves_the_admin_page_with_a_fresh_demo_account(tmp_path: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as s:  # a free port for this run
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = str(tmp_path / "demo")
    proc = subprocess.Popen(
        doorward_cmd("demo", "--no-tour", "--dir", home, "--web-port", str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        closing: list[str] = []
        for ln in proc.stdout:  # the closing block, up to its last line
            if ln.startswith("The door is live") or closing:
                closing.append(ln.rstrip("\n"))
            if ln.startswith("Ctrl-C stops the demo."):
                break
        line = next(ln for ln in closing if ln.startswith("The admin page:"))
        assert closing.index(line) > max(i for i, ln in enumerate(closing) if "--config" in ln)
        assert f"http://127.0.0.1:{port}/" in line and "user demo, password " in line
        password = line.rsplit("password ", 1)[1].rstrip(")\n")
        assert len(password) >= 12
        admin = Path(home) / "admin.txt"
        assert f"password = {password}\n" in admin.read_text()
        assert admin.stat().st_mode & 0o077 == 0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
            assert "Sign in" in r.read().decode()  # the demo said where only once it answered
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    assert proc.returncode == 0
