"""The Store's facets: ``store.cards``, ``store.holders``, ``store.door``, ``store.users``, ...

Each facet method is a session-level function from ``store/tables`` (or ``store/fleet``) bound
with one typed helper: ``read`` and ``write`` run it in one read or write transaction, handing it
the session (and, for ``write`` and ``read_at_now``, the clock's time in UTC microseconds); the
caller passes the rest. The function's signature is the method's (ParamSpec), so mypy checks every
caller's arguments, and its docstring is the method's docstring: documented in one place.
Methods with logic of their own (unit conversions, a choice between two lookups) are written out.
The keywords only the store's own code passes (``as_district``, ``builtin``) are refused here.
"""

from __future__ import annotations

import builtins
import inspect
from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

from sqlalchemy.orm import Session

from appliance.store.db import Database
from appliance.store.fleet import district, link
from appliance.store.rows import EventRow
from appliance.store.tables import (
    accountability,
    card_history,
    cards,
    csvio,
    directory,
    events,
    fob_reports,
    groups,
    holders,
    queries,
    sessions,
    tokens,
    users,
)
from appliance.store.tables.cards import CardSelector
from appliance.store.tables.users import AdminUserRow

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

__all__ = [
    "Cards",
    "Door",
    "Events",
    "Facet",
    "Fleet",
    "Groups",
    "Holders",
    "Method",
    "Reviews",
    "Users",
    "read",
    "read_at_now",
    "write",
    "write_without_clock",
]


# Keywords of session-level functions that only the store's own code may pass (the fleet agent's
# apply passes as_district=True; init creates the built-in groups): refused through a facet.
SESSION_ONLY = frozenset({"as_district", "builtin"})


def _refuse_session_only(kwargs: dict[str, Any]) -> None:
    if not SESSION_ONLY.isdisjoint(kwargs):
        names = ", ".join(sorted(SESSION_ONLY.intersection(kwargs)))
        raise TypeError(f"{names}: only the store's session-level callers may pass it")


class Facet:
    """One area of the Store; its methods share the Store's Database."""

    def __init__(self, db: Database) -> None:
        self._db = db


class Method(Generic[P, R]):
    """A facet method made from a session-level function; see ``read`` and ``write``.

    A descriptor: reading it on a facet gives a callable bound to the facet's Database (a new one
    each time, as a plain method's bound method is), so patching the class patches every facet.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        bind: Callable[[Database], Callable[P, R]],
        kind: str,
        then: Callable[..., Any] | None = None,
    ) -> None:
        self.fn = fn
        self._bind = bind
        self.kind = kind
        self.__doc__ = fn.__doc__
        if then is not None:
            doc = inspect.cleandoc(fn.__doc__ or "")
            self.__doc__ = (
                f"{doc}\n\nThrough the facet: {then.__name__}() of that, read in the same write."
            )
        self.name = fn.__name__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Method[P, R]: ...
    @overload
    def __get__(self, obj: Facet, owner: type | None = None) -> Callable[P, R]: ...
    def __get__(
        self, obj: Facet | None, owner: type | None = None
    ) -> Method[P, R] | Callable[P, R]:
        if obj is None:
            return self
        bound = self._bind(obj._db)
        bound.__name__ = self.name
        bound.__qualname__ = f"{type(obj).__name__}.{self.name}"
        bound.__doc__ = self.__doc__
        return bound

    def __repr__(self) -> str:
        return f"<{self.kind} {self.fn.__module__}.{self.fn.__qualname__}>"


def read(what: str, fn: Callable[Concatenate[Session, P], R]) -> Method[P, R]:
    """A method that runs ``fn(session, *args, **kw)`` in one read transaction (``what`` names it
    in errors)."""

    def bind(db: Database) -> Callable[P, R]:
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with db.read(what) as s:
                return fn(s, *args, **kwargs)

        return call

    return Method(fn, bind, "read")


def read_at_now(what: str, fn: Callable[Concatenate[Session, int, P], R]) -> Method[P, R]:
    """A method that runs ``fn(session, now_us, *args, **kw)`` in one read transaction."""

    def bind(db: Database) -> Callable[P, R]:
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with db.read(what) as s:
                return fn(s, db.now_us(), *args, **kwargs)

        return call

    return Method(fn, bind, "read")


@overload
def write(what: str, fn: Callable[Concatenate[Session, int, P], R]) -> Method[P, R]: ...
@overload
def write(
    what: str, fn: Callable[Concatenate[Session, int, P], R], *, then: Callable[[Session, R], T]
) -> Method[P, T]: ...
def write(
    what: str,
    fn: Callable[Concatenate[Session, int, P], Any],
    *,
    then: Callable[[Session, Any], Any] | None = None,
) -> Method[P, Any]:
    """A method that runs ``fn(session, now_us, *args, **kw)`` in one write transaction.

    ``then(session, result)``: what the caller gets instead of the result, read in the same
    transaction (e.g. the row a change produced, from the id the change returns).
    """

    def bind(db: Database) -> Callable[P, Any]:
        def call(*args: P.args, **kwargs: P.kwargs) -> Any:
            _refuse_session_only(kwargs)
            with db.write(what) as s:
                result = fn(s, db.now_us(), *args, **kwargs)
                return result if then is None else then(s, result)

        return call

    return Method(fn, bind, "write", then)


def write_without_clock(what: str, fn: Callable[Concatenate[Session, P], R]) -> Method[P, R]:
    """A method that runs ``fn(session, *args, **kw)`` in one write transaction (for writes
    that carry their own times, or none)."""

    def bind(db: Database) -> Callable[P, R]:
        def call(*args: P.args, **kwargs: P.kwargs) -> R:
            with db.write(what) as s:
                return fn(s, *args, **kwargs)

        return call

    return Method(fn, bind, "write")


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


class Cards(Facet):
    """Credentials (cards and fobs): issue, edit, status, PIN, lists, history, CSV."""

    add = write("adding a credential", cards.add_credential)
    update = write("editing a credential", cards.update_credential, then=queries.credential_row)
    set_status = write(
        "changing a credential's status", cards.set_status, then=queries.credential_row
    )
    set_pin = write("setting a PIN", cards.set_pin, then=queries.credential_row)
    list = read("listing credentials", queries.list_credentials)
    count = read("counting credentials", queries.count_credentials)
    get = read("reading a credential", queries.get_credential)
    details = read("reading card details", queries.card_details)
    choices = read("listing fobs to pick from", directory.fob_choices)
    import_csv = write("importing credentials", csvio.import_csv)
    export_csv = read("exporting credentials", csvio.export_csv)

    def history(
        self, credential: CardSelector, *, limit: int = 50, before_id: int | None = None
    ) -> builtins.list[EventRow]:  # builtins: ``list`` here is the method above
        """Events naming this (format, facility, number), newest first, older than before_id."""
        fmt, facility, number = credential
        with self._db.read("reading a credential's history") as s:
            return card_history.credential_history(
                s, fmt, facility, number, limit=limit, before_id=before_id
            )


class Holders(Facet):
    """The people credentials are issued to, and their agencies."""

    add = write("adding a holder", holders.add_holder)
    update = write("updating a holder", holders.update_holder)
    list = read("listing holders", directory.all_holders)
    search = read("searching holders", directory.search_holders)
    count = read("counting holders", directory.count_holders)
    get = read("reading a holder", directory.get_holder)
    agencies = read("listing agencies", directory.list_agencies)


class Groups(Facet):
    """Access groups: doors, schedules, holidays, lockdown immunity, PIN."""

    add = write("adding a group", groups.add_group)
    update = write("updating a group", groups.update_group)
    list = read("listing groups", groups.list_groups)


class Door(Facet):
    """The door itself: its mode (normal, lockdown, held unlocked), name and settings."""

    mode = read("reading the door mode", groups.door_mode)
    set_mode = write("setting the door mode", groups.set_mode)
    name = read("reading the door name", events.door_name)
    settings = read("reading settings", groups.settings)
    set_setting = write("saving a setting", groups.set_setting)


class Events(Facet):
    """The audit log."""

    query = read("querying events", events.query_events)
    append = write_without_clock("appending events", events.append_events)
    kinds = read("listing event kinds", accountability.event_kinds)


class Users(Facet):
    """Admin page accounts, their sessions and their API tokens."""

    count = read("counting admin accounts", users.count_users)
    list = read("listing admin accounts", users.list_users)
    add = write("adding an admin account", users.add_user)
    set_disabled = write("disabling an admin account", users.set_disabled)
    set_role = write("changing an account's role", users.set_role)
    sign_out = write("signing out", sessions.sign_out)
    set_token_digest = write("saving an API token", tokens.set_token_digest)
    token_owner = read("reading an API token", tokens.token_owner)

    def get(
        self, *, username: str | None = None, user_id: int | None = None
    ) -> AdminUserRow | None:
        """One admin page account by username or id; None if there is none."""
        with self._db.read("reading an admin account") as s:
            if user_id is not None:
                return users.get_user_by_id(s, user_id)
            return users.get_user(s, username)

    def reset_password(self, username: str, password_hash: str, *, actor: str) -> None:
        """An admin's reset: a temporary password to replace at sign-in; sessions end."""
        with self._db.write("resetting a password") as s:
            user_id = users.user_id_of(s, username)
            users.set_password(
                s, self._db.now_us(), user_id, password_hash, temporary=True, actor=actor
            )

    def change_password(self, user_id: int, password_hash: str, *, actor: str) -> None:
        """The account's own new password; every session of it ends."""
        with self._db.write("changing a password") as s:
            users.set_password(
                s, self._db.now_us(), user_id, password_hash, temporary=False, actor=actor
            )

    def open_session(
        self,
        user_id: int,
        digest: str,
        *,
        now: float,
        expires_at: float,
        client: str,
        record: bool = True,
    ) -> None:
        """Record a session (the SHA-256 of its id) live until ``expires_at`` (Unix seconds)."""
        with self._db.write("signing in") as s:
            sessions.open_session(
                s,
                _us(now),
                user_id,
                digest,
                expires_us=_us(expires_at),
                client=client,
                record=record,
            )

    def session_user(self, digest: str, *, now: float) -> AdminUserRow | None:
        """The enabled account whose session with this id digest is live at ``now``, or None."""
        with self._db.read("reading a session") as s:
            return sessions.session_user(s, _us(now), digest)


class Reviews(Facet):
    """Accountability: responder-entry reviews and fob reports."""

    responder_entries = read("listing responder entries", accountability.responder_entries)
    count_responder_entries = read(
        "counting responder entries", accountability.count_responder_entries
    )
    responder_entry = read("reading a responder entry", accountability.responder_entry)
    review = write("reviewing a responder entry", accountability.review)
    fob_report = read_at_now("building a fob report", fob_reports.fob_report)
    count_fob_report = read_at_now("counting a fob report", fob_reports.count_report)


class Fleet(Facet):
    """The box's side of the fleet: the link state the agent writes, the district's rows."""

    status = read("reading the fleet status", link.read_status)
    set_status = write_without_clock("saving the fleet status", link.write_status)

    def owns(self, *, holder_id: int | None = None, group_id: int | None = None) -> bool:
        """Whether a district credential uses this holder or group: only the district edits it."""
        with self._db.read("checking for district credentials") as s:
            if holder_id is not None and district.holder_is_district(s, holder_id):
                return True
            return group_id is not None and district.group_is_district(s, group_id)
