"""A whole box for the browser: controller and admin page as their own processes, and Chromium.

Debian's chromium (no browser download), driven by Playwright's Python API. Screenshots of each
page go to tests/artifacts/ so a person can look.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from appliance.cli.demo_web import start_web, wait_for_port
from appliance.store import Store
from appliance.testing.box import start_controller_process, write_config
from appliance.testing.chromium import CHROMIUM, CHROMIUM_ARGS

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@dataclass
class Box:
    url: str
    config: Path
    setup_code: str

    def doorward(self, *args: str) -> str:
        """Run a ``doorward`` command against this box; its output."""
        out = subprocess.run(
            [sys.executable, "-m", "appliance.cli", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return out.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def box(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Box]:
    home = tmp_path_factory.mktemp("box")
    config = write_config(home, extra="[dps]\npin = 22\npull_up = false\n")
    init = subprocess.run(
        [sys.executable, "-m", "appliance.cli", "--config", str(config), "init"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = re.search(r"setup code (\S+)", init.stdout)
    assert found, init.stdout
    with Store.for_data_dir(home / "data") as store:
        store.cards.add("H10301", 12, 3456, "Ms. Shah", serial="KW-1", actor="test")
    controller = start_controller_process(config)
    port = _free_port()
    web = start_web(config, port)
    try:
        assert wait_for_port(port, web, 30), f"the admin page did not start on port {port}"
        yield Box(f"http://127.0.0.1:{port}", config, found.group(1))
    finally:
        for proc in (web, controller):
            proc.terminate()
            proc.wait(30)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make browser-test` installs it (as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot under tests/artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
