"""The Store's reads for people: lists, counts, details, CSV export, the audit log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO

from appliance.core.model import Mode, Status
from appliance.store.db import Database
from appliance.store.fleet import district
from appliance.store.rows import CredentialRow, EventRow, GroupRow, HolderRow
from appliance.store.tables import cards, csvio, directory, events, groups, queries, users
from appliance.store.tables.users import AdminUserRow

CardSelector = cards.CardSelector


class StoreReads:
    """Read-only methods of Store, each in one read transaction (a consistent snapshot)."""

    _db: Database

    def door_mode(self) -> tuple[Mode, str | None]:
        """The stored door mode and its reason."""
        with self._db.read("reading the door mode") as s:
            return groups.door_mode(s)

    def door_name(self) -> str | None:
        """The door's name (None before init)."""
        with self._db.read("reading the door name") as s:
            return events.door_name(s)

    def settings(self) -> dict[str, Any]:
        """Every door setting by key."""
        with self._db.read("reading settings") as s:
            return groups.settings(s)

    def list_credentials(
        self,
        *,
        status: Status | str | None = None,
        holder: str | None = None,
        search: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[CredentialRow]:
        """Credentials matching every filter, newest first; search matches names, serials, cards."""
        with self._db.read("listing credentials") as s:
            return queries.list_credentials(
                s, status=status, holder=holder, search=search, limit=limit, offset=offset
            )

    def count_credentials(
        self,
        *,
        status: Status | str | None = None,
        holder: str | None = None,
        search: str | None = None,
    ) -> int:
        """How many credentials match the filters of list_credentials."""
        with self._db.read("counting credentials") as s:
            return queries.count_credentials(s, status=status, holder=holder, search=search)

    def get_credential(
        self, *, serial: str | None = None, credential: CardSelector | None = None
    ) -> CredentialRow | None:
        """One credential by serial or (format, facility, number); None if not on record."""
        with self._db.read("reading a credential") as s:
            return queries.get_credential(s, serial=serial, credential=credential)

    def list_holders(self) -> list[HolderRow]:
        """Every holder, by name."""
        with self._db.read("listing holders") as s:
            return directory.all_holders(s)

    def district_owned(self, *, holder_id: int | None = None, group_id: int | None = None) -> bool:
        """Whether a district credential uses this holder or group: only the district edits it."""
        with self._db.read("checking for district credentials") as s:
            if holder_id is not None and district.holder_is_district(s, holder_id):
                return True
            return group_id is not None and district.group_is_district(s, group_id)

    def list_groups(self) -> list[GroupRow]:
        """Every group, by name."""
        with self._db.read("listing groups") as s:
            return groups.list_groups(s)

    def count_admin_users(self) -> int:
        """How many admin page accounts exist (0 until the setup code has been used)."""
        with self._db.read("counting admin accounts") as s:
            return users.count_users(s)

    def get_admin_user(
        self, *, username: str | None = None, user_id: int | None = None
    ) -> AdminUserRow | None:
        """One admin page account by username or id; None if there is none."""
        with self._db.read("reading an admin account") as s:
            if user_id is not None:
                return users.get_user_by_id(s, user_id)
            return users.get_user(s, username)

    def list_admin_users(self) -> list[AdminUserRow]:
        """Every admin page account, by username."""
        with self._db.read("listing admin accounts") as s:
            return users.list_users(s)

    def card_details(self, card_id: int) -> tuple[str | None, str | None]:
        """(holder name, serial) for a CardEntry id; (None, None) if unknown."""
        with self._db.read("reading card details") as s:
            return queries.card_details(s, card_id)

    def export_csv(self, out: TextIO, *, statuses: Iterable[Status | str] | None = None) -> int:
        """Write credentials as CSV (open ``out`` with newline=''); returns the row count."""
        with self._db.read("exporting credentials") as s:
            return csvio.export_csv(s, out, statuses=statuses)

    def query_events(
        self,
        *,
        limit: int = 100,
        after_id: int | None = None,
        before_id: int | None = None,
        kinds: Iterable[str] | None = None,
        serial: str | None = None,
        holder: str | None = None,
        since: datetime | float | None = None,
        until: datetime | float | None = None,
        newest_first: bool = True,
    ) -> list[EventRow]:
        """Events matching every filter; since is inclusive, until exclusive (aware or Unix s)."""
        with self._db.read("querying events") as s:
            return events.query_events(
                s,
                limit=limit,
                after_id=after_id,
                before_id=before_id,
                kinds=kinds,
                serial=serial,
                holder=holder,
                since=since,
                until=until,
                newest_first=newest_first,
            )
