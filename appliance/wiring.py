"""The wiring diagram, drawn from the config's own pin map, so the two can never disagree.

Pure: no Flask. ``wiring_svg(config)`` returns a standalone SVG document (presentation
attributes only: no script, no style element), every text escaped. Every wire is drawn over the
header and ends on its pin's centre, along the pin's own row (appliance.wiring_layout routes them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from appliance.config import Config
from appliance.wiring_layout import (
    BOX_TITLE,
    BOX_WIDTH,
    HEADER_BOX,
    PIN_RADIUS,
    WIDTH,
    Layout,
    Wire,
    column_side,
    layout,
)
from appliance.wiring_layout import (
    HEADER_PINS as HEADER_PINS,
)
from appliance.wiring_layout import header_position as header_position

# The Raspberry Pi's 40-pin header (every model since the B+): BCM GPIO number -> physical pin.
BCM_TO_HEADER: dict[int, int] = {
    2: 3, 3: 5, 4: 7, 14: 8, 15: 10, 17: 11, 18: 12, 27: 13, 22: 15, 23: 16,
    24: 18, 10: 19, 9: 21, 25: 22, 11: 23, 8: 24, 7: 26, 0: 27, 1: 28, 5: 29,
    6: 31, 12: 32, 13: 33, 19: 35, 16: 36, 26: 37, 20: 38, 21: 40,
}  # fmt: skip
POWER_PINS: dict[int, str] = {
    1: "3V3", 2: "5V", 4: "5V", 6: "GND", 9: "GND", 14: "GND", 17: "3V3",
    20: "GND", 25: "GND", 30: "GND", 34: "GND", 39: "GND",
}  # fmt: skip

# What each pin key is for: (label on the header, device box, the port's name in the box).
PIN_ROLES: dict[str, tuple[str, str, str]] = {
    "reader.d0": ("D0", "reader", "D0 (green)"),
    "reader.d1": ("D1", "reader", "D1 (white)"),
    "reader.led_pin": ("LED", "reader", "LED (brown)"),
    "reader.beeper_pin": ("beeper", "reader", "beeper (yellow)"),
    "strike.pin": ("strike relay", "strike", "relay IN"),
    "dps.pin": ("DPS", "dps", "switch"),
    "rex.pin": ("REX", "rex", "button"),
    "lockdown_button.pin": ("lockdown button", "lockdown_button", "button"),
}
DEVICE_TITLES = {
    "reader": "Wiegand reader",
    "strike": "Strike relay",
    "dps": "Door position switch",
    "rex": "Request-to-exit (REX)",
    "lockdown_button": "Lockdown button",
    "other": "Other",
}
COLOURS = {
    "reader": "#1b7f3b",
    "strike": "#b3261e",
    "dps": "#1f5fbf",
    "rex": "#8a4fbf",
    "lockdown_button": "#c46a00",
    "other": "#555555",
}
SUBTITLE = (
    "Raspberry Pi 40-pin header, pin 1 top left. "
    "Each label: header pin · BCM GPIO number · what connects there"
)


@dataclass(frozen=True, slots=True)
class PinRow:
    """One configured pin: its config key, what it is for, BCM number and header pin."""

    key: str
    label: str
    device: str
    bcm: int
    header: int


def pin_table(pins: Mapping[str, int]) -> list[PinRow]:
    """Every configured pin, in header order, with its label, device and header pin."""
    rows = []
    for key, bcm in pins.items():
        if bcm not in BCM_TO_HEADER:
            raise ValueError(f"{key}: GPIO {bcm} is not on the 40-pin header")
        label, device, _ = PIN_ROLES.get(key, (key, "other", key))
        rows.append(PinRow(key, label, device, bcm, BCM_TO_HEADER[bcm]))
    return sorted(rows, key=lambda r: r.header)


def wiring_svg(config: Config) -> str:
    """The wiring diagram for this box's config, as an SVG document."""
    rows = pin_table(config.pins())
    geometry = layout([Wire(r.key, r.device, r.header) for r in rows], list(DEVICE_TITLES))
    notes = wiring_notes(config)
    notes_top = geometry.bottom + 40
    height = notes_top + 24 * len(notes) + 20
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:g}" '
        f'viewBox="0 0 {WIDTH} {height:g}" font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height:g}" fill="#ffffff"/>',
        _text(WIDTH / 2, 24, f"Wiring for {config.door.name}", size=16, anchor="middle"),
        _text(WIDTH / 2, 44, SUBTITLE, anchor="middle"),
    ]
    # the header first: every wire is drawn over it, to the centre of its pin
    out += ['<g data-part="header">', *_header(rows), "</g>"]
    out += ['<g data-part="wires">', *_wires(rows, geometry), "</g>"]
    out += ['<g data-part="devices">', *_devices(rows, geometry), "</g>"]
    out.append(_text(20, notes_top - 8, "Notes", size=13))
    for i, note in enumerate(notes):
        out.append(_text(20, notes_top + 12 + 24 * i, f"• {note}"))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def wiring_notes(config: Config) -> list[str]:
    """The installer's notes for this config (level shifting, ground, the lock's relay)."""
    relay_in = "active low" if config.strike.active_low else "active high"
    if config.door.lock_type == "fail_safe":
        lock = (
            "Fail-safe maglock: lock power through the relay's COM and NO contacts; the relay is "
            "energised while locked, so a power cut releases the door."
        )
    else:
        lock = (
            "Fail-secure strike: strike power through the relay's COM and NO contacts; the relay "
            "is energised only to unlock, so a power cut leaves the door locked."
        )
    notes = [
        "The reader's D0/D1 lines are 5 V: bring them to 3.3 V (a level shifter, or pull-ups to "
        "3.3 V on open-collector lines); a 5 V signal on a GPIO pin damages the Pi.",
    ]
    if config.reader.led_pin is not None or config.reader.beeper_pin is not None:
        notes.append(
            "The reader's LED and beeper lines are pulled up inside the reader: switch them to "
            "ground through a transistor or a sinking output, never straight from a GPIO pin."
        )
    notes += [
        "Common ground: join the reader's, the relay module's and the lock supply's ground "
        "to a Pi GND pin (e.g. header pin 6).",
        lock + f" Relay input is {relay_in}.",
        "Put a flyback diode across a DC strike or maglock coil; never power the lock from the Pi.",
    ]
    for key, name in (("dps", "DPS"), ("rex", "REX"), ("lockdown_button", "Lockdown button")):
        section = getattr(config, key)
        if section is not None:
            if section.pull_up:
                notes.append(f"{name}: a dry contact between its GPIO and GND (pulled up).")
            else:
                notes.append(
                    f"{name}: a dry contact that takes its input high (pulled down): 3.3 V at a "
                    "bare GPIO pin, or the supply a buffered input is made for."
                )
    return notes


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = 11,
    anchor: str = "start",
    fill: str = "#222222",
    bold: bool = False,
) -> str:
    weight = ' font-weight="bold"' if bold else ""
    return (
        f'<text x="{x:g}" y="{y:g}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{fill}"{weight}>{escape(text)}</text>'
    )


def _header(rows: list[PinRow]) -> list[str]:
    used = {r.header: r for r in rows}
    x0, y0, x1, y1 = HEADER_BOX
    out = [
        f'<rect x="{x0:g}" y="{y0:g}" width="{x1 - x0:g}" height="{y1 - y0:g}" rx="4" '
        'fill="#2e2e2e"/>'
    ]
    bcm_at = {v: k for k, v in BCM_TO_HEADER.items()}
    for physical in range(1, HEADER_PINS + 1):
        x, y = header_position(physical)
        row = used.get(physical)
        colour = COLOURS[row.device] if row else "#9a9a9a"
        ring = ' stroke="#ffd000" stroke-width="3"' if row else ""
        out.append(
            f'<circle cx="{x:g}" cy="{y:g}" r="{PIN_RADIUS}" fill="{colour}"{ring} '
            f'data-pin="{physical}"><title>{escape(_pin_name(physical, bcm_at))}</title></circle>'
        )
        dx, anchor = (-24.0, "end") if column_side(physical) == "left" else (24.0, "start")
        if row is not None:
            # above the row, where the pin's wire runs in: the label sits on the wire
            label = f"{physical} · GPIO{row.bcm} · {row.label}"
            out.append(_text(x + dx, y - 5, label, size=10, anchor=anchor, fill=colour, bold=True))
        else:
            name = _pin_name(physical, bcm_at)
            out.append(_text(x + dx, y + 4, name, size=10, anchor=anchor, fill="#999"))
    return out


def _pin_name(physical: int, bcm_at: Mapping[int, int]) -> str:
    if physical in POWER_PINS:
        return f"{physical} · {POWER_PINS[physical]}"
    return f"{physical} · GPIO{bcm_at[physical]}"


def _devices(rows: list[PinRow], geometry: Layout) -> list[str]:
    out: list[str] = []
    for device, box in geometry.boxes.items():
        colour = COLOURS[device]
        out.append(
            f'<rect x="{box.x:g}" y="{box.top:g}" width="{BOX_WIDTH:g}" height="{box.height:g}" '
            f'rx="6" fill="#f7f7f7" stroke={quoteattr(colour)} stroke-width="2"/>'
        )
        title = DEVICE_TITLES[device]
        out.append(
            _text(box.x + BOX_WIDTH / 2, box.top + BOX_TITLE, title, anchor="middle", bold=True)
        )
        for row in (r for r in rows if r.device == device):
            x, y = geometry.ports[row.key]
            port = PIN_ROLES.get(row.key, (row.key, "other", row.key))[2]
            inner, anchor = (x - 10, "end") if box.side == "left" else (x + 10, "start")
            out.append(f'<circle cx="{x:g}" cy="{y:g}" r="4" fill="{colour}"/>')
            out.append(_text(inner, y + 4, port, anchor=anchor, fill=colour))
    return out


def _wires(rows: list[PinRow], geometry: Layout) -> list[str]:
    """Each wire from its device's port to its pin's centre, the last stretch on the pin's row."""
    out: list[str] = []
    for row in rows:
        points = geometry.routes[row.key]
        # a white edge under each wire, stopping at the header: where two wires cross, the
        # later one visibly passes over the earlier one
        edge = [
            *points[:-1],
            (HEADER_BOX[0] if points[-1][0] < WIDTH / 2 else HEADER_BOX[2], points[-1][1]),
        ]
        out.append(
            f'<path d="M{_points(edge, " L")}" fill="none" stroke="#ffffff" stroke-width="6"/>'
        )
        out.append(
            f'<polyline points="{_points(points, " ")}" fill="none" '
            f'stroke="{COLOURS[row.device]}" stroke-width="2" stroke-linejoin="round" '
            f"data-key={quoteattr(row.key)}/>"
        )
    return out


def _points(points: list[tuple[float, float]], sep: str) -> str:
    return sep.join(f"{x:g},{y:g}" for x, y in points)
