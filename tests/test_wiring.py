"""The wiring diagram is drawn from the config's pin map: every pin, in the right place."""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from appliance.config import Config, load_config, parse_config
from appliance.firmware import gpio_lines, power_on_problems
from appliance.wiring import (
    BCM_TO_HEADER,
    POWER_PINS,
    header_position,
    pin_table,
    wiring_notes,
    wiring_svg,
)

SVG = "{http://www.w3.org/2000/svg}"


def make_config(**door: Any) -> Config:
    return parse_config(
        {
            "door": {"name": 'Gym <door> & "side"', **door},
            "reader": {"d0": 14, "d1": 15, "led_pin": 18, "beeper_pin": 23},
            "strike": {"pin": 26},
            "dps": {"pin": 22},
            "rex": {"pin": 27},
            "lockdown_button": {"pin": 17, "pull_up": False},
        }
    )


def parsed(config: Config) -> ET.Element:
    return ET.fromstring(wiring_svg(config).encode())


def test_the_header_map_covers_every_pin_once() -> None:
    assert sorted(BCM_TO_HEADER) == list(range(28))
    physical = sorted([*BCM_TO_HEADER.values(), *POWER_PINS])
    assert physical == list(range(1, 41))


@pytest.mark.parametrize(
    ("bcm", "physical"), [(2, 3), (14, 8), (15, 10), (17, 11), (26, 37), (21, 40), (0, 27)]
)
def test_known_pins(bcm: int, physical: int) -> None:
    assert BCM_TO_HEADER[bcm] == physical


def test_header_positions_two_columns_odd_left() -> None:
    x1, y1 = header_position(1)
    x2, y2 = header_position(2)
    x39, y39 = header_position(39)
    x40, y40 = header_position(40)
    assert x1 == x39 < x2 == x40 and y1 == y2 < y39 == y40
    assert header_position(8)[1] == header_position(7)[1]  # GPIO14 (D0 here) on row 4
    with pytest.raises(ValueError, match="not on the 40-pin header"):
        header_position(41)


def test_every_configured_pin_is_drawn_at_its_header_pin() -> None:
    config = make_config()
    root = parsed(config)
    wires = {e.get("data-key"): e for e in root.iter(f"{SVG}polyline")}
    assert set(wires) == set(config.pins())
    for key, bcm in config.pins().items():
        x, y = header_position(BCM_TO_HEADER[bcm])
        end = wires[key].get("points", "").split()[-1]
        assert end == f"{x:g},{y:g}", key  # each wire ends on its own header pin
    circles = {c.get("data-pin"): c for c in root.iter(f"{SVG}circle") if c.get("data-pin")}
    assert len(circles) == 40
    used = {str(BCM_TO_HEADER[b]) for b in config.pins().values()}
    for pin, circle in circles.items():
        assert (circle.get("stroke") is not None) is (pin in used)
    assert (circles["37"].get("cx"), circles["37"].get("cy")) == tuple(
        f"{v:g}" for v in header_position(37)
    )
    texts = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    for label in ("8 · GPIO14 · D0", "10 · GPIO15 · D1", "37 · GPIO26 · strike relay",
                  "15 · GPIO22 · DPS", "13 · GPIO27 · REX", "12 · GPIO18 · LED",
                  "16 · GPIO23 · beeper", "11 · GPIO17 · lockdown button"):  # fmt: skip
        assert label in texts


def test_text_is_escaped_and_there_is_no_script() -> None:
    source = wiring_svg(make_config())
    assert 'Gym &lt;door&gt; &amp; "side"' in source
    root = ET.fromstring(source.encode())
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}style"))
    assert "on" not in {a[:2] for e in root.iter() for a in e.attrib}


def test_notes_follow_the_lock_type_and_inputs() -> None:
    secure = " ".join(wiring_notes(make_config()))
    safe = " ".join(wiring_notes(make_config(lock_type="fail_safe")))
    assert "Fail-secure strike" in secure and "Fail-safe" not in secure
    assert "Fail-safe maglock" in safe and "Fail-secure" not in safe
    assert "power cut releases the door" in safe
    assert "level shifter" in secure and "Common ground" in secure
    assert "Lockdown button: a dry contact that takes its input high (pulled down)" in secure
    assert "DPS: a dry contact between its GPIO and GND (pulled up)" in secure
    assert "LED and beeper lines" in secure and "sinking output" in secure
    assert "Fail-safe maglock" in wiring_svg(make_config(lock_type="fail_safe"))


def test_a_minimal_config_draws_only_its_pins() -> None:
    config = parse_config(
        {"door": {"name": "x"}, "reader": {"d0": 2, "d1": 3}, "strike": {"pin": 4}}
    )
    rows = pin_table(config.pins())
    assert [(r.key, r.header) for r in rows] == [
        ("reader.d0", 3), ("reader.d1", 5), ("strike.pin", 7)
    ]  # fmt: skip
    wires = {e.get("data-key") for e in parsed(config).iter(f"{SVG}polyline")}
    assert wires == {"reader.d0", "reader.d1", "strike.pin"}


WIRING = Path(__file__).resolve().parents[1] / "wiring"


def _render_script() -> Any:
    spec = importlib.util.spec_from_file_location("wiring_render", WIRING / "render.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_default_pin_map_is_a_safe_complete_box() -> None:
    config = load_config(WIRING / "doorward.toml")
    assert config.gpio.backend == "gpiod" and config.door.lock_type == "fail_secure"
    assert config.dps is not None and config.rex is not None
    assert power_on_problems(config) == []
    # The Automation HAT's own pins: relays 13/19/16, inputs 26/20/21, outputs 5/12/6, I2C 2/3.
    hat = {13, 19, 16, 26, 20, 21, 5, 12, 6, 2, 3}
    assert config.strike.pin == 13 and not config.strike.active_low
    assert {config.reader.d0, config.reader.d1}.isdisjoint(hat)


def test_the_committed_diagram_is_the_pin_map_drawn(tmp_path: Path) -> None:
    render = _render_script()
    assert (WIRING / "doorward.svg").read_text() == render.render(WIRING / "doorward.toml")
    assert render.main(["--check"]) == 0
    stale = tmp_path / "stale.svg"
    stale.write_text("<svg/>")
    assert render.main(["--check", "--output", str(stale)]) == 1
    assert (
        render.main(["--output", str(stale)]) == 0
        and render.main(["--check", "--output", str(stale)]) == 0
    )


def test_the_installers_page_shows_the_firmware_lines_of_the_default_map() -> None:
    lines = gpio_lines(load_config(WIRING / "doorward.toml"))
    assert "```\n" + "\n".join(lines) + "\n```" in (WIRING / "README.md").read_text()
