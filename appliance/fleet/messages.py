"""Every fleet message body as a strict pydantic model: unknown fields, wrong types, refused.

The list (snapshot and changes) is signed by the district; the boxes' status, events and
rejection reports are not (the broker's per-box identity vouches for them) but are checked
the same way before the console stores anything.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from appliance.core import event_wire
from appliance.fleet.signing import Rejected
from appliance.fleet.topics import NAME_RE

Name = Annotated[str, Field(pattern=NAME_RE.pattern, min_length=1, max_length=64)]
Text = Annotated[str, Field(max_length=2000)]
Short = Annotated[str, Field(min_length=1, max_length=200)]
Version = Annotated[int, Field(ge=1, le=2**53)]
Micros = Annotated[int, Field(ge=0, le=2**62)]
Seconds = Annotated[float, Field(ge=0, le=2**40)]
Status = Literal["issued", "returned", "lost", "stolen", "revoked"]

MAX_CREDENTIALS = 5_000_000
MAX_CHANGE_CREDENTIALS = 200_000
MAX_GROUPS = 10_000
MAX_EVENTS_PER_BATCH = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class WindowItem(_Strict):
    """A weekly window of a group's schedule, as the store keeps it."""

    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    start: Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}$")]
    end: Annotated[str, Field(pattern=r"^[0-9]{2}:[0-9]{2}$")]


class GroupItem(_Strict):
    """An access group as the district defines it (built-in groups never travel)."""

    name: Annotated[str, Field(min_length=1, max_length=64)]
    all_doors: bool
    doors: list[Short] = Field(max_length=1000)
    always: bool
    schedule: list[WindowItem] = Field(max_length=50)
    holidays: list[Annotated[str, Field(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]] = Field(
        max_length=1000
    )
    lockdown_immune: bool
    pin_required: bool


class CredentialItem(_Strict):
    """A credential on the district list, with its holder and group by name."""

    format: Annotated[str, Field(min_length=1, max_length=16)]
    facility: Annotated[int, Field(ge=0, le=2**31)] | None
    number: Annotated[int, Field(ge=0, le=2**62)]
    serial: Annotated[str, Field(min_length=1, max_length=64)] | None
    holder: Short
    agency: Short | None
    badge: Annotated[str, Field(min_length=1, max_length=64)] | None
    group: Annotated[str, Field(min_length=1, max_length=64)]
    status: Status
    reason: Text | None
    valid_from_us: Micros | None
    valid_until_us: Micros | None
    pin_hash: Annotated[str, Field(min_length=1, max_length=200)] | None


class LockdownState(_Strict):
    """Which schools the district has locked down (``all``: every school)."""

    all: bool
    schools: list[Short] = Field(max_length=10_000)


class LockdownCommand(_Strict):
    """Lock down (on) or release (off) one school, or every school (school None)."""

    on: bool
    school: Short | None
    reason: Text | None


class Snapshot(_Strict):
    """The whole list at ``version``: what a box holds afterwards, district-wise."""

    type: Literal["snapshot"]
    district: Name
    version: Version
    issued_at: Seconds
    groups: list[GroupItem] = Field(max_length=MAX_GROUPS)
    credentials: list[CredentialItem] = Field(max_length=MAX_CREDENTIALS)
    lockdown: LockdownState


class Change(_Strict):
    """What changed since ``version - 1``: credentials whole, groups whole if any changed."""

    type: Literal["change"]
    district: Name
    version: Version
    issued_at: Seconds
    groups: list[GroupItem] | None = Field(max_length=MAX_GROUPS)
    credentials: list[CredentialItem] = Field(max_length=MAX_CHANGE_CREDENTIALS)
    lockdown: LockdownCommand | None


ListMessage = Snapshot | Change


def parse_list(body: Any, district: str, topic_version: int | None) -> ListMessage:
    """Check a verified body field by field; ``topic_version`` is the change topic's number."""
    if not isinstance(body, dict):
        raise Rejected("malformed", "the body is not a JSON object")
    kind = body.get("type")
    model: type[Snapshot] | type[Change]
    if kind == "snapshot" and topic_version is None:
        model = Snapshot
    elif kind == "change" and topic_version is not None:
        model = Change
    else:
        raise Rejected("malformed", f"a {kind!r} message does not belong on this topic")
    msg: ListMessage = _validate(model, body)
    if msg.district != district:
        raise Rejected("wrong_district", f"for district {msg.district!r}, not {district!r}")
    if topic_version is not None and msg.version != topic_version:
        raise Rejected("malformed", f"version {msg.version} published as change {topic_version}")
    return msg


def _validate(model: type[Any], body: Any) -> Any:
    try:
        return model.model_validate(body)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(body)"
        more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
        raise Rejected("malformed", f"{where}: {first['msg']}{more}") from None


# -- what boxes send home -------------------------------------------------------------------


class RejectionInfo(_Strict):
    """The last message a box refused."""

    at: Seconds
    topic: Annotated[str, Field(max_length=300)]
    reason: Annotated[str, Field(max_length=64)]
    detail: Text | None = None


class BoxStatus(_Strict):
    """A box's retained status (``online`` false: its last will, or it said goodbye)."""

    box_id: Name
    online: bool
    school: Short | None = None
    door: Short | None = None
    software: Annotated[str, Field(max_length=64)] | None = None
    list_version: Annotated[int, Field(ge=0, le=2**53)] | None = None
    list_applied_at: Seconds | None = None
    mode: Annotated[str, Field(max_length=32)] | None = None
    alarms: list[Annotated[str, Field(max_length=64)]] = Field(default_factory=list, max_length=50)
    outbox_pending: Annotated[int, Field(ge=0)] | None = None
    shipped_event_id: Annotated[int, Field(ge=0)] | None = None
    held_changes: Annotated[int, Field(ge=0)] | None = None
    conflicts: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list, max_length=100
    )
    rejections: Annotated[int, Field(ge=0)] | None = None
    last_rejection: RejectionInfo | None = None
    at: Seconds | None = None


def _wire_text(name: str) -> Any:
    """A text field's limits, from the one event definition."""
    return Field(min_length=event_wire.FIELD[name].min_len, max_length=event_wire.MAX_LEN[name])


class BoxEvent(_Strict):
    """One event from a box's audit log; ``id`` is the box's own event id.

    The fields and their limits are ``appliance.core.event_wire``'s, and every event is checked by
    its ``from_wire`` first (detail's depth, size and values too), so the two always agree.
    """

    id: Annotated[int, Field(ge=1, le=event_wire.MAX_ID)]
    ts: Annotated[float, Field(ge=0, le=event_wire.MAX_TS)]
    kind: Annotated[str, _wire_text("kind")]
    reason: Annotated[str, _wire_text("reason")] | None
    credential: Annotated[str, _wire_text("credential")] | None
    holder: Annotated[str, _wire_text("holder")] | None
    serial: Annotated[str, _wire_text("serial")] | None
    door: Annotated[str, _wire_text("door")] | None
    actor: Annotated[str, _wire_text("actor")] | None
    detail: dict[str, Any] | None

    @model_validator(mode="before")
    @classmethod
    def _one_definition(cls, data: Any) -> Any:
        try:
            event_wire.from_wire(data)
        except event_wire.WireError as err:  # "events.3: kind: ..." names the event and the field
            raise PydanticCustomError("event_wire", "{message}", {"message": str(err)}) from None
        return data

    def wire(self) -> event_wire.WireEvent:
        """The checked event as ``appliance.core.event_wire`` has it."""
        return event_wire.from_wire(self.model_dump())


class EventBatch(_Strict):
    """Events a box ships home, oldest first."""

    box_id: Name
    school: Short | None
    events: list[BoxEvent] = Field(min_length=1, max_length=MAX_EVENTS_PER_BATCH)


class RejectionReport(_Strict):
    """A box refused a message: what, where and why."""

    box_id: Name
    rejection: RejectionInfo


def parse_box_message(model: type[Any], body: Any, box_id: str) -> Any:
    """A box's message, checked; the body's box id must be the topic's."""
    msg = _validate(model, body)
    if msg.box_id != box_id:
        raise Rejected("malformed", f"box {msg.box_id!r} published as {box_id!r}")
    return msg
