"""Cards for WiegandReader tests: any card a reader may present, and a check of what it gave back.

``cards`` and ``presented`` are hypothesis strategies (any known format, and its waveform);
``drive`` plays waves into a ``WiegandReader`` through ``wiegand_drive.Driver``.

Limits: needs ``hypothesis`` (the ``dev`` extra). ``check_events`` is an assertion helper: it
raises ``AssertionError`` when a reader's events or health counters disagree with each other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hypothesis import strategies as st

from appliance.testing.wiegand_drive import Driver, Wave, waves
from appliance.wiegand.edges import Edge
from appliance.wiegand.formats import FORMATS, Credential, credential_from_fields, decode, encode
from appliance.wiegand.keypad import KeypadMode
from appliance.wiegand.reader import (
    CardRead,
    KeyPress,
    PinEntered,
    ReaderEvent,
    Rejected,
    WiegandReader,
    WiringFault,
)

NAMED_LENGTHS = {spec.length for spec in FORMATS.values()}
FRAME_REASONS = ("short", "long", "parity", "keypad")


@st.composite
def cards(draw: st.DrawFn) -> Credential:
    """Any card of any format (RAW<N> for the lengths no named format has) with random fields."""
    fmt = draw(st.sampled_from([*FORMATS, "RAW"]))
    if fmt == "RAW":
        n = draw(st.integers(26, 128).filter(lambda n: n not in NAMED_LENGTHS))
        return credential_from_fields(f"RAW{n}", None, draw(st.integers(0, 2**n - 1)))
    spec = FORMATS[fmt]
    facility = draw(st.integers(0, 2**spec.facility_bits - 1)) if spec.has_facility else None
    return credential_from_fields(fmt, facility, draw(st.integers(0, 2**spec.number_bits - 1)))


@st.composite
def presented(draw: st.DrawFn) -> tuple[Credential, Wave]:
    """A card and the waveform a random SIA-conforming reader sends for it."""
    card = draw(cards())
    return card, draw(waves(st.just(card.bits)))


def formats_for(*creds: Credential) -> tuple[str, ...]:
    """The formats= argument that reads exactly these cards."""
    return tuple(c.format for c in creds)


def drive(
    reader: WiegandReader, edges: Sequence[Edge], start_us: int, wrap: int | None = None
) -> Driver[ReaderEvent]:
    """Feed ``edges`` to ``reader`` from ``start_us`` and poll until nothing is pending."""
    return Driver(reader, start_us, wrap).feed(edges).settle()


def check_events(reader: WiegandReader, events: Sequence[ReaderEvent]) -> None:
    """Every event is one a reader may give, and the health counters agree with the events."""
    for e in events:
        if isinstance(e, CardRead):  # never a credential its own bits do not say
            c = e.credential
            assert encode(c.format, c.number, c.facility) == c.bits
            assert decode(c.bits, reader.formats) == c
        elif isinstance(e, Rejected):
            assert e.reason in FRAME_REASONS and e.detail
        elif isinstance(e, WiringFault):
            assert e.kind in ("overlap", "stuck") and e.detail
        elif isinstance(e, KeyPress):
            assert e.key in "0123456789*#" and len(e.key) == 1
        else:
            assert e.pin.isdigit() and e.ended_by in ("#", "timeout")
    h = reader.health
    kinds = Counter(type(e) for e in events)
    reasons = Counter(e.reason for e in events if isinstance(e, Rejected))
    assert (h.cards, h.keys, h.pins, h.wiring_faults) == (
        kinds[CardRead],
        kinds[KeyPress],
        kinds[PinEntered],
        kinds[WiringFault],
    )
    assert (h.short_frames, h.long_frames, h.parity_failures, h.keypad_errors) == tuple(
        reasons[r] for r in FRAME_REASONS
    )
    frame_pins = h.pins if reader.keypad == KeypadMode.HID26 else 0  # else PINs are made of keys
    assert h.frames == h.cards + h.keys + frame_pins + sum(reasons.values())
    assert h.internal_errors == 0
    assert h.noise_pulses == reader.assembler.noise_pulses
