"""One audit event, one field list: the wire form a box ships home and every output built on it.

Pure (no I/O). The box's ``events`` table, the district's ``fleet_events``, the fleet message a box
ships home (``appliance.fleet.messages.BoxEvent`` checks the same fields with the same limits, and
calls ``from_wire``), ``doorward events --json``, ``fleet events --json``, the API's Event object
and the events CSV all spell an event with the fields below.

- The wire form (``as_wire``/``from_wire``): ``WIRE_KEYS``, every key always present; ``ts`` is Unix
  seconds (a float, exact to the microsecond until the year 2242), ``id`` the box's own event id.
- The view for people and scripts (``view``): ``VIEW_KEYS``, the time as ISO 8601 with an offset
  (the CLI: local time; the API: UTC) and ``text``, the event as a sentence. The district's
  (``district_view``) is the same with ``box``, ``box_event_id`` (= ``id``, the box's event id;
  the older name, kept) and ``school`` in front.
- The CSV (``CSV_COLUMNS``, ``csv_cells``): the view's columns, plus ``action`` (an admin change's)
  after ``kind`` and ``mode`` (the mode after a mode change) at the end; detail as sorted JSON.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Generic, Literal, Protocol, TypeVar

from appliance.core.describe import EventLike, mode_after, sentence

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_ID = 2**62
MAX_TS = 2**40  # Unix seconds: far beyond any clock, well inside a float's exact integers
MAX_DETAIL_CHARS = 1_000_000  # as JSON; an admin change's from/to (a group's doors) can be large
MAX_DETAIL_DEPTH = 32

Shape = Literal["id", "seconds", "text", "detail"]


@dataclass(frozen=True, slots=True)
class WireField:
    """One field of the wire form: its name, what it holds, whether null is allowed, its limits."""

    name: str
    shape: Shape
    nullable: bool
    max_len: int | None = None  # text: characters
    min_len: int = 0


FIELDS: tuple[WireField, ...] = (
    WireField("id", "id", False),
    WireField("ts", "seconds", False),
    WireField("kind", "text", False, max_len=32, min_len=1),
    WireField("reason", "text", True, max_len=2000),
    WireField("credential", "text", True, max_len=64),
    WireField("holder", "text", True, max_len=200),
    WireField("serial", "text", True, max_len=64),
    WireField("door", "text", True, max_len=100),
    WireField("actor", "text", True, max_len=100),
    WireField("detail", "detail", True),
)
FIELD = {f.name: f for f in FIELDS}
WIRE_KEYS = tuple(f.name for f in FIELDS)
BODY_KEYS = WIRE_KEYS[2:]  # what every copy of an event has besides its id and time
MAX_LEN = {f.name: f.max_len for f in FIELDS if f.max_len is not None}

VIEW_KEYS = ("id", "time", *BODY_KEYS, "text")
DISTRICT_VIEW_KEYS = ("box", "box_event_id", "school", *VIEW_KEYS)
CSV_COLUMNS = ("id", "time", BODY_KEYS[0], "action", *BODY_KEYS[1:], "text", "mode")


class WireError(ValueError):
    """A wire event refused: ``field`` names the bad field (``event`` for the whole object)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class StoredEvent(EventLike, Protocol):
    """An event as a store hands it out: the box's ``EventRow`` (its time an aware datetime).

    What a sentence is made of (``EventLike``), with its id, its time and its door.
    """

    @property
    def id(self) -> int: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def door(self) -> str | None: ...


class DistrictEvent(StoredEvent, Protocol):
    """An event home at the district: the box it came from and that box's own event id."""

    @property
    def box_id(self) -> str: ...
    @property
    def box_event_id(self) -> int: ...
    @property
    def school(self) -> str | None: ...


Time = TypeVar("Time", float, datetime)


@dataclass(frozen=True, slots=True)
class EventFields(Generic[Time]):
    """The fields (``WIRE_KEYS``) of every copy of an event; ``ts`` is Unix seconds as it
    travels (``WireEvent``), an aware datetime in a store (the box's and the district's rows)."""

    id: int
    ts: Time
    kind: str
    reason: str | None
    credential: str | None
    holder: str | None
    serial: str | None
    door: str | None
    actor: str | None
    detail: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class WireEvent(EventFields[float]):
    """An event as it travels: checked by ``from_wire``; ``ts`` in Unix seconds."""

    @property
    def ts_us(self) -> int:
        """The time in UTC microseconds, as both databases keep it."""
        return round(self.ts * 1_000_000)

    @property
    def at(self) -> datetime:
        """The time as an aware UTC datetime."""
        return EPOCH + timedelta(microseconds=self.ts_us)

    def as_wire(self) -> dict[str, Any]:
        """The plain JSON-able dict, keys ``WIRE_KEYS`` in order."""
        return {"id": self.id, "ts": self.ts, **body(self)}

    def body(self) -> dict[str, Any]:
        """The fields besides id and time (``BODY_KEYS``), detail as a plain dict."""
        return body(self)


def _detail_copy(detail: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if detail is None else dict(detail)


def body(event: StoredEvent | WireEvent) -> dict[str, Any]:
    """An event's fields besides its id and time (``BODY_KEYS``), detail copied to a dict."""
    return {
        "kind": event.kind,
        "reason": event.reason,
        "credential": event.credential,
        "holder": event.holder,
        "serial": event.serial,
        "door": event.door,
        "actor": event.actor,
        "detail": _detail_copy(event.detail),
    }


def wire_event(event: StoredEvent) -> WireEvent:
    """A stored event as it travels (its time to Unix seconds)."""
    return WireEvent(id=event.id, ts=event.ts.timestamp(), **body(event))


def as_wire(event: StoredEvent | WireEvent) -> dict[str, Any]:
    """The wire form of a stored or a travelling event: a plain dict, keys ``WIRE_KEYS``."""
    if isinstance(event, WireEvent):
        return event.as_wire()
    return wire_event(event).as_wire()


# -- checking what arrives --------------------------------------------------------------------


def _show(value: object, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _unicode(value: str, where: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise WireError(where, "is not valid Unicode (a lone surrogate)") from None


def _check_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WireError(name, f"must be an integer, not {_type(value)}")
    if not 1 <= value <= MAX_ID:
        raise WireError(name, f"must be from 1 to 2**62, not {_show(value)}")
    return value


def _check_seconds(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WireError(name, f"must be Unix seconds (a number), not {_type(value)}")
    if not (math.isfinite(value) and 0 <= value <= MAX_TS):
        raise WireError(name, f"must be Unix seconds from 0 to 2**40, not {_show(value)}")
    return float(value)


def _check_text(value: object, f: WireField) -> str | None:
    if value is None:
        if f.nullable:
            return None
        raise WireError(f.name, "is required (null given)")
    if not isinstance(value, str):
        raise WireError(f.name, f"must be text, not {_type(value)}")
    assert f.max_len is not None
    if not f.min_len <= len(value) <= f.max_len:
        low = "" if f.min_len == 0 else f"{f.min_len} to "
        raise WireError(f.name, f"is {len(value)} characters long; {low}{f.max_len} allowed")
    _unicode(value, f.name)
    return value


def _check_json(value: object, where: str, depth: int) -> None:
    """A JSON value (``depth``: how many objects and arrays hold it, the detail itself 1)."""
    if value is None or isinstance(value, bool | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise WireError(where, f"must be a finite number, not {value!r}")
        return
    if isinstance(value, str):
        _unicode(value, where)
        return
    if not isinstance(value, list | dict):
        raise WireError(where, f"holds a {_type(value)}, which JSON has not")
    if depth > MAX_DETAIL_DEPTH:
        raise WireError(where, f"is nested more than {MAX_DETAIL_DEPTH} deep")
    if isinstance(value, list):
        for i, item in enumerate(value):
            _check_json(item, f"{where}[{i}]"[:200], depth + 1)
        return
    for key, item in value.items():
        if not isinstance(key, str):
            raise WireError(where, f"has a key that is not text: {_show(key)}")
        _unicode(key, f"{where} key {_show(key)}")
        _check_json(item, f"{where}.{key}"[:200], depth + 1)


def _check_detail(value: object) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise WireError("detail", f"must be a JSON object or null, not {_type(value)}")
    _check_json(value, "detail", 1)
    size = len(json.dumps(value))
    if size > MAX_DETAIL_CHARS:
        raise WireError("detail", f"is {size} characters of JSON; {MAX_DETAIL_CHARS} allowed")
    return value


def from_wire(data: object) -> WireEvent:
    """An event from the wire, every field checked (type and size); unknown keys refused."""
    if not isinstance(data, dict):
        raise WireError("event", f"must be a JSON object, not {_type(data)}")
    unknown = [k for k in data if k not in FIELD]
    if unknown:
        names = ", ".join(_show(k, 40) for k in unknown[:5])
        raise WireError("event", f"unknown field(s) {names}; the fields are {', '.join(WIRE_KEYS)}")
    missing = [k for k in WIRE_KEYS if k not in data]
    if missing:
        raise WireError(missing[0], "is missing")
    return WireEvent(
        id=_check_int(data["id"], "id"),
        ts=_check_seconds(data["ts"], "ts"),
        kind=str(_check_text(data["kind"], FIELD["kind"])),
        reason=_check_text(data["reason"], FIELD["reason"]),
        credential=_check_text(data["credential"], FIELD["credential"]),
        holder=_check_text(data["holder"], FIELD["holder"]),
        serial=_check_text(data["serial"], FIELD["serial"]),
        door=_check_text(data["door"], FIELD["door"]),
        actor=_check_text(data["actor"], FIELD["actor"]),
        detail=_check_detail(data["detail"]),
    )


# -- the outputs built on it ------------------------------------------------------------------


def view(event: StoredEvent, *, zone: tzinfo | None = None) -> dict[str, Any]:
    """The event for people and scripts (``VIEW_KEYS``); ``zone`` None: the system's local time."""
    return _view(event.id, event, zone)


def district_view(event: DistrictEvent, *, zone: tzinfo | None = None) -> dict[str, Any]:
    """An event home at the district (``DISTRICT_VIEW_KEYS``): its box and school, then ``view``."""
    return {
        "box": event.box_id,
        "box_event_id": event.box_event_id,
        "school": event.school,
        **_view(event.box_event_id, event, zone),
    }


def _view(event_id: int, event: StoredEvent, zone: tzinfo | None) -> dict[str, Any]:
    return {
        "id": event_id,
        "time": event.ts.astimezone(zone).isoformat(),
        **body(event),
        "text": sentence(event),
    }


def csv_cells(event: StoredEvent, zone: tzinfo | None) -> list[object]:
    """The event as CSV cells in ``CSV_COLUMNS`` order, before any formula guard (None: empty)."""
    fields = body(event)
    detail = fields["detail"]
    action = (detail or {}).get("action") if event.kind == "admin" else None
    cells: dict[str, object] = {
        "id": event.id,
        "time": event.ts.astimezone(zone).isoformat(timespec="seconds"),
        **fields,
        "action": action,
        "detail": json.dumps(detail, sort_keys=True) if detail else None,
        "text": sentence(event),
        "mode": mode_after(event),
    }
    return [cells[c] for c in CSV_COLUMNS]
