"""Property: a CSV import changes everything it says or nothing, and names every bad line."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appliance.store import ImportRejected, Store


@dataclass(frozen=True)
class Line:
    format: str
    facility: str
    number: str
    holder: str
    serial: str
    group: str
    notes: str
    bad: bool  # made invalid on purpose

    def card(self) -> tuple[str, int | None, int]:
        return (
            self.format.upper(),
            int(self.facility) if self.facility else None,
            int(self.number),
        )


@st.composite
def lines(draw: st.DrawFn) -> Line:
    fmt = draw(st.sampled_from(["H10301", "h10301", "H10302"]))
    facility = str(draw(st.integers(0, 2))) if fmt.upper() == "H10301" else ""
    number = str(draw(st.integers(0, 40)))
    holder = draw(st.sampled_from(["Ann", "Bo", " Cy ", "Diaz, Officer"]))
    serial = draw(st.sampled_from(["", "", "", *(f"S{i}" for i in range(12))]))
    group = draw(st.sampled_from(["", "staff", "responders"]))
    notes = draw(st.sampled_from(["", "x", "two\nlines", 'say "hi"\r\nthen\n']))
    flaw = draw(st.sampled_from([None] * 6 + ["format", "number", "facility", "holder", "group"]))
    if flaw == "format":
        fmt = "H1030"
    elif flaw == "number":
        number = draw(st.sampled_from(["", "-1", "1e3", "٣"]))
    elif flaw == "facility":
        facility = "256" if fmt.upper() == "H10301" else "1"
    elif flaw == "holder":
        holder = " "
    elif flaw == "group":
        group = "visitors"
    return Line(fmt, facility, number, holder, serial, group, notes, flaw is not None)


def _render(rows: list[Line]) -> tuple[str, list[int]]:
    """The CSV text and the line each row starts on (quoted newlines push later rows down)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Notes", "format", "facility", "number", "holder", "serial", "group"])
    starts = []
    for r in rows:
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow([r.notes, r.format, r.facility, r.number, r.holder, r.serial, r.group])
    return out.getvalue(), starts


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(lines(), max_size=12))
def test_all_or_nothing(store: Store, rows: list[Line]) -> None:
    # The store lives across examples: earlier imports are the "already on record" side.
    existing = store.cards.list(limit=10_000)
    on_record = {(r.format, r.facility, r.number) for r in existing}
    serials_on_record = {r.serial for r in existing if r.serial}
    rev, count = store.current_rev(), len(existing)
    text, starts = _render(rows)

    must_fail = {start for start, r in zip(starts, rows, strict=True) if r.bad}
    cards: set[tuple[str, int | None, int]] = set()
    serials: set[str] = set()
    for start, r in zip(starts, rows, strict=True):
        if r.bad:
            continue
        if r.card() in cards or r.card() in on_record:
            must_fail.add(start)
        if r.serial and (r.serial in serials or r.serial in serials_on_record):
            must_fail.add(start)
        cards.add(r.card())
        if r.serial:
            serials.add(r.serial)

    try:
        imported = store.cards.import_csv(text, actor="prop")
    except ImportRejected as err:
        reported = {line for line, _ in err.errors}
        assert must_fail, err.errors
        assert must_fail <= reported
        assert reported <= set(starts)
        assert store.current_rev() == rev
        assert store.cards.count() == count
    else:
        assert not must_fail
        assert imported == len(rows)
        assert store.cards.count() == count + len(rows)
        assert store.current_rev() == (rev + 1 if rows else rev)
