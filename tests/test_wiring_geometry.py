"""A person following each wire of the diagram lands on the pin it names, checked from the SVG.

Everything here is read back from the drawing (xml.etree): the pins' circles, the header's
rectangle, each wire's points and the document order, never the renderer's own layout.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from appliance.config import Config, load_config, parse_config
from appliance.wiring import BCM_TO_HEADER, PIN_ROLES, wiring_svg

SVG = "{http://www.w3.org/2000/svg}"
Point = tuple[float, float]
Box = tuple[float, float, float, float]  # x0, y0, x1, y1

# The demo's map with every optional pin too: eight wires at once.
FULL_MAP: dict[str, int] = {
    "reader.d0": 14,
    "reader.d1": 15,
    "reader.led_pin": 18,
    "reader.beeper_pin": 23,
    "strike.pin": 26,
    "dps.pin": 22,
    "rex.pin": 27,
    "lockdown_button.pin": 17,
}
ROLES = list(FULL_MAP)


def config_for(pins: dict[str, int]) -> Config:
    """A config with exactly these pin keys set."""
    data: dict[str, Any] = {"door": {"name": "Test door"}, "reader": {}, "strike": {}}
    for key, bcm in pins.items():
        section, field = key.split(".")
        data.setdefault(section, {})[field] = bcm
    return parse_config(data)


def moved(key: str, bcm: int) -> dict[str, int]:
    """FULL_MAP with ``key`` on ``bcm``; a key already there swaps onto ``key``'s old pin."""
    pins = dict(FULL_MAP)
    for other, pin in FULL_MAP.items():
        if pin == bcm:
            pins[other] = FULL_MAP[key]
    pins[key] = bcm
    return pins


@dataclass
class Drawing:
    """What the SVG shows, read back from its elements."""

    pins: dict[int, tuple[float, float, float]]  # physical pin -> centre x, y and radius
    header: Box
    header_order: int  # document position of the last header element (its rect and pins)
    wires: dict[str, list[Point]]
    wire_order: dict[str, int]
    boxes: list[Box]  # the device boxes
    texts: list[tuple[str, float, float, str]]  # text, x, y, anchor


def read(svg: str) -> Drawing:
    root = ET.fromstring(svg.encode())
    order = {id(e): i for i, e in enumerate(root.iter())}
    pins: dict[int, tuple[float, float, float]] = {}
    pin_order = 0
    for c in root.iter(f"{SVG}circle"):
        if c.get("data-pin"):
            pins[int(c.get("data-pin", ""))] = (
                float(c.get("cx", "")),
                float(c.get("cy", "")),
                float(c.get("r", "")),
            )
            pin_order = max(pin_order, order[id(c)])
    assert sorted(pins) == list(range(1, 41))
    rects: list[tuple[Box, ET.Element]] = []
    for r in root.iter(f"{SVG}rect"):
        x, y = float(r.get("x", "0")), float(r.get("y", "0"))
        box = (x, y, x + float(r.get("width", "")), y + float(r.get("height", "")))
        rects.append((box, r))
    holding = [
        (b, r)
        for b, r in rects
        if all(b[0] < cx < b[2] and b[1] < cy < b[3] for cx, cy, _ in pins.values())
    ]
    header, header_el = min(holding, key=lambda br: (br[0][2] - br[0][0]) * (br[0][3] - br[0][1]))
    wires: dict[str, list[Point]] = {}
    wire_order: dict[str, int] = {}
    for w in root.iter(f"{SVG}polyline"):
        key = w.get("data-key")
        if key:
            wires[key] = [
                (float(x), float(y)) for x, y in (p.split(",") for p in w.get("points", "").split())
            ]
            wire_order[key] = order[id(w)]
    boxes = [b for b, r in rects if r.get("stroke") and r is not header_el]
    texts = [
        (t.text or "", float(t.get("x", "")), float(t.get("y", "")), t.get("text-anchor", ""))
        for t in root.iter(f"{SVG}text")
    ]
    return Drawing(
        pins, header, max(order[id(header_el)], pin_order), wires, wire_order, boxes, texts
    )


def segments(points: list[Point]) -> list[tuple[Point, Point]]:
    return list(pairwise(points))


def distance(p: Point, a: Point, b: Point) -> float:
    """From point ``p`` to the segment ``a``-``b``."""
    (px, py), (ax, ay), (bx, by) = p, a, b
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    t = 0.0 if length == 0 else max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / length))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def enters(a: Point, b: Point, box: Box) -> bool:
    """Whether an axis-aligned segment passes through the inside of ``box`` (not its edge)."""
    x0, y0, x1, y1 = box
    lo_x, hi_x = sorted((a[0], b[0]))
    lo_y, hi_y = sorted((a[1], b[1]))
    return lo_x < x1 and hi_x > x0 and lo_y < y1 and hi_y > y0


def in_line(s: tuple[Point, Point], t: tuple[Point, Point], header: Box) -> bool:
    """Whether two wires' segments lie on one line, so that the eye could take them for one wire.

    Only the wires to the two pins of one row may, each from its own side of the header.
    """
    (a, b), (c, d) = s, t
    if a[1] == b[1] == c[1] == d[1]:
        left, right = sorted((s, t), key=lambda seg: min(seg[0][0], seg[1][0]))
        end, start = max(left[0][0], left[1][0]), min(right[0][0], right[1][0])
        return not end < (header[0] + header[2]) / 2 < start
    return a[0] == b[0] == c[0] == d[0]


def check(config: Config) -> None:
    """Every wire of this config's diagram visibly ends on the pin it names, from its side."""
    svg = wiring_svg(config)
    drawing = read(svg)
    pitch = drawing.pins[3][1] - drawing.pins[1][1]
    assert set(drawing.wires) == set(config.pins())
    for key, bcm in config.pins().items():
        physical = BCM_TO_HEADER[bcm]
        cx, cy, r = drawing.pins[physical]
        points = drawing.wires[key]
        where = f"{key} on GPIO{bcm} (pin {physical}): {points}"
        assert len(points) >= 2, where
        (fx, fy), (lx, ly) = points[-2], points[-1]
        # the last stretch ends on the pin's own circle, along the pin's own row ...
        assert math.hypot(lx - cx, ly - cy) <= r, where
        assert fy == ly == cy, where
        # ... arriving from outside the header on the pin's own side of it
        x0, _, x1, _ = drawing.header
        if physical % 2:
            assert fx <= x0 < cx, where
        else:
            assert cx < x1 <= fx, where
        # drawn over the header, not under it
        assert drawing.wire_order[key] > drawing.header_order, where
        for a, b in segments(points):
            assert a[0] == b[0] or a[1] == b[1], where  # square corners: easy to follow
            for other, (ox, oy, orad) in drawing.pins.items():
                if other != physical:
                    assert distance((ox, oy), a, b) > orad, f"{where} passes over pin {other}"
            for box in drawing.boxes:
                assert not enters(a, b, box), f"{where} runs through a device box {box}"
        for a, b in segments(points)[:-1]:
            assert not enters(a, b, drawing.header), f"{where} runs across the header"
        # its label names the pin and the GPIO, beside the pin on the same side
        label = f"{physical} · GPIO{bcm} · {PIN_ROLES[key][0]}"
        found = [(x, y, anchor) for text, x, y, anchor in drawing.texts if text == label]
        assert len(found) == 1, f"{where}: label {label!r}"
        x, y, anchor = found[0]
        assert abs(y - cy) < pitch / 2, where
        if physical % 2:
            assert anchor == "end" and cx - 40 < x < cx, where
        else:
            assert anchor == "start" and cx < x < cx + 40, where
    keys = list(drawing.wires)
    for n, key in enumerate(keys):
        for second in keys[n + 1 :]:
            for s in segments(drawing.wires[key]):
                for t in segments(drawing.wires[second]):
                    assert not in_line(s, t, drawing.header), f"{key}, {second} in line: {s} {t}"


def test_every_row_and_both_columns_are_covered() -> None:
    physical = set(BCM_TO_HEADER.values())
    assert {(p - 1) // 2 for p in physical} == set(range(1, 20))  # row 0 is 3V3 and 5V only
    assert {p % 2 for p in physical} == {0, 1}


@pytest.mark.parametrize("bcm", sorted(BCM_TO_HEADER))
@pytest.mark.parametrize("key", ROLES)
def test_each_role_on_each_gpio_with_every_other_wire(key: str, bcm: int) -> None:
    check(config_for(moved(key, bcm)))


@pytest.mark.parametrize("bcm", sorted(BCM_TO_HEADER))
@pytest.mark.parametrize("key", ["strike.pin", "reader.d0", "reader.d1"])
def test_each_gpio_alone_beside_the_required_pins(key: str, bcm: int) -> None:
    pins = {"reader.d0": 2, "reader.d1": 3, "strike.pin": 4}
    for other, pin in list(pins.items()):
        if pin == bcm:
            pins[other] = pins[key]
    pins[key] = bcm
    check(config_for(pins))


WIRING = Path(__file__).resolve().parents[1] / "wiring"

MAPS = {
    "demo": {"reader.d0": 14, "reader.d1": 15, "strike.pin": 26, "dps.pin": 22, "rex.pin": 27},
    "strike on pin 37, D0 on pin 7": {"reader.d0": 4, "reader.d1": 17, "strike.pin": 26},
    "all on the left column": {
        "reader.d0": 2, "reader.d1": 3, "reader.led_pin": 4, "reader.beeper_pin": 17,
        "strike.pin": 26, "dps.pin": 5, "rex.pin": 6, "lockdown_button.pin": 13,
    },
    "all on the right column": {
        "reader.d0": 14, "reader.d1": 15, "reader.led_pin": 18, "reader.beeper_pin": 23,
        "strike.pin": 21, "dps.pin": 20, "rex.pin": 16, "lockdown_button.pin": 12,
    },
    "the reader split across both columns": {
        "reader.d0": 2, "reader.d1": 21, "reader.led_pin": 14, "reader.beeper_pin": 19,
        "strike.pin": 20, "dps.pin": 3, "rex.pin": 15, "lockdown_button.pin": 26,
    },
    "the reader split, interleaved with the rest": {
        "reader.d0": 4, "reader.d1": 15, "reader.led_pin": 24, "reader.beeper_pin": 11,
        "strike.pin": 17, "dps.pin": 18, "rex.pin": 27, "lockdown_button.pin": 25,
    },
}  # fmt: skip


@pytest.mark.parametrize("name", list(MAPS))
def test_whole_maps(name: str) -> None:
    check(config_for(MAPS[name]))


def test_the_default_map() -> None:
    check(load_config(WIRING / "doorward.toml"))
