"""The Store: the one object the controller, the CLI and the admin page use to reach the database.

Every method runs in one transaction and raises only StoreError (bad input, conflicts, a busy
or unreadable database). Every write bumps the change counter ``rev`` and records an event
(except the fleet agent's link state, which decisions never use).
Times stored are UTC microseconds; times handed out are aware UTC datetimes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from appliance.core.model import CardEntry, GroupPolicy, Mode, Status
from appliance.store import validate as v
from appliance.store.accountability_api import AccountabilityApi
from appliance.store.db import DB_NAME, DEFAULT_BUSY_TIMEOUT_MS, Database, prepare_data_dir
from appliance.store.directory_api import DirectoryApi
from appliance.store.errors import StoreError
from appliance.store.fleet.link import FleetStateApi
from appliance.store.reads import StoreReads
from appliance.store.rows import (
    UNSET,
    CredentialRow,
    EventRecord,
    EventRow,
    ScheduleWindow,
    Snapshot,
    Unset,
)
from appliance.store.tables import card_history, cards, csvio, events, groups, holders, queries
from appliance.store.tokens_api import TokensApi
from appliance.store.users_api import UsersApi

CardSelector = cards.CardSelector
Schedule = Iterable[Mapping[str, Any] | ScheduleWindow]


class Store(StoreReads, DirectoryApi, TokensApi, UsersApi, AccountabilityApi, FleetStateApi):
    """The card store, audit log and door state in one SQLite file (WAL, shared by processes)."""

    def __init__(
        self,
        db_path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = Database(Path(db_path), busy_timeout_ms=busy_timeout_ms, clock=clock)

    @classmethod
    def for_data_dir(cls, data_dir: Path, **kwargs: Any) -> Store:
        """The store at ``data_dir/doorward.db``, creating the directory 0700 if missing."""
        prepare_data_dir(Path(data_dir))
        return cls(Path(data_dir) / DB_NAME, **kwargs)

    @property
    def path(self) -> Path:
        """The database file."""
        return self._db.path

    def close(self) -> None:
        """Close every connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- schema and change detection ----------------------------------------------------------

    def init(self, door_name: str, *, actor: str = "doorward init") -> None:
        """Create or upgrade the schema to head; add the door and built-in groups if missing."""
        name = v.required_text(door_name, "door name", max_len=100)
        who = v.actor(actor)
        with self._db.migrating("initialising the database") as s:
            from alembic.util.exc import CommandError as AlembicError  # slow to import: only here

            from appliance.store.schema import migrate

            try:
                migrate.upgrade(s.connection())
            except AlembicError as err:
                # e.g. a database written by newer software: never guess, never downgrade.
                raise StoreError(f"cannot upgrade the database schema: {err}") from err
            groups.ensure_builtin(s, self._db.now_us(), name, who)

    def schema_is_current(self) -> bool:
        """True if the database is at the newest migration this code ships."""
        with self._db.read("checking the schema") as s:
            from appliance.store.schema import migrate

            return migrate.current_revisions(s.connection()) == migrate.head_revisions()

    def data_version(self) -> int:
        """A number that changes whenever another connection (or process) has committed."""
        return self._db.data_version()

    def current_rev(self) -> int:
        """The change counter: bumped by every admin change."""
        with self._db.read("reading rev") as s:
            return events.current_rev(s)

    # -- the controller's snapshot -------------------------------------------------------------

    def load_groups(self) -> dict[int, GroupPolicy]:
        """Every group as a GroupPolicy, by id."""
        with self._db.read("loading groups") as s:
            return groups.load_groups(s)

    def load_cards(self, since_rev: int = 0) -> tuple[list[tuple[int, CardEntry]], int]:
        """(card_key, CardEntry) for credentials changed after ``since_rev``, and the current rev.

        The returned rev is the store's rev in the same snapshot (>= every returned row's rev):
        pass it back as ``since_rev`` to get only later changes.
        """
        with self._db.read("loading cards") as s:
            return queries.load_cards(s, since_rev), events.current_rev(s)

    def load_snapshot(self, since_rev: int = 0) -> Snapshot:
        """Groups, cards changed after ``since_rev``, the mode and the rev, all in one snapshot."""
        with self._db.read("loading the snapshot") as s:
            mode, reason = groups.door_mode(s)
            return Snapshot(
                rev=events.current_rev(s),
                groups=groups.load_groups(s),
                cards=queries.load_cards(s, since_rev),
                mode=mode,
                mode_reason=reason,
            )

    # -- writes ---------------------------------------------------------------------------------

    def set_mode(
        self,
        mode: Mode | str,
        *,
        reason: str | None,
        actor: str,
        only_from: Collection[str] | None = None,
    ) -> None:
        """Store the door's mode (normal, lockdown, held_unlocked); recorded as a ``mode`` event.

        ``only_from``: refuse (ModeChanged) unless the mode is one of these, in one transaction.
        """
        with self._db.write("setting the door mode") as s:
            groups.set_mode(
                s, self._db.now_us(), mode, reason=reason, actor=actor, only_from=only_from
            )

    def add_holder(
        self,
        name: str,
        *,
        agency: str | None = None,
        badge: str | None = None,
        contact: str | None = None,
        notes: str | None = None,
        actor: str,
    ) -> int:
        """Create a holder; returns the id. A name already on record is refused."""
        with self._db.write("adding a holder") as s:
            return holders.add_holder(
                s,
                self._db.now_us(),
                name,
                agency=agency,
                badge=badge,
                contact=contact,
                notes=notes,
                actor=actor,
            )

    def update_holder(
        self,
        name: str,
        *,
        new_name: str | Unset = UNSET,
        agency: str | Unset | None = UNSET,
        badge: str | Unset | None = UNSET,
        contact: str | Unset | None = UNSET,
        notes: str | Unset | None = UNSET,
        actor: str,
    ) -> None:
        """Change a holder's fields: a field left UNSET stays, None clears it."""
        with self._db.write("updating a holder") as s:
            holders.update_holder(
                s,
                self._db.now_us(),
                name,
                new_name=new_name,
                agency=agency,
                badge=badge,
                contact=contact,
                notes=notes,
                actor=actor,
            )

    def add_credential(
        self,
        format: str,
        facility: int | None,
        number: int,
        holder: str,
        *,
        serial: str | None = None,
        group: str = groups.STAFF,
        actor: str,
        valid_from: datetime | float | None = None,
        valid_until: datetime | float | None = None,
        pin: str | None = None,
        source: str = "local",
        holder_agency: str | Unset = UNSET,
        holder_on_record: bool = False,
    ) -> int:
        """Issue a credential; returns its id. Holder: see cards.add_credential."""
        with self._db.write("adding a credential") as s:
            return cards.add_credential(
                s,
                self._db.now_us(),
                format,
                facility,
                number,
                holder,
                serial=serial,
                group=group,
                actor=actor,
                valid_from=valid_from,
                valid_until=valid_until,
                pin=pin,
                source=source,
                holder_agency=holder_agency,
                holder_on_record=holder_on_record,
            )

    def update_credential(
        self,
        *,
        serial: str | None = None,
        credential: CardSelector | None = None,
        holder: str | Unset = UNSET,
        holder_agency: str | Unset = UNSET,
        group: str | Unset = UNSET,
        valid_from: datetime | float | Unset | None = UNSET,
        valid_until: datetime | float | Unset | None = UNSET,
        pin: str | Unset | None = UNSET,
        actor: str,
    ) -> CredentialRow:
        """Edit a credential's holder, group, validity or PIN (UNSET leaves one, None clears it)."""
        with self._db.write("editing a credential") as s:
            cred_id = cards.update_credential(
                s,
                self._db.now_us(),
                serial=serial,
                credential=credential,
                holder=holder,
                holder_agency=holder_agency,
                group=group,
                valid_from=valid_from,
                valid_until=valid_until,
                pin=pin,
                actor=actor,
            )
            return queries.credential_row(s, cred_id)

    def credential_history(
        self, credential: CardSelector, *, limit: int = 50, before_id: int | None = None
    ) -> list[EventRow]:
        """Events naming this (format, facility, number), newest first, older than before_id."""
        fmt, facility, number = credential
        with self._db.read("reading a credential's history") as s:
            return card_history.credential_history(
                s, fmt, facility, number, limit=limit, before_id=before_id
            )

    def set_status(
        self,
        *,
        serial: str | None = None,
        credential: CardSelector | None = None,
        status: Status | str,
        reason: str | None,
        actor: str,
    ) -> CredentialRow:
        """Move the credential named by serial or (format, facility, number) to ``status``."""
        with self._db.write("changing a credential's status") as s:
            cred_id = cards.set_status(
                s,
                self._db.now_us(),
                serial=serial,
                credential=credential,
                status=status,
                reason=reason,
                actor=actor,
            )
            return queries.credential_row(s, cred_id)

    def set_pin(
        self,
        *,
        serial: str | None = None,
        credential: CardSelector | None = None,
        pin: str | None,
        actor: str,
    ) -> CredentialRow:
        """Set a credential's PIN (4-12 digits, stored hashed), or clear it with None."""
        with self._db.write("setting a PIN") as s:
            cred_id = cards.set_pin(
                s, self._db.now_us(), serial=serial, credential=credential, pin=pin, actor=actor
            )
            return queries.credential_row(s, cred_id)

    def add_group(
        self,
        name: str,
        *,
        doors: Iterable[str] | None = None,
        always: bool = True,
        schedule: Schedule | None = None,
        holidays: Iterable[date | str] = (),
        lockdown_immune: bool = False,
        pin_required: bool = False,
        actor: str,
    ) -> int:
        """Create a group (doors None = every door; a schedule only when always=False)."""
        with self._db.write("adding a group") as s:
            return groups.add_group(
                s,
                self._db.now_us(),
                name,
                doors=doors,
                always=always,
                schedule=schedule,
                holidays=holidays,
                lockdown_immune=lockdown_immune,
                pin_required=pin_required,
                actor=actor,
            )

    def update_group(
        self,
        name: str,
        *,
        doors: Iterable[str] | Unset | None = UNSET,
        always: bool | Unset = UNSET,
        schedule: Schedule | Unset | None = UNSET,
        holidays: Iterable[date | str] | Unset = UNSET,
        lockdown_immune: bool | Unset = UNSET,
        pin_required: bool | Unset = UNSET,
        actor: str,
    ) -> None:
        """Change a group's settings (UNSET leaves one alone); the responders group is fixed."""
        with self._db.write("updating a group") as s:
            groups.update_group(
                s,
                self._db.now_us(),
                name,
                doors=doors,
                always=always,
                schedule=schedule,
                holidays=holidays,
                lockdown_immune=lockdown_immune,
                pin_required=pin_required,
                actor=actor,
            )

    def set_setting(self, key: str, value: Any, *, actor: str) -> None:
        """Store one door setting (any JSON value)."""
        with self._db.write("saving a setting") as s:
            groups.set_setting(s, self._db.now_us(), key, value, actor=actor)

    # -- CSV --------------------------------------------------------------------------------------

    def import_csv(self, path_or_text: Path | str, *, actor: str) -> int:
        """Import credentials from a CSV file (Path) or CSV text (str): all rows or none.

        Raises ImportRejected listing (line, reason) for every problem; returns the row count.
        """
        with self._db.write("importing credentials") as s:
            return csvio.import_csv(s, self._db.now_us(), path_or_text, actor=actor)

    # -- events -----------------------------------------------------------------------------------

    def append_events(self, records: Sequence[EventRecord]) -> int:
        """Store events in one transaction; a source_key already stored is skipped. Returns new."""
        with self._db.write("appending events") as s:
            return events.append_events(s, records)
