"""Take the README's screenshots of the admin page: ``.venv/bin/python docs/screenshots.py``.

Starts a demo box in a temporary directory (seeded like ``doorward demo``; the controller and the
admin page each in its own process, on 127.0.0.1 and a free port), plays a few cards, signs in
with Debian's Chromium (/usr/bin/chromium, through Playwright) at 1280 px and writes
docs/img/*.png. Run it by hand after changing a page, look at the images, and commit them.
"""

from __future__ import annotations

import secrets
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script from anywhere in the clone

from appliance.cli.demo import seed  # noqa: E402
from appliance.cli.demo_web import wait_for_port  # noqa: E402
from appliance.config import load_config  # noqa: E402
from appliance.store import Store  # noqa: E402
from appliance.testing.box import start_controller_process  # noqa: E402
from appliance.testing.chromium import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from webui.security import make_hasher  # noqa: E402

OUT = ROOT / "docs" / "img"
# (file name, path on the admin page): what the README shows, and a few more to look at.
PAGES = [
    ("dashboard", "/"),
    ("fobs", "/fobs"),
    ("events", "/events"),
    ("accountability", "/accountability"),
    ("door", "/door"),
    ("settings", "/settings"),
]
DOORWARD = [sys.executable, "-m", "appliance.cli"]
READS = [(100, 1001), (12, 3456), (100, 1003), (55, 999), (101, 2001)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _doorward(config: Path, *args: str) -> None:
    subprocess.run(
        [*DOORWARD, "--config", str(config), *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def demo_box(home: Path) -> tuple[Path, str]:
    """A demo box's config on the default pin map (mock back-end), seeded; (config, password)."""
    text = (ROOT / "wiring" / "doorward.toml").read_text()
    config_file = home / "doorward.toml"
    text = text.replace('"gpiod"', '"mock"').replace("unlock_seconds = 5", "unlock_seconds = 0.5")
    # The simulated door switch rests at its pull: pulled up it reads shut, as a real shut door.
    dps, rest = text.split("[dps]", 1)
    text = dps + "[dps]" + rest.replace("pull_up = false", "pull_up = true", 1)
    config_file.write_text('data_dir = "data"\n' + text)
    config = load_config(config_file)
    password = secrets.token_urlsafe(12)
    with Store.for_data_dir(config.data_dir) as store:
        store.init(config.door.name)
        seed(store)
        store.users.add(
            "principal", make_hasher({}).hash(password), "admin", actor="demo", first=True
        )
    return config_file, password


def main() -> int:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="doorward-shots-") as tmp:
        config, password = demo_box(Path(tmp))
        controller = start_controller_process(config)
        port = _free_port()
        web = subprocess.Popen(
            [*DOORWARD, "--config", str(config), "web", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        try:
            if not wait_for_port(port, web, 60):
                raise SystemExit(f"the admin page did not start on port {port}")
            for facility, number in READS:
                _doorward(
                    config,
                    "swipe",
                    "--format",
                    "H10301",
                    "--facility",
                    str(facility),
                    "--number",
                    str(number),
                )
            url = f"http://127.0.0.1:{port}"
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                page.goto(url + "/login")
                page.fill("#f-username", "principal")
                page.fill("#f-password", password)
                page.click("main button[type=submit]")
                page.wait_for_load_state()
                for name, path in PAGES:
                    page.goto(url + path)
                    page.wait_for_load_state("networkidle")
                    page.screenshot(path=str(OUT / f"{name}.png"))
                    print(f"docs/img/{name}.png")
                browser.close()
        finally:
            for proc in (web, controller):
                proc.terminate()
                proc.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
