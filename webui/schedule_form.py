"""The group form: doors, a weekly schedule of (days, start, end) rows, holidays and flags."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appliance.core import schedule as sched
from appliance.core.schedule import ScheduleError
from appliance.store import GroupRow
from webui.forms import Form

MAX_ROWS = sched.MAX_WINDOWS
# Day presets of a schedule row; "custom" takes a list such as "mon,wed,fri" or "tue-thu".
PRESETS: dict[str, tuple[str, tuple[int, ...]]] = {
    "mon-fri": ("Monday to Friday", (0, 1, 2, 3, 4)),
    "sat-sun": ("Saturday and Sunday", (5, 6)),
    "daily": ("Every day", (0, 1, 2, 3, 4, 5, 6)),
}
CUSTOM = "custom"
DAY_CHOICES = (*PRESETS, CUSTOM)
_SPLIT_RE = re.compile(r"[\s,;]+")


@dataclass
class Row:
    """One schedule row as the form shows it."""

    days: str = "mon-fri"
    custom: str = ""
    start: str = ""
    end: str = ""

    @property
    def blank(self) -> bool:
        """No times given: the row is ignored when saving."""
        return not self.start.strip() and not self.end.strip()


@dataclass
class GroupForm:
    """What the group form shows: the submitted or stored values, and the errors found."""

    form: Form
    rows: list[Row] = field(default_factory=list)

    def value(self, name: str, default: str = "") -> str:
        """A plain field's value as submitted (or stored)."""
        return self.form.data.get(name, default)


@dataclass(frozen=True)
class GroupSettings:
    """A group's validated settings, as the store's add_group and update_group take them."""

    doors: list[str] | None
    always: bool
    schedule: list[dict[str, Any]] | None
    holidays: list[str]
    lockdown_immune: bool
    pin_required: bool

    def as_kwargs(self) -> dict[str, Any]:
        """The settings as keyword arguments for the store (a shallow copy, unlike asdict)."""
        return dict(vars(self))


def days_text(days: tuple[int, ...]) -> str:
    """Days 0..6 for people: 'Monday to Friday', or 'Mon, Wed, Fri'."""
    for label, preset in PRESETS.values():
        if days == preset:
            return label
    return ", ".join(sched.DAY_NAMES[d].capitalize() for d in days)


def row_from_days(days: tuple[int, ...], start: str, end: str) -> Row:
    """A form row for a stored window."""
    for key, (_, preset) in PRESETS.items():
        if days == preset:
            return Row(key, "", start, end)
    return Row(CUSTOM, ",".join(sched.DAY_NAMES[d] for d in days), start, end)


def from_group(group: GroupRow) -> GroupForm:
    """The form filled in from a stored group."""
    data = {
        "doors_mode": "all" if group.all_doors else "listed",
        "doors": ", ".join(group.doors),
        "when": "always" if group.always else "schedule",
        "holidays": "\n".join(d.isoformat() for d in group.holidays),
        "lockdown_immune": "yes" if group.lockdown_immune else "",
        "pin_required": "yes" if group.pin_required else "",
    }
    rows = [row_from_days(w.days, w.start, w.end) for w in group.schedule] or [Row()]
    return GroupForm(Form(data), rows)


def blank(door: str) -> GroupForm:
    """The form for a new group: this door, at all times, one empty schedule row."""
    data = {"doors_mode": "listed", "doors": door, "when": "always"}
    return GroupForm(Form(data), [Row()])


def submitted(data: Mapping[str, str]) -> GroupForm:
    """The form as posted, with its rows; add_row / remove_row edit the rows (nothing saved)."""
    form = Form(data)
    count = form.integer("rows", "Number of schedule rows", low=0, high=MAX_ROWS)
    rows = [
        Row(
            data.get(f"days-{i}", ""),
            data.get(f"custom-{i}", ""),
            data.get(f"start-{i}", ""),
            data.get(f"end-{i}", ""),
        )
        for i in range(count or 0)
    ]
    remove = data.get("remove_row", "")
    if remove.isascii() and remove.isdigit() and int(remove) < len(rows):
        del rows[int(remove)]
    if "add_row" in data:
        if len(rows) < MAX_ROWS:
            rows.append(Row())
        else:
            form.error("rows", f"a schedule has at most {MAX_ROWS} rows")
    return GroupForm(form, rows or [Row()])


def editing_rows(data: Mapping[str, str]) -> bool:
    """Whether the post asked to add or remove a row rather than to save."""
    return "add_row" in data or "remove_row" in data


def _doors(form: Form) -> list[str] | None:
    if form.choice("doors_mode", "Doors", ("all", "listed")) != "listed":
        return None
    text = form.text("doors", "Door names", max_len=5000)
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    if text is not None and not names:
        form.error("doors", "name at least one door, or choose every door")
    return names


def _windows(group: GroupForm) -> list[dict[str, Any]]:
    windows: list[dict[str, Any]] = []
    for i, row in enumerate(group.rows):
        if row.blank:
            continue
        if row.days not in DAY_CHOICES:
            group.form.error(
                f"row-{i}", f"row {i + 1}: days must be one of {', '.join(DAY_CHOICES)}"
            )
            continue
        days = row.custom if row.days == CUSTOM else row.days
        if len(days) > 100:
            group.form.error(f"row-{i}", f"row {i + 1}: the custom days are too long")
            continue
        try:
            window = sched.window({"days": days, "start": row.start, "end": row.end}, i)
        except ScheduleError as exc:
            group.form.error(f"row-{i}", str(exc).replace("schedule window", "row", 1))
            continue
        windows.append(window.as_json())
    if not windows and group.form.ok:
        group.form.error("when", "a schedule needs at least one row with days, start and end")
    return windows


def _holidays(form: Form) -> list[str]:
    text = form.text("holidays", "Holidays", required=False, max_len=20_000, multiline=True)
    dates: list[str] = []
    for item in _SPLIT_RE.split(text or ""):
        if not item:
            continue
        try:
            dates.append(sched.holiday(item).isoformat())
        except ScheduleError as exc:
            form.error("holidays", str(exc))
            break
    if len(set(dates)) > sched.MAX_HOLIDAYS:
        form.error(
            "holidays", f"{len(set(dates))} holidays given; the limit is {sched.MAX_HOLIDAYS}"
        )
    return dates


def settings(group: GroupForm) -> GroupSettings | None:
    """The validated settings, or None with the errors recorded on the form."""
    form = group.form
    doors = _doors(form)
    when = form.choice("when", "When", ("always", "schedule"))
    schedule = _windows(group) if when == "schedule" else None
    holidays = _holidays(form)
    if not form.ok or when is None:
        return None
    return GroupSettings(
        doors=doors,
        always=when == "always",
        schedule=schedule,
        holidays=holidays,
        lockdown_immune=form.data.get("lockdown_immune") == "yes",
        pin_required=form.data.get("pin_required") == "yes",
    )
