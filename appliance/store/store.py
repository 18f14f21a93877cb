"""The Store: the one object the controller, the CLI and the admin page use to reach the database.

The Store itself holds what is about the database as a whole (opening, init, the schema, change
detection) and the controller's snapshot loads; everything else is on a facet (``facets.py``):
``store.cards``, ``store.holders``, ``store.groups``, ``store.door``, ``store.events``,
``store.users``, ``store.reviews``, ``store.fleet``.

Every method runs in one transaction and raises only StoreError (bad input, conflicts, a busy
or unreadable database). Every write bumps the change counter ``rev`` and records an event
(except the fleet agent's link state, which decisions never use).
Times stored are UTC microseconds; times handed out are aware UTC datetimes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from appliance.core.model import CardEntry, GroupPolicy
from appliance.store import facets
from appliance.store import validate as v
from appliance.store.db import DB_NAME, DEFAULT_BUSY_TIMEOUT_MS, Database, prepare_data_dir
from appliance.store.errors import StoreError
from appliance.store.rows import Snapshot
from appliance.store.tables import events, groups, queries


class Store:
    """The card store, audit log and door state in one SQLite file (WAL, shared by processes)."""

    def __init__(
        self,
        db_path: Path,
        *,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = Database(Path(db_path), busy_timeout_ms=busy_timeout_ms, clock=clock)
        db = self._db
        self.cards = facets.Cards(db)
        self.holders = facets.Holders(db)
        self.groups = facets.Groups(db)
        self.door = facets.Door(db)
        self.events = facets.Events(db)
        self.users = facets.Users(db)
        self.reviews = facets.Reviews(db)
        self.fleet = facets.Fleet(db)

    @classmethod
    def for_data_dir(cls, data_dir: Path, **kwargs: Any) -> Store:
        """The store at ``data_dir/doorward.db``, creating the directory 0700 if missing."""
        prepare_data_dir(Path(data_dir))
        return cls(Path(data_dir) / DB_NAME, **kwargs)

    @property
    def db(self) -> Database:
        """The connection and its transactions, for code that keeps tables of its own in this
        file: the fleet agent's apply and the district's tables run their SQL in these."""
        return self._db

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
