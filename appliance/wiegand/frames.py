"""Frame assembly: timestamped D0/D1 edges in, Wiegand frames and wiring faults out.

Pure: time is the edges' own timestamps (and ``now`` passed to ``poll``), never the wall clock.
A bit is counted when its pulse ends, so the pulse width can be checked first; a frame ends at once
when ``frame_bits`` is known, otherwise at a gap that adapts to the interval the reader itself uses
in this frame (a 1 ms reader is not made to wait for a 20 ms reader's gap).
"""

from __future__ import annotations

from dataclasses import dataclass

from appliance.wiegand.edges import D0, D1, HIGH, LOW, TIMEOUT, Edge

LINE_NAMES = ("D0", "D1")


@dataclass(frozen=True, slots=True)
class Frame:
    """The bits of one frame and when it happened (unwrapped µs on the source's clock)."""

    bits: str
    start_us: int  # first pulse's falling edge
    end_us: int  # last pulse's rising edge: the frame's last edge
    interval_us: int | None  # the longest bit interval seen (falling edge to falling edge)
    ended_by: str  # "frame_bits" or "gap"


@dataclass(frozen=True, slots=True)
class Fault:
    """A wiring fault: ``kind`` is "overlap" (both lines low at once) or "stuck" (held low)."""

    kind: str
    detail: str
    at_us: int


@dataclass(frozen=True, slots=True)
class FrameTiming:
    """The timing rules: SIA AC-01 limits and how long a gap ends a frame."""

    min_pulse_us: int = 20  # shorter is noise
    stuck_us: int = 50_000  # a line low this long is stuck (pulses are 20-100 µs)
    gap_factor: int = 3  # a frame ends after this many of its own longest bit intervals ...
    min_gap_us: int = 1_000  # ... but never sooner than this ...
    max_gap_us: int = 75_000  # ... nor later than this (3 x the 20 ms SIA maximum, plus margin)
    first_gap_us: int = 25_000  # with one bit, no interval is known yet: the SIA maximum + margin
    max_bits: int = 128


class _Unwrapper:
    """Extends a wrapping tick (pigpio's 32-bit µs) to a monotonic count; allows steps back."""

    def __init__(self, wrap: int | None) -> None:
        self.wrap = wrap
        self._raw: int | None = None
        self._ext = 0

    def __call__(self, t: int) -> int:
        if self.wrap is None:
            return t
        if self._raw is None:
            self._raw, self._ext = t, t
            return t
        delta = (t - self._raw) % self.wrap
        if delta > self.wrap // 2:  # a little earlier than the newest time seen: not a wrap
            return self._ext - (self.wrap - delta)
        self._raw = t
        self._ext += delta
        return self._ext


class FrameAssembler:
    """Turns edges into frames and faults: ``feed`` each edge, ``poll`` when a deadline passes."""

    def __init__(
        self,
        *,
        frame_bits: int | None = None,
        tick_wrap: int | None = None,
        timing: FrameTiming | None = None,
    ) -> None:
        self.timing = timing or FrameTiming()
        limit = self.timing.max_bits
        if frame_bits is not None and (
            isinstance(frame_bits, bool)
            or not isinstance(frame_bits, int)
            or not 1 <= frame_bits <= limit
        ):
            raise ValueError(f"frame_bits must be an integer from 1 to {limit}, got {frame_bits!r}")
        self.frame_bits = frame_bits
        if tick_wrap is not None and (
            isinstance(tick_wrap, bool) or not isinstance(tick_wrap, int) or tick_wrap <= 0
        ):
            raise ValueError(f"tick_wrap must be a positive integer or None, got {tick_wrap!r}")
        self.noise_pulses = 0
        self._unwrap = _Unwrapper(tick_wrap)
        self._low_since: list[int | None] = [None, None]
        self._stuck = [False, False]
        self._last_pulse: list[tuple[int, int] | None] = [None, None]  # last valid (start, end)
        self._bits: list[str] = []
        self._first_fall = 0
        self._last_fall = 0
        self._last_end = 0
        self._max_interval = 0
        self._discarding = False  # after a fault: drop pulses until the lines go quiet
        self._last_activity = 0
        self._complete_pending = False  # frame_bits reached while the other line was low

    # -- input -----------------------------------------------------------------------------
    def set_levels(self, levels: tuple[int, int], now_us: int) -> None:
        """Tell the assembler the lines' levels at start (a line already low may be stuck)."""
        now = self._unwrap(now_us)
        for line in (D0, D1):
            self._low_since[line] = now if levels[line] == LOW else None

    def feed(self, edge: Edge) -> list[Frame | Fault]:
        """Process one edge; return any frames or faults it completes."""
        t = self._unwrap(edge.t_us)
        out = self._expire(t)
        if edge.level == TIMEOUT:
            return out
        line = edge.line
        if line not in (D0, D1):
            return out
        other = D1 - line
        if edge.level == LOW:
            if self._low_since[line] is None:
                self._low_since[line] = t
            return out
        if edge.level != HIGH:
            return out
        start = self._low_since[line]
        if start is None:  # a rising edge on a line already high: nothing to end
            return out
        self._low_since[line] = None
        if self._stuck[line]:
            self._stuck[line] = False
            self._discarding = True
            self._last_activity = t
            return out
        if t - start < self.timing.min_pulse_us:
            self.noise_pulses += 1
            if self._complete_pending and self._low_since[other] is None:
                out.extend(self._finish(self._last_end, "frame_bits"))
            return out
        self._last_activity = t
        if self._discarding:
            return out
        if self._overlaps(start, self._last_pulse[other]) or self._other_low_for_long(other, t):
            self._last_pulse[line] = (start, t)
            return [*out, *self._fault("overlap", "D0 and D1 were low at the same time", t)]
        self._last_pulse[line] = (start, t)
        if self._complete_pending:
            out.extend(self._finish(self._last_end, "frame_bits"))
        self._add_bit("1" if line == D1 else "0", start, t)
        if self.frame_bits is not None and len(self._bits) == self.frame_bits:
            if self._low_since[other] is not None:
                self._complete_pending = True  # decide once the other line's pulse is judged
            else:
                out.extend(self._finish(t, "frame_bits"))
        return out

    def poll(self, now_us: int) -> list[Frame | Fault]:
        """Return what has completed by ``now_us`` (a gap that ended a frame, a line now stuck)."""
        return self._expire(self._unwrap(now_us))

    def unwrap(self, t_us: int) -> int:
        """``t_us`` on this assembler's unwrapped clock, the clock of its frames and faults."""
        return self._unwrap(t_us)

    def deadline_in(self, now_us: int) -> int | None:
        """Microseconds from ``now_us`` until ``poll`` may have something to return, or None."""
        now = self._unwrap(now_us)
        times = [t for t in (self._gap_deadline(), self._stuck_deadline()) if t is not None]
        return max(0, min(times) - now) if times else None

    # -- internals -------------------------------------------------------------------------
    def _add_bit(self, bit: str, start: int, end: int) -> None:
        if self._bits:
            self._max_interval = max(self._max_interval, start - self._last_fall)
        else:
            self._first_fall = start
            self._max_interval = 0
        if len(self._bits) <= self.timing.max_bits:  # one past the maximum marks it overlong
            self._bits.append(bit)
        self._last_fall = start
        self._last_end = end

    def _gap(self) -> int:
        if len(self._bits) < 2:
            return self.timing.first_gap_us
        gap = self.timing.gap_factor * self._max_interval
        if self.frame_bits is not None:
            # A card's frame completes at frame_bits, so the gap only ends odd frames: wait long
            # enough that a late-delivered edge can never cut a card's frame short.
            gap = max(gap, self.timing.first_gap_us)
        return min(max(gap, self.timing.min_gap_us), self.timing.max_gap_us)

    def _gap_deadline(self) -> int | None:
        if self._low_since != [None, None]:
            return None  # no gap while a pulse is on: it ends with an edge, or as a stuck line
        if self._discarding:
            return self._last_activity + self.timing.first_gap_us
        if not self._bits:
            return None
        return self._last_fall + self._gap()

    def _stuck_deadline(self) -> int | None:
        times = [
            since + self.timing.stuck_us
            for line, since in enumerate(self._low_since)
            if since is not None and not self._stuck[line]
        ]
        return min(times) if times else None

    def _expire(self, now: int) -> list[Frame | Fault]:
        out: list[Frame | Fault] = []
        for line in (D0, D1):
            since = self._low_since[line]
            if since is not None and not self._stuck[line] and now - since >= self.timing.stuck_us:
                self._stuck[line] = True
                detail = (
                    f"{LINE_NAMES[line]} held low for more than {self.timing.stuck_us // 1000} ms"
                )
                out.extend(self._fault("stuck", detail, now))
        if self._discarding:
            quiet = self._low_since == [None, None]
            if quiet and now - self._last_activity >= self.timing.first_gap_us:
                self._discarding = False
            return out
        lines_idle = self._low_since == [None, None]
        if self._bits and lines_idle and now - self._last_fall >= self._gap():
            out.extend(self._finish(self._last_end, "gap"))
        return out

    def _overlaps(self, start: int, other: tuple[int, int] | None) -> bool:
        return other is not None and other[1] > start

    def _other_low_for_long(self, other: int, now: int) -> bool:
        since = self._low_since[other]
        return since is not None and now - since >= self.timing.min_pulse_us

    def _fault(self, kind: str, detail: str, at: int) -> list[Frame | Fault]:
        self._reset_frame()
        self._discarding = True
        self._last_activity = at
        return [Fault(kind, detail, at)]

    def _finish(self, end: int, ended_by: str) -> list[Frame | Fault]:
        interval = self._max_interval if len(self._bits) > 1 else None
        frame = Frame("".join(self._bits), self._first_fall, end, interval, ended_by)
        self._reset_frame()
        return [frame]

    def _reset_frame(self) -> None:
        self._bits = []
        self._max_interval = 0
        self._complete_pending = False
