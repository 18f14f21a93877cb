"""The Store's reads for the holder, agency and simulated reader pages (a mixin of Store)."""

from __future__ import annotations

from appliance.store.db import Database
from appliance.store.rows import HolderRow
from appliance.store.tables import directory
from appliance.store.tables.directory import AgencyRow, FobChoice

__all__ = ["AgencyRow", "DirectoryApi", "FobChoice"]


class DirectoryApi:
    """Holder search and paging, agencies, and a pick list of fobs; each one read transaction."""

    _db: Database

    def search_holders(
        self, *, search: str | None = None, limit: int = 50, offset: int = 0
    ) -> list[HolderRow]:
        """Holders whose name, agency or badge contains ``search``, by name, one page."""
        with self._db.read("searching holders") as s:
            return directory.search_holders(s, search=search, limit=limit, offset=offset)

    def count_holders(self, *, search: str | None = None) -> int:
        """How many holders search_holders would page through."""
        with self._db.read("counting holders") as s:
            return directory.count_holders(s, search=search)

    def get_holder(self, holder_id: int) -> HolderRow | None:
        """One holder by id with their credential count; None if there is none."""
        with self._db.read("reading a holder") as s:
            return directory.get_holder(s, holder_id)

    def list_agencies(self) -> list[AgencyRow]:
        """Every distinct agency with how many holders and credentials it has."""
        with self._db.read("listing agencies") as s:
            return directory.list_agencies(s)

    def fob_choices(self, *, limit: int = 200) -> list[FobChoice]:
        """The first ``limit`` credentials by holder, for a pick list."""
        with self._db.read("listing fobs to pick from") as s:
            return directory.fob_choices(s, limit=limit)
