"""The demo's admin page (its account, ``doorward web`` as its own process) and its last words."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from appliance.store import Store

DEMO_USER = "demo"
ADMIN_FILE = "admin.txt"  # the admin page's address and the demo account, beside the config
STARTUP_SECONDS = 30


def start_web(config_file: Path, port: int) -> subprocess.Popen[str]:
    """``doorward --config CONFIG_FILE web --port PORT`` as its own process, its output dropped."""
    argv = ["--config", str(config_file), "web", "--port", str(port)]
    return subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def start_admin_page(
    config_file: Path, store: Store, port: int
) -> tuple[subprocess.Popen[str], str]:
    """Create the demo admin account and start the admin page; returns the process and password."""
    from webui.security import make_hasher

    password = secrets.token_urlsafe(12)  # fresh each run: no password is the same on two demos
    store.users.add(DEMO_USER, make_hasher({}).hash(password), "admin", actor="demo", first=True)
    proc = start_web(config_file, port)
    if not wait_for_port(port, proc, STARTUP_SECONDS):
        proc.kill()
        raise RuntimeError(f"the admin page did not start on port {port} (in use? try --web-port)")
    return proc, password


def wait_for_port(port: int, proc: subprocess.Popen[str], seconds: float) -> bool:
    """True once 127.0.0.1:``port`` accepts connections; False if ``proc`` ends or time runs out.

    The only sign another process gives that its server is up is the port answering.
    """
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                return False
            time.sleep(0.1)


def doorward_command(
    cwd: Path | None = None, executable: str = sys.executable, which: str | None = None
) -> str:
    """How to run this ``doorward`` as pasted here: ``doorward`` if PATH finds this one, else
    its path (``.venv/bin/doorward`` from the repository), else through this interpreter."""
    here = Path.cwd() if cwd is None else cwd
    mine = Path(executable).parent / "doorward"
    found = shutil.which("doorward") if which is None else which
    if found and mine.exists() and Path(found).resolve() == mine.resolve():
        return "doorward"
    if not mine.exists():
        return f"{shlex.quote(executable)} -m appliance.cli"
    try:
        return shlex.quote(str(mine.absolute().relative_to(here.absolute())))
    except ValueError:
        return shlex.quote(str(mine.absolute()))


def closing_block(
    config_file: Path, doorward: str, admin: tuple[str, str] | None, admin_file: Path
) -> str:
    """What the demo prints once the door is live: the commands, then the admin page's login."""
    run = f"{doorward} --config {shlex.quote(str(config_file))}"
    lines = [
        "",
        "The door is live. In another terminal (from here), present a card or change the door:",
        f"  {run} swipe --format H10301 --facility 100 --number 1002",
        f"  {run} card lost --serial CPD-0043",
        f"  {run} lockdown on",
        f"  {run} events --follow",
    ]
    if admin is not None:
        url, password = admin
        lines += [
            "",
            f"The admin page: {url}  (user {DEMO_USER}, password {password})",
            f"  (the address, user and password are also in {admin_file})",
        ]
    lines.append("Ctrl-C stops the demo.")
    return "\n".join(lines)


def write_admin_file(path: Path, url: str, password: str) -> None:
    """The admin page's address, user and password, readable by this user only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(fd, 0o600)  # an earlier file may have had other permissions
        out.write(f"url = {url}\nuser = {DEMO_USER}\npassword = {password}\n")
