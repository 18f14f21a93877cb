"""The Store's accountability methods (a mixin): responder reviews, fob reports, event kinds."""

from __future__ import annotations

from appliance.store.db import Database
from appliance.store.tables import accountability, fob_reports
from appliance.store.tables.accountability import FobReportRow, ResponderEntry


class AccountabilityApi:
    """Mixed into Store: each method runs in one transaction and raises only StoreError."""

    _db: Database

    def event_kinds(self) -> list[str]:
        """The distinct event kinds on record, sorted."""
        with self._db.read("listing event kinds") as s:
            return accountability.event_kinds(s)

    def responder_entries(
        self,
        *,
        state: str = "all",
        limit: int = 100,
        before_id: int | None = None,
        after_id: int | None = None,
    ) -> list[ResponderEntry]:
        """Responder entries in a review state, newest first (oldest first with after_id)."""
        with self._db.read("listing responder entries") as s:
            return accountability.responder_entries(
                s, state=state, limit=limit, before_id=before_id, after_id=after_id
            )

    def count_responder_entries(self) -> tuple[int, int]:
        """(every responder entry, how many are unreviewed)."""
        with self._db.read("counting responder entries") as s:
            return accountability.count_responder_entries(s)

    def responder_entry(self, event_id: int) -> ResponderEntry | None:
        """One responder entry with its review; None if the event is not a responder entry."""
        with self._db.read("reading a responder entry") as s:
            return accountability.responder_entry(s, event_id)

    def review_entry(
        self, event_id: int, *, incident: str | None, note: str | None, actor: str
    ) -> ResponderEntry:
        """Record the review of a responder entry (once), naming ``actor`` as the reviewer."""
        with self._db.write("reviewing a responder entry") as s:
            return accountability.review(
                s, self._db.now_us(), event_id, incident=incident, note=note, actor=actor
            )

    def fob_report(
        self,
        report: str,
        *,
        days: int | None = None,
        limit: int = 100,
        after_id: int | None = None,
    ) -> list[FobReportRow]:
        """A page of never_used, not_seen (``days``) or lost, by credential id."""
        with self._db.read("building a fob report") as s:
            return fob_reports.fob_report(
                s, self._db.now_us(), report, days=days, limit=limit, after_id=after_id
            )

    def count_fob_report(self, report: str, *, days: int | None = None) -> int:
        """How many credentials are in the report."""
        with self._db.read("counting a fob report") as s:
            return fob_reports.count_report(s, self._db.now_us(), report, days=days)
