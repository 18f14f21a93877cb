"""The fields of the issue and edit forms for a fob, each checked with a message naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from appliance.store import UNSET, GroupRow, Store, StoreError
from appliance.store.rows import Unset
from appliance.wiegand.formats import FORMATS, WiegandError, canonical_format
from webui import localtime
from webui.forms import Form
from webui.state import state

RESPONDERS = "responders"
HOLDER_CHOICES = 1000  # holders offered in the pick list; any other name on record is typed
# An agency whose name says it answers emergencies: its people are responders, not staff.
_RESPONDER_RE = re.compile(
    r"\b(police|sheriff|sheriff's|fire|ems|marshals?|troopers?|patrol|rescue|ambulance|"
    r"paramedics?|emergency|public safety|constable)\b",
    re.IGNORECASE,
)
_ONE_US = timedelta(microseconds=1)


def is_responder_agency(agency: str | None) -> bool:
    """Whether an agency's name says it is police, sheriff, fire, EMS or the like."""
    return agency is not None and _RESPONDER_RE.search(agency) is not None


@dataclass(frozen=True)
class FormatChoice:
    """A format the box accepts, and whether it carries a facility code (its range if so)."""

    name: str
    facility_max: int | None
    number_max: int


def accepted_formats(extra: str | None = None) -> list[FormatChoice]:
    """The config's ``[reader] formats`` (default: every named one), plus ``extra`` if RAW<N>."""
    names = list(state().config.reader.formats or FORMATS)
    try:
        raw = canonical_format(extra) if extra else None
    except WiegandError:
        raw = None  # the form says what is wrong with it
    if raw is not None and raw.startswith("RAW") and raw not in names:
        names.append(raw)
    return [_choice(name) for name in names]


def _choice(name: str) -> FormatChoice:
    spec = FORMATS.get(name)
    if spec is None:  # RAW<N>: the whole frame is the number
        return FormatChoice(name, None, (1 << int(name[3:])) - 1)
    fac = (1 << spec.facility_bits) - 1 if spec.has_facility else None
    return FormatChoice(name, fac, (1 << spec.number_bits) - 1)


@dataclass(frozen=True)
class Choices:
    """What the form offers: formats, holders (name, agency), agencies, groups."""

    formats: list[FormatChoice]
    holders: list[tuple[str, str | None]]
    agencies: list[str]
    groups: list[GroupRow]

    @property
    def responder_agencies(self) -> list[str]:
        """The agencies whose people the form suggests for the responders group."""
        return [a for a in self.agencies if is_responder_agency(a)]


def directory() -> Store:
    """The store, for its holder and agency reads (``store.holders``)."""
    return state().store


def choices(extra_format: str | None = None) -> Choices:
    """Everything the fob forms offer, read now."""
    found = directory()
    holders = [(h.name, h.agency) for h in found.holders.search(limit=HOLDER_CHOICES)]
    agencies = [a.name for a in found.holders.agencies() if a.name is not None]
    return Choices(accepted_formats(extra_format), holders, agencies, state().store.groups.list())


@dataclass(frozen=True)
class Card:
    """The card fields of the issue form."""

    format: str
    facility: int | None
    number: int


def read_card(form: Form, formats: list[FormatChoice]) -> Card | None:
    """Format (one the box accepts), facility (only if it has one, in range) and number."""
    raw = form.text("format", "Format", max_len=16)
    if raw is None:
        return None
    offered = {f.name: f for f in formats}
    try:
        name = canonical_format(raw)
    except WiegandError as exc:
        form.error("format", f"{exc}; choose one of {', '.join(offered)}")
        return None
    fmt = offered.get(name) or (_choice(name) if name.startswith("RAW") else None)
    if fmt is None:
        form.error(
            "format", f"Format {name} is not one this door's reader accepts: {', '.join(offered)}"
        )
        return None
    facility: int | None = None
    if fmt.facility_max is None:
        if form.data.get("facility", "").strip():
            form.error("facility", f"{name} has no facility code: leave Facility code empty")
    elif not form.data.get("facility", "").strip():
        form.error("facility", f"Facility code is required for {name}")
    else:
        facility = _in_range(form, "facility", "Facility code", name, fmt.facility_max)
    number = _in_range(form, "number", "Card number", name, fmt.number_max)
    if number is None or (fmt.facility_max is not None and facility is None):
        return None
    return Card(name, facility, number)


def _in_range(form: Form, name: str, label: str, fmt: str, high: int) -> int | None:
    value = form.integer(name, label)
    if value is not None and value > high:
        form.error(name, f"{label} must be from 0 to {high} for {fmt}")
        return None
    return value


@dataclass(frozen=True)
class HolderChoice:
    """A holder on record (agency UNSET) or a new one with their agency."""

    name: str
    agency: str | Unset

    @property
    def is_new(self) -> bool:
        """Whether the holder is to be created."""
        return self.agency is not UNSET


def read_holder(form: Form) -> HolderChoice | None:
    """Exactly one of: a holder on record, or a new holder with an agency (on record or new)."""
    name = form.text("holder", "Holder", required=False, max_len=200)
    new = form.text("new_holder", "New holder's name", required=False, max_len=200)
    if "holder" in form.errors or "new_holder" in form.errors:
        return None
    if name is None and new is None:
        form.error("holder", "Holder is required: choose one on record, or add a new holder below")
        return None
    if name is not None and new is not None:
        form.error("new_holder", "give either a holder on record or a new holder, not both")
        return None
    if name is not None:
        return HolderChoice(name, UNSET)
    picked = form.text("agency", "Agency", required=False, max_len=200)
    typed = form.text("new_agency", "New agency", required=False, max_len=200)
    if "agency" in form.errors or "new_agency" in form.errors:
        return None
    if picked is None and typed is None:
        form.error(
            "agency", "Agency is required for a new holder: choose one on record or name a new one"
        )
        return None
    if picked is not None and typed is not None:
        form.error("new_agency", "choose an agency on record or name a new one, not both")
        return None
    assert new is not None
    return HolderChoice(new, picked or typed or "")


def agency_of(holder: HolderChoice | None, known: list[tuple[str, str | None]]) -> str | None:
    """The agency of the chosen holder (new, or on record), for the group suggestion."""
    if holder is None:
        return None
    if isinstance(holder.agency, str):
        return holder.agency
    for name, agency in known:
        if name == holder.name:
            return agency
    try:  # not in the pick list: look the name up
        found = directory().holders.search(search=holder.name, limit=50)
    except StoreError:
        return None
    return next((h.agency for h in found if h.name == holder.name), None)


def read_group(form: Form, groups: list[GroupRow], agency: str | None) -> GroupRow | None:
    """A group on record, picked on purpose: there is no default."""
    by_name = {g.name: g for g in groups}
    raw = form.data.get("group", "")
    if not raw:
        hint = ""
        if is_responder_agency(agency) and RESPONDERS in by_name:
            hint = f" ({agency} is a responder agency, so {RESPONDERS} is suggested)"
        form.error("group", f"Group is required: choose one{hint}")
        return None
    if raw not in by_name:
        form.error("group", f"Group must be one of {', '.join(by_name)}")
        return None
    return by_name[raw]


def suggested_group(form: Form, agency: str | None) -> str:
    """The group the re-shown form selects: the one given, else responders for a responder."""
    given = form.data.get("group", "")
    if given:
        return given
    return RESPONDERS if "group" in form.errors and is_responder_agency(agency) else ""


def day_text(ts: datetime | None, *, end: bool) -> str:
    """A validity bound as the form's date: the first day, or for the end the last day."""
    if ts is None:
        return ""
    return localtime.local(ts - _ONE_US if end else ts).date().isoformat()


Bound = datetime | Unset | None


def read_validity(form: Form, current: tuple[str, str] = ("", "")) -> tuple[Bound, Bound]:
    """Valid from (first day) and until (last day, included), local dates; unchanged: UNSET."""
    first = localtime.read_date(form, "valid_from", "Valid from")
    last = localtime.read_date(form, "valid_until", "Valid until")
    if first and last and last < first:
        form.error("valid_until", "Valid until is before Valid from")
    start: Bound = localtime.midnight(first) if first else None
    end: Bound = localtime.midnight(last + timedelta(days=1)) if last else None
    if form.data.get("valid_from", "").strip() == current[0]:
        start = UNSET if current[0] else start
    if form.data.get("valid_until", "").strip() == current[1]:
        end = UNSET if current[1] else end
    return start, end


def read_pin(form: Form) -> str | None:
    """An optional PIN, 4 to 12 digits as the CLI takes it, typed twice the same."""
    pin = form.text("pin", "PIN", required=False, max_len=12, strip=False)
    again = form.data.get("pin_again", "")
    if pin is None:
        if again:
            form.error("pin", "PIN is empty but PIN (again) is not: type it in both")
        return None
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        form.error("pin", "PIN must be 4 to 12 digits")
        return None
    if again != pin:
        form.error("pin_again", "PIN (again) does not match PIN")
        return None
    return pin
