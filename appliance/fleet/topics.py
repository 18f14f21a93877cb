"""Where fleet messages go: every topic lives under ``doorward/<district>/``."""

from __future__ import annotations

import re

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
ROOT = "doorward"


def check_name(value: str, what: str) -> str:
    """A district or box id: 1-64 letters, digits, '-' or '_' (no MQTT wildcards or levels)."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be 1-64 letters, digits, '-' or '_'")
    return value


def snapshot(district: str) -> str:
    """The signed snapshot of the whole list (retained)."""
    return f"{ROOT}/{district}/list/snapshot"


def change(district: str, version: int) -> str:
    """One signed change (retained until a later snapshot covers it)."""
    return f"{ROOT}/{district}/list/change/{version}"


def changes(district: str) -> str:
    """Every change (a subscription)."""
    return f"{ROOT}/{district}/list/change/+"


def box(district: str, box_id: str, what: str) -> str:
    """A box's ``status`` (retained, last will offline), ``events``, ``rejections``, or ``ack``.

    ``ack`` is the console's: the newest event id of this box it has stored (retained).
    """
    return f"{ROOT}/{district}/box/{box_id}/{what}"


def boxes(district: str, what: str) -> str:
    """The same topic of every box (a subscription)."""
    return f"{ROOT}/{district}/box/+/{what}"


def parse_change(district: str, topic: str) -> int | None:
    """The version a change topic names, or None if the topic is not one."""
    prefix = f"{ROOT}/{district}/list/change/"
    if not topic.startswith(prefix):
        return None
    tail = topic[len(prefix) :]
    if not tail.isascii() or not tail.isdigit() or len(tail) > 18 or tail.startswith("0"):
        return None
    return int(tail)


def parse_box(district: str, topic: str) -> tuple[str, str] | None:
    """(box id, what) for a box topic, or None."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:3] != [ROOT, district, "box"]:
        return None
    if not NAME_RE.fullmatch(parts[3]):
        return None
    return parts[3], parts[4]
