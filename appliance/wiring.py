"""The wiring diagram, drawn from the config's own pin map, so the two can never disagree.

Pure: no Flask. ``wiring_svg(config)`` returns a standalone SVG document (presentation
attributes only: no script, no style element), every text escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from appliance.config import Config

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
HEADER_PINS = 40

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
LEFT_DEVICES = ("reader",)  # drawn left of the header; the rest on the right
COLOURS = {
    "reader": "#1b7f3b",
    "strike": "#b3261e",
    "dps": "#1f5fbf",
    "rex": "#8a4fbf",
    "lockdown_button": "#c46a00",
    "other": "#555555",
}

# Geometry (px): the header's two columns, one row per pair of pins.
WIDTH = 900
HEADER_TOP = 70
ROW = 22
ODD_X = 440.0  # pins 1, 3, ... 39
EVEN_X = 470.0  # pins 2, 4, ... 40
NOTES_TOP = HEADER_TOP + 20 * ROW + 40
LEFT_BOX_X, RIGHT_BOX_X, BOX_WIDTH = 10.0, 750.0, 140.0
LEFT_LANE_X, RIGHT_LANE_X, LANE_GAP = 230.0, 690.0, 12.0


@dataclass(frozen=True, slots=True)
class PinRow:
    """One configured pin: its config key, what it is for, BCM number and header pin."""

    key: str
    label: str
    device: str
    bcm: int
    header: int


def header_position(physical: int) -> tuple[float, float]:
    """The centre of a physical header pin (1-40) in the diagram."""
    if not 1 <= physical <= HEADER_PINS:
        raise ValueError(f"header pin {physical} is not on the 40-pin header (1-40)")
    row = (physical - 1) // 2
    return (ODD_X if physical % 2 else EVEN_X), float(HEADER_TOP + row * ROW)


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
    notes = wiring_notes(config)
    height = NOTES_TOP + 24 * len(notes) + 20
    out: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
        _text(WIDTH / 2, 24, f"Wiring for {config.door.name}", size=16, anchor="middle"),
        _text(WIDTH / 2, 44, "Raspberry Pi 40-pin header (pin 1 top left)", anchor="middle"),
    ]
    out += _wires(rows)
    out += _header(rows)
    out += _devices(rows)
    out.append(_text(20, NOTES_TOP - 8, "Notes", size=13))
    for i, note in enumerate(notes):
        out.append(_text(20, NOTES_TOP + 12 + 24 * i, f"• {note}"))
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


def _side(device: str) -> str:
    return "left" if device in LEFT_DEVICES else "right"


def _header(rows: list[PinRow]) -> list[str]:
    used = {r.header: r for r in rows}
    top = HEADER_TOP - ROW / 2 - 2
    out = [
        f'<rect x="{ODD_X - 20:g}" y="{top:g}" width="{EVEN_X - ODD_X + 40:g}" '
        f'height="{20 * ROW + 4:g}" rx="4" fill="#2e2e2e"/>'
    ]
    bcm_at = {v: k for k, v in BCM_TO_HEADER.items()}
    for physical in range(1, HEADER_PINS + 1):
        x, y = header_position(physical)
        row = used.get(physical)
        colour = COLOURS[row.device] if row else "#9a9a9a"
        ring = ' stroke="#ffd000" stroke-width="3"' if row else ""
        out.append(
            f'<circle cx="{x:g}" cy="{y:g}" r="7" fill="{colour}"{ring} '
            f'data-pin="{physical}"><title>{escape(_pin_name(physical, bcm_at))}</title></circle>'
        )
        dx, anchor = (-24.0, "end") if physical % 2 else (24.0, "start")
        if row is not None:
            label = f"{physical} · GPIO{row.bcm} · {row.label}"
            out.append(_text(x + dx, y - 3, label, size=10, anchor=anchor, fill=colour, bold=True))
        else:
            out.append(
                _text(
                    x + dx, y + 4, _pin_name(physical, bcm_at), size=10, anchor=anchor, fill="#999"
                )
            )
    return out


def _pin_name(physical: int, bcm_at: Mapping[int, int]) -> str:
    if physical in POWER_PINS:
        return f"{physical} · {POWER_PINS[physical]}"
    return f"{physical} · GPIO{bcm_at[physical]}"


def _groups(rows: list[PinRow]) -> dict[str, list[PinRow]]:
    order = list(DEVICE_TITLES)
    groups: dict[str, list[PinRow]] = {}
    for row in sorted(rows, key=lambda r: (order.index(r.device), r.header)):
        groups.setdefault(row.device, []).append(row)
    return groups


def _ports(rows: list[PinRow]) -> dict[str, tuple[float, float, float, float]]:
    """Each pin key's port on its device box (x, y), and the box it sits in (top, height)."""
    ports: dict[str, tuple[float, float, float, float]] = {}
    tops = {"left": float(HEADER_TOP), "right": float(HEADER_TOP)}
    for device, members in _groups(rows).items():
        side = _side(device)
        top = tops[side]
        height = 30 + 22 * len(members)
        x = LEFT_BOX_X + BOX_WIDTH if side == "left" else RIGHT_BOX_X
        for i, row in enumerate(members):
            ports[row.key] = (x, top + 36 + 22 * i, top, height)
        tops[side] = top + height + 16
    return ports


def _devices(rows: list[PinRow]) -> list[str]:
    out: list[str] = []
    ports = _ports(rows)
    for device, members in _groups(rows).items():
        _, _, top, height = ports[members[0].key]
        left = LEFT_BOX_X if _side(device) == "left" else RIGHT_BOX_X
        colour = COLOURS[device]
        out.append(
            f'<rect x="{left:g}" y="{top:g}" width="{BOX_WIDTH:g}" height="{height:g}" rx="6" '
            f'fill="#f7f7f7" stroke={quoteattr(colour)} stroke-width="2"/>'
        )
        out.append(
            _text(left + BOX_WIDTH / 2, top + 18, DEVICE_TITLES[device], anchor="middle", bold=True)
        )
        for row in members:
            x, y, _, _ = ports[row.key]
            port = PIN_ROLES.get(row.key, (row.key, "other", row.key))[2]
            inner, anchor = (x - 10, "end") if _side(device) == "left" else (x + 10, "start")
            out.append(f'<circle cx="{x:g}" cy="{y:g}" r="4" fill="{colour}"/>')
            out.append(_text(inner, y + 4, port, anchor=anchor, fill=colour))
    return out


def _wires(rows: list[PinRow]) -> list[str]:
    """A line from each pin to its device's port, on a lane of its own beside the header."""
    out: list[str] = []
    ports = _ports(rows)
    lanes = {"left": 0, "right": 0}
    for row in rows:
        side = _side(row.device)
        px, py = header_position(row.header)
        port_x, port_y, _, _ = ports[row.key]
        lane = lanes[side]
        lanes[side] += 1
        lane_x = LEFT_LANE_X - LANE_GAP * lane if side == "left" else RIGHT_LANE_X + LANE_GAP * lane
        near = (px == ODD_X) == (side == "left")
        # a pin in the far column leaves between two rows, so it never runs through a pin
        run_y = py if near else py + ROW / 2
        points = [(px, py), (px, run_y), (lane_x, run_y), (lane_x, port_y), (port_x, port_y)]
        path = " ".join(f"{x:g},{y:g}" for x, y in points)
        out.append(
            f'<polyline points="{path}" fill="none" stroke="{COLOURS[row.device]}" '
            f'stroke-width="2" data-key={quoteattr(row.key)}/>'
        )
    return out
