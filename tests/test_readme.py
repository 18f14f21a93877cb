"""The README and docs/ as a district pastes them: every box config is safe, every command runs.

Each ```toml block that is a box config (it has [door], [reader] or [strike]) must load and pass the
power-on check; a fragment ([fleet], [network], ...) must load on top of the default pin map. Each
line of a command block that starts with ``doorward`` or ``.venv/bin/doorward`` is run, in order,
against a demo box (seeded like ``doorward demo``, its controller running on the mock back-end) or,
for ``doorward fleet``, against a district made by the page's own ``fleet init`` and a real broker.
A line's expected exit status is 0 unless its comment says ``# exits N``.
"""

from __future__ import annotations

import re
import shlex
import threading
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.cli import build_parser, main
from appliance.cli.demo import seed
from appliance.config import load_config, parse_config
from appliance.controller import Controller
from appliance.firmware import power_on_problems
from appliance.fleet.signing import new_private_key, public_key_text
from appliance.store import Store
from appliance.testing.mosquitto import Mosquitto, running_mosquitto
from appliance.testing.pki import Pki

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DEFAULT_MAP = ROOT / "wiring" / "doorward.toml"
BOX_SECTIONS = ("[door]", "[reader]", "[strike]")
FENCE = re.compile(r"^```([\w-]*)\n(.*?)^```$", re.S | re.M)
EXITS = re.compile(r"#.*\bexits (\d+)\b")
CSV_NAME = re.compile(r"`([\w.-]+\.csv)`")
# Paths the pages use for the demo box, a box and the district; the test's own stand in for them.
DEMO_CONFIG = "~/.local/state/doorward-demo/doorward.toml"
BOX_CONFIG = "/var/lib/doorward/doorward.toml"
DISTRICT = "/srv/district"
DISTRICT_BROKER = "mqtts://mqtt.district.example:8883"
# Commands that run until stopped, or need root and a real card: only parsed (every option must be
# one the command knows), never run.
PARSE_ONLY = {
    "run": "the door controller: runs until SIGTERM",
    "web": "the admin page: serves until SIGTERM",
    "demo": "a whole demo box of its own: runs until Ctrl-C",
    "provision": "rewrites /etc and the boot partition: root on a box only",
    "fleet-agent": "runs until SIGTERM, needs the district's broker",
    "serve": "`fleet serve`: runs until SIGTERM",
    "--follow": "`events --follow`: prints until Ctrl-C",
    "-f": "`events -f`: prints until Ctrl-C",
}


@dataclass(frozen=True)
class Block:
    page: Path
    lang: str
    text: str
    start: int  # the byte offset of the fence in the page, for the text before it

    def where(self) -> str:
        return f"{self.page.name} ({self.lang or 'plain'} block at offset {self.start})"


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``."""
    text = page.read_text()
    return [Block(page, m.group(1), m.group(2), m.start()) for m in FENCE.finditer(text)]


def commands(block: Block) -> list[tuple[str, int]]:
    """The ``doorward`` lines of a block (continuations joined) with the exit status expected."""
    found: list[tuple[str, int]] = []
    lines = block.text.replace("\\\n", " ").splitlines()
    for line in lines:
        line = line.strip()
        if line.startswith(".venv/bin/doorward ") or line.startswith("doorward "):
            expected = EXITS.search(line)
            found.append((line, int(expected.group(1)) if expected else 0))
    return found


def toml_blocks() -> list[Block]:
    return [b for page in PAGES for b in blocks(page) if b.lang == "toml"]


@pytest.mark.parametrize("block", toml_blocks(), ids=Block.where)
def test_every_example_config_loads_and_is_safe_at_power_on(block: Block, tmp_path: Path) -> None:
    """A box config as printed; a fragment on top of the default pin map."""
    fragment = tomllib.loads(block.text)
    if any(section in block.text for section in BOX_SECTIONS):
        text = block.text
    else:
        text = DEFAULT_MAP.read_text() + "\n" + block.text
    _files_it_names(fragment, tmp_path)
    path = tmp_path / "doorward.toml"
    path.write_text(text)
    config = load_config(path)
    assert power_on_problems(config) == [], block.where()


def _files_it_names(fragment: dict[str, object], base: Path) -> None:
    """The files a [fleet] section names, made beside the config (a real district key)."""
    fleet = fragment.get("fleet")
    if not isinstance(fleet, dict):
        return
    for key in ("ca_file", "cert_file", "key_file", "district_public_key"):
        value = fleet.get(key)
        if not isinstance(value, str) or (key == "district_public_key" and "." not in value):
            continue  # a key given inline, not as a file
        target = base / value
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(public_key_text(new_private_key().public_key()) + "\n")


def test_the_default_pin_map_is_what_the_pages_use() -> None:
    """The README's own box config is the installer's map, byte for byte in its pins."""
    default = load_config(DEFAULT_MAP)
    readme = [b for b in blocks(ROOT / "README.md") if b.lang == "toml" and "[reader]" in b.text]
    assert readme, "the README shows no box config"
    for block in readme:
        shown = parse_config(tomllib.loads(block.text))
        assert shown.pins() == default.pins(), block.where()


def test_the_readme_demo_runs_as_pasted_in_the_clone() -> None:
    """Without an activated venv ``doorward`` is not on the PATH; the lost fob is ``card lost``."""
    readme = ROOT / "README.md"
    lines = [line for b in blocks(readme) if b.lang == "sh" for line, _ in commands(b)]
    assert lines, "the README shows no doorward command"
    for line in lines:
        assert line.startswith(".venv/bin/doorward "), line
    assert any(" card lost --serial CPD-0043" in line for line in lines)


class Bench:
    """Where a page's commands run: a demo box with its controller, and (once asked) a district."""

    def __init__(self, home: Path, seeded: bool = True) -> None:
        self.home = home
        self.config = home / "box" / "doorward.toml"
        self.config.parent.mkdir()
        text = DEFAULT_MAP.read_text().replace('backend = "gpiod"', 'backend = "mock"')
        # The simulated door switch rests at its pull: pulled up it reads shut (no held-open alarm).
        dps, rest = text.split("[dps]", 1)
        text = dps + "[dps]" + rest.replace("pull_up = false", "pull_up = true", 1)
        self.config.write_text('data_dir = "data"\n' + text)
        config = load_config(self.config)
        with Store.for_data_dir(config.data_dir) as store:
            store.init(config.door.name)
            if seeded:
                seed(store)
        self.controller = Controller(config)
        self._thread = threading.Thread(target=self.controller.run, daemon=True)
        self._thread.start()
        assert self.controller.started.wait(20), "the demo box's controller did not start"
        self._broker: ExitStack | None = None
        self.broker: Mosquitto | None = None
        self.broker_url = ""

    def district_broker(self) -> str:
        """A real broker with TLS, and the console's files (ca.pem, console.pem/.key) in home."""
        if self._broker is None:
            pki = Pki(self.home)
            cert, key = pki.issue("broker", server=True)
            pki.issue("console")
            self._broker = ExitStack()
            broker = self._broker.enter_context(
                running_mosquitto(
                    self.home / "mosquitto", tls={"ca": pki.ca, "cert": cert, "key": key}
                )
            )
            self.broker = broker
            self.broker_url = broker.url
        return self.broker_url

    def close(self) -> None:
        self.controller.stop()
        self._thread.join(10)
        if self._broker is not None:
            self._broker.close()


@pytest.fixture
def bench(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bench]:
    monkeypatch.chdir(tmp_path)
    the_bench = Bench(tmp_path)
    monkeypatch.setenv("DOORWARD_CONFIG", str(the_bench.config))
    try:
        yield the_bench
    finally:
        the_bench.close()


def _argv(line: str, bench: Bench) -> list[str]:
    if DISTRICT_BROKER in line:
        line = line.replace(DISTRICT_BROKER, bench.district_broker())
    for path in (DEMO_CONFIG, BOX_CONFIG):
        line = line.replace(path, str(bench.config))
    line = line.replace(DISTRICT, str(bench.home / "district"))
    return shlex.split(line, comments=True)[1:]


def _parse_only(argv: list[str]) -> str | None:
    """Why this command is only parsed, or None to run it."""
    words = [w for w in argv if not w.startswith("-")]
    for option in ("--config", "--district"):
        if option in argv:
            words.remove(argv[argv.index(option) + 1])
    named = words[:1] if words[:1] != ["fleet"] else words[1:2]
    for word in [*named, *argv]:
        if word in PARSE_ONLY and (word.startswith("-") or word in named):
            return PARSE_ONLY[word]
    return None


def _csv_files(page: Path, home: Path) -> None:
    """Each ```csv block, saved under the file name the text just before it gives."""
    text = page.read_text()
    for block in blocks(page):
        if block.lang == "csv":
            names = CSV_NAME.findall(text[max(0, block.start - 400) : block.start])
            assert names, f"{block.where()}: say which `FILE.csv` this block is"
            (home / names[-1]).write_text(block.text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_command_runs_as_written(
    page: Path, bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    _csv_files(page, bench.home)
    lines = [c for b in blocks(page) if b.lang in ("", "sh", "console") for c in commands(b)]
    for line, expected in lines:
        argv = _argv(line, bench)
        if _parse_only(argv) is not None:
            try:
                build_parser().parse_args(argv)
            except SystemExit as exc:
                assert "--help" in argv and exc.code == 0, f"{page.name}: {line}: {exc}"
            continue
        code = main(argv)
        out = capsys.readouterr()
        assert code == expected, f"{page.name}: {line}\nexit {code}\n{out.out}{out.err}"


def test_a_fleet_change_the_broker_misses_is_kept_and_sent_later(
    bench: Bench, capsys: pytest.CaptureFixture[str]
) -> None:
    """As docs/fleet.md says: exit 1 while the broker is unreachable, then ``publish`` sends it."""
    fleet = ["fleet", "--district", str(bench.home / "district")]
    broker = bench.district_broker()
    tls = ["--ca-file", "ca.pem", "--cert-file", "console.pem", "--key-file", "console.key"]
    assert main([*fleet, "init", "--name", "natrona", "--broker", broker, *tls]) == 0
    assert bench.broker is not None
    bench.broker.stop()
    card = ["--format", "H10301", "--facility", "100", "--number", "1001", "--holder", "Ortiz"]
    assert main([*fleet, "card", "add", *card, "--serial", "CPD-0042"]) == 1
    assert "not yet published" in capsys.readouterr().err
    bench.broker.start()
    assert main([*fleet, "publish"]) == 0
    assert main([*fleet, "card", "list"]) == 0
    assert "CPD-0042" in capsys.readouterr().out
