"""Where the wiring diagram puts the header, the device boxes and each wire (pure geometry).

The rule an installer relies on: every wire's last stretch runs along its pin's own row, from the
outside of that pin's column, and ends on the pin's centre. A device sits on the side of the header
where most of its pins are; a wire to a pin in the other column goes round the header through a
channel above or below it. Each wire that has to change rows does so on a lane of its own, outside
the pins' labels, and the lanes are ordered to cross as few other wires as possible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

HEADER_PINS = 40
WIDTH = 1000
ROW = 22  # pitch between two rows of pins
PIN_RADIUS = 7
CHANNEL_GAP = 8  # between two wires going round the header
CHANNELS = 2  # reserved above and below: a device has at most half its pins in the other column
HEADER_TOP = 70 + CHANNEL_GAP * CHANNELS  # the centre of pins 1 and 2
ODD_X = WIDTH / 2 - 15  # pins 1, 3, ... 39
EVEN_X = WIDTH / 2 + 15  # pins 2, 4, ... 40
HEADER_BOX = (ODD_X - 20, HEADER_TOP - ROW / 2 - 2, EVEN_X + 20, HEADER_TOP + 19.5 * ROW + 2)
LABEL_GAP = 24  # from a pin's centre to its label
LABEL_SPACE = 200  # the longest label, "11 · GPIO17 · lockdown button", in bold 10 px
LANE_GAP = 10
INNER_LANE = {"left": ODD_X - LABEL_GAP - LABEL_SPACE, "right": EVEN_X + LABEL_GAP + LABEL_SPACE}
BOX_WIDTH = 140.0
BOX_X = {"left": 10.0, "right": WIDTH - 10 - BOX_WIDTH}
PORT_X = {"left": BOX_X["left"] + BOX_WIDTH, "right": BOX_X["right"]}
# the title above the first port, below the last, between boxes: a one-pin box on each of two
# rows two apart (e.g. pins 33 and 37) has both its wires straight
BOX_HEAD, BOX_FOOT, BOX_GAP = 26.0, 10.0, 8.0
BOX_TITLE = 15.0  # the title's baseline below the box's top

Point = tuple[float, float]


def header_position(physical: int) -> Point:
    """The centre of a physical header pin (1-40) in the diagram."""
    if not 1 <= physical <= HEADER_PINS:
        raise ValueError(f"header pin {physical} is not on the 40-pin header (1-40)")
    row = (physical - 1) // 2
    return (ODD_X if physical % 2 else EVEN_X), float(HEADER_TOP + row * ROW)


def column_side(physical: int) -> str:
    """The side of the header a pin's column faces: odd pins the left, even pins the right."""
    return "left" if physical % 2 else "right"


@dataclass(frozen=True, slots=True)
class Wire:
    """A wire to draw: its config key, the device box it comes from, and its header pin."""

    key: str
    device: str
    header: int


@dataclass(frozen=True, slots=True)
class DeviceBox:
    """A device's box: its side of the header, left edge, top and height."""

    side: str
    x: float
    top: float
    height: float


@dataclass
class Layout:
    """The whole drawing's geometry: boxes, ports, and each wire's points from port to pin."""

    boxes: dict[str, DeviceBox] = field(default_factory=dict)
    ports: dict[str, Point] = field(default_factory=dict)
    routes: dict[str, list[Point]] = field(default_factory=dict)

    @property
    def bottom(self) -> float:
        """The lowest thing drawn: the header, its lower channels, or a device box."""
        lowest = HEADER_BOX[3] + CHANNEL_GAP * CHANNELS
        return max([lowest, *(b.top + b.height for b in self.boxes.values())])


@dataclass
class _Leg:
    """One wire's vertical run on one side: its span and where it turns outward or inward."""

    key: str
    lo: float
    hi: float
    outer: list[float]  # heights of its horizontals towards the device boxes
    inner: list[float]  # heights of its horizontals towards the header


def _leg(key: str, a: float, b: float, outer: list[float], inner: list[float]) -> _Leg:
    return _Leg(key, min(a, b), max(a, b), outer, inner)


def layout(wires: Sequence[Wire], device_order: Sequence[str]) -> Layout:
    """Place every device box and route every wire."""
    result = Layout()
    groups: dict[str, list[Wire]] = {}
    for wire in sorted(wires, key=lambda w: (device_order.index(w.device), w.header)):
        groups.setdefault(wire.device, []).append(wire)
    sides = {device: _device_side(device, members) for device, members in groups.items()}
    for side in ("left", "right"):
        here = [d for d in groups if sides[d] == side]
        cursor = HEADER_TOP - BOX_HEAD
        for device in sorted(here, key=lambda d: groups[d][0].header):
            port_y = cursor + BOX_HEAD - ROW
            first: float | None = None
            for wire in groups[device]:
                port_y = _port_height(wire, side, port_y + ROW)
                first = port_y if first is None else first
                result.ports[wire.key] = (PORT_X[side], port_y)
            assert first is not None
            top = first - BOX_HEAD
            result.boxes[device] = DeviceBox(side, BOX_X[side], top, port_y + BOX_FOOT - top)
            cursor = port_y + BOX_FOOT + BOX_GAP
    _route(result, [w for members in groups.values() for w in members], sides)
    return result


def _port_height(wire: Wire, side: str, lowest: float) -> float:
    """A port level with its own pin where it can be (a straight wire), else between two rows.

    Between rows, a port's wire can never be in line with another wire's last stretch, which
    would look like one wire to the wrong pin.
    """
    pin_y = header_position(wire.header)[1]
    if column_side(wire.header) == side and lowest <= pin_y:
        return pin_y
    return HEADER_TOP + (math.ceil((lowest - HEADER_TOP) / ROW - 0.5) + 0.5) * ROW


def _device_side(device: str, members: Sequence[Wire]) -> str:
    left = sum(1 for w in members if column_side(w.header) == "left")
    if left * 2 == len(members):
        return "left" if device == "reader" else "right"
    return "left" if left * 2 > len(members) else "right"


def _route(result: Layout, wires: Sequence[Wire], sides: dict[str, str]) -> None:
    channels = _channels([w for w in wires if column_side(w.header) != sides[w.device]])
    legs: dict[str, list[_Leg]] = {"left": [], "right": []}
    for wire in wires:
        _, port_y = result.ports[wire.key]
        pin_y = header_position(wire.header)[1]
        home, far = sides[wire.device], column_side(wire.header)
        if home == far:
            if port_y != pin_y:
                legs[home].append(_leg(wire.key, port_y, pin_y, [port_y], [pin_y]))
        else:
            ch = channels[wire.key]
            legs[home].append(_leg(wire.key, port_y, ch, [port_y], [ch]))
            legs[far].append(_leg(wire.key, ch, pin_y, [], [ch, pin_y]))
    lanes: dict[tuple[str, str], float] = {}
    for side, side_legs in legs.items():
        step = -LANE_GAP if side == "left" else LANE_GAP
        for i, leg in enumerate(_lane_order(side_legs)):
            lanes[(leg.key, side)] = INNER_LANE[side] + step * i
    for wire in wires:
        port = result.ports[wire.key]
        pin = header_position(wire.header)
        home, far = sides[wire.device], column_side(wire.header)
        points = [port]
        if home == far:
            if (wire.key, home) in lanes:
                lane = lanes[(wire.key, home)]
                points += [(lane, port[1]), (lane, pin[1])]
        else:
            ch, out, into = channels[wire.key], lanes[(wire.key, home)], lanes[(wire.key, far)]
            points += [(out, port[1]), (out, ch), (into, ch), (into, pin[1])]
        result.routes[wire.key] = [*points, pin]


def _channels(crossing: Sequence[Wire]) -> dict[str, float]:
    """A height above or below the header for each wire that goes round it."""
    top = sorted((w for w in crossing if w.header <= HEADER_PINS // 2), key=lambda w: w.header)
    bottom = sorted((w for w in crossing if w.header > HEADER_PINS // 2), key=lambda w: -w.header)
    # the nearest pin takes the channel nearest the header, so these wires nest without crossing
    heights = {w.key: HEADER_BOX[1] - CHANNEL_GAP * (i + 1) for i, w in enumerate(top)}
    heights |= {w.key: HEADER_BOX[3] + CHANNEL_GAP * (i + 1) for i, w in enumerate(bottom)}
    return heights


def _cost(inside: _Leg, outside: _Leg) -> int:
    """The crossings between two legs when ``inside`` runs on the lane nearer the header."""

    def meets(y: float, leg: _Leg) -> int:
        if leg.lo < y < leg.hi:
            return 1
        # through the other wire's corner, or along its horizontal: never
        return 1000 if y in (leg.lo, leg.hi) else 0

    return sum(meets(y, inside) for y in outside.inner) + sum(
        meets(y, outside) for y in inside.outer
    )


def _lane_order(legs: Sequence[_Leg]) -> list[_Leg]:
    """The legs from the lane nearest the header outwards, with the fewest crossings."""
    n = len(legs)
    cost = [[_cost(a, b) for b in legs] for a in legs]
    # best[mask]: the least crossings with the legs in ``mask`` on the innermost lanes
    best: dict[int, tuple[int, list[int]]] = {0: (0, [])}
    for mask in range(1 << n):
        if mask not in best:
            continue
        total, order = best[mask]
        for j in range(n):
            if not mask & (1 << j):
                step = total + sum(cost[i][j] for i in order)
                nxt = mask | (1 << j)
                if nxt not in best or step < best[nxt][0]:
                    best[nxt] = (step, [*order, j])
    return [legs[i] for i in best[(1 << n) - 1][1]]
