"""One reader: edges in; cards, keys, PINs and counted rejections out; health counters kept.

Pure and total: any edge sequence yields events, never an exception and never a stall.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from appliance.wiegand.edges import Edge
from appliance.wiegand.formats import Credential, WiegandError, canonical_format, decode
from appliance.wiegand.frames import Fault, Frame, FrameAssembler, FrameTiming
from appliance.wiegand.keypad import KeypadMode, PinBuffer, PinEntry, hid26_pin, keys_from_frame

LOG = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CardRead:
    """A card's frame decoded; ``end_us`` is the frame's last edge."""

    credential: Credential
    end_us: int
    interval_us: int | None


@dataclass(frozen=True, slots=True)
class KeyPress:
    """One key on a keypad reader."""

    key: str
    end_us: int


@dataclass(frozen=True, slots=True)
class PinEntered:
    """A PIN typed on the keypad, ended by ``#`` (``end_us``: that key's last edge) or a timeout."""

    pin: str
    ended_by: str
    end_us: int


@dataclass(frozen=True, slots=True)
class Rejected:
    """A frame that is not a card: ``reason`` is one of short, long, parity, keypad, internal."""

    reason: str
    detail: str
    bits: str


@dataclass(frozen=True, slots=True)
class WiringFault:
    """Both lines low at once, or a line stuck low: a wiring fault, never a card."""

    kind: str
    detail: str


ReaderEvent = CardRead | KeyPress | PinEntered | Rejected | WiringFault


@dataclass
class ReaderHealth:
    """Counters for one reader (for the controller, ``doorward status`` and the admin page)."""

    frames: int = 0
    cards: int = 0
    keys: int = 0
    pins: int = 0
    noise_pulses: int = 0
    parity_failures: int = 0
    short_frames: int = 0
    long_frames: int = 0
    keypad_errors: int = 0
    wiring_faults: int = 0
    internal_errors: int = 0  # a bug in decoding: the frame is lost, the reader carries on
    last_fault: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The counters as plain data."""
        return asdict(self)


def _checked_formats(formats: Iterable[str] | None) -> tuple[str, ...] | None:
    """The site's format names, refused at once if one is unknown (not at every frame)."""
    if formats is None:
        return None
    if isinstance(formats, str):
        raise ValueError(
            f"formats must be a collection of format names, not the string {formats!r}"
        )
    names = tuple(formats)
    for name in names:
        canonical_format(name)  # raises WiegandError (a ValueError) naming the bad one
    return names


class WiegandReader:
    """Frame assembly, decoding and keypad handling for one reader, with its health counters."""

    def __init__(
        self,
        *,
        formats: Iterable[str] | None = None,
        keypad: KeypadMode = KeypadMode.NONE,
        frame_bits: int | None = None,
        tick_wrap: int | None = None,
        min_card_bits: int = 26,
        pin_timeout_us: int = 5_000_000,
        timing: FrameTiming | None = None,
    ) -> None:
        self.assembler = FrameAssembler(frame_bits=frame_bits, tick_wrap=tick_wrap, timing=timing)
        self.formats = _checked_formats(formats)
        self.keypad = KeypadMode(keypad)
        max_bits = self.assembler.timing.max_bits
        if isinstance(min_card_bits, bool) or not isinstance(min_card_bits, int):
            raise ValueError(f"min_card_bits must be an integer, got {min_card_bits!r}")
        if not 1 <= min_card_bits <= max_bits:
            raise ValueError(f"min_card_bits must be from 1 to {max_bits}, got {min_card_bits}")
        self.min_card_bits = min_card_bits
        self.pins = PinBuffer(timeout_us=pin_timeout_us)
        self.health = ReaderHealth()

    def set_levels(self, levels: tuple[int, int], now_us: int) -> None:
        """The lines' levels at start: a line already low is watched for being stuck."""
        self.assembler.set_levels(levels, now_us)

    def feed(self, edge: Edge) -> list[ReaderEvent]:
        """Process one edge; return the events it completes."""
        try:
            return self._handle(self.assembler.feed(edge))
        except Exception as exc:  # a bug must cost one frame, not the reader
            LOG.exception("reader failed on edge %s", edge)
            return [self._internal(exc)]
        finally:
            self.health.noise_pulses = self.assembler.noise_pulses

    def poll(self, now_us: int) -> list[ReaderEvent]:
        """Return what has completed by ``now_us`` (a gap ending a frame, a stuck line, a PIN)."""
        try:
            # PIN times are frame times: on the assembler's clock, unwrapped past the tick's wrap.
            now = self.assembler.unwrap(now_us)
            events = self._handle(self.assembler.poll(now_us))
            entry = self.pins.poll(now)
            if entry is not None:
                events.append(self._pin(entry, now))
            return events
        except Exception as exc:
            LOG.exception("reader failed polling at %s", now_us)
            return [self._internal(exc)]

    def deadline_in(self, now_us: int) -> int | None:
        """Microseconds until ``poll`` may return something, or None if nothing is pending."""
        times = [self.assembler.deadline_in(now_us)]
        pin_deadline = self.pins.deadline()
        if pin_deadline is not None:
            times.append(max(0, pin_deadline - self.assembler.unwrap(now_us)))
        pending = [t for t in times if t is not None]
        return min(pending) if pending else None

    # -- internals -------------------------------------------------------------------------
    def _handle(self, results: list[Frame | Fault]) -> list[ReaderEvent]:
        events: list[ReaderEvent] = []
        for result in results:
            if isinstance(result, Fault):
                self.health.wiring_faults += 1
                self.health.last_fault = result.detail
                LOG.warning("reader wiring fault: %s", result.detail)
                events.append(WiringFault(result.kind, result.detail))
            else:
                self.health.frames += 1
                events.extend(self._frame(result))
        return events

    def _frame(self, frame: Frame) -> list[ReaderEvent]:
        bits = frame.bits
        try:
            keys = keys_from_frame(bits, self.keypad)
            if keys is not None:
                return self._keys(keys, frame.end_us)
            if self.keypad == KeypadMode.HID26 and len(bits) == 26:
                pin = hid26_pin(bits)
                if pin is not None:
                    self.health.pins += 1
                    return [PinEntered(pin, "#", frame.end_us)]
        except WiegandError as exc:
            self.health.keypad_errors += 1
            return [self._reject("keypad", str(exc), bits)]
        if len(bits) < self.min_card_bits:
            self.health.short_frames += 1
            return [self._reject("short", f"{len(bits)}-bit frame is too short for a card", bits)]
        if len(bits) > self.assembler.timing.max_bits:
            self.health.long_frames += 1
            detail = f"frame longer than {self.assembler.timing.max_bits} bits"
            return [self._reject("long", detail, bits)]
        try:
            credential = decode(bits, self.formats)
        except WiegandError as exc:
            self.health.parity_failures += 1
            return [self._reject("parity", str(exc), bits)]
        self.health.cards += 1
        return [CardRead(credential, frame.end_us, frame.interval_us)]

    def _keys(self, keys: list[str], end_us: int) -> list[ReaderEvent]:
        events: list[ReaderEvent] = []
        for key in keys:
            self.health.keys += 1
            events.append(KeyPress(key, end_us))
            entry = self.pins.press(key, end_us)
            if entry is not None:
                events.append(self._pin(entry, end_us))
        return events

    def _pin(self, entry: PinEntry, end_us: int) -> PinEntered:
        self.health.pins += 1
        return PinEntered(entry.pin, entry.ended_by, end_us)

    def _internal(self, exc: Exception) -> Rejected:
        self.health.internal_errors += 1
        return Rejected("internal", f"{type(exc).__name__}: {exc}", "")

    def _reject(self, reason: str, detail: str, bits: str) -> Rejected:
        LOG.info("reader rejected a frame (%s): %s", reason, detail)
        return Rejected(reason, detail, bits)
