"""Errors the store raises: one type callers catch, with messages meant for people."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

LOG = logging.getLogger(__name__)


class StoreError(Exception):
    """The store could not do what was asked; ``str()`` is one line for people."""


class DistrictOwned(StoreError):
    """A local change refused: what it would change comes from the district list."""


class ModeChanged(StoreError):
    """A mode change refused: the door's mode is no longer the one the change was meant for."""


class ImportRejected(StoreError):
    """A CSV import refused as a whole; ``errors`` holds (line number, reason) for each problem."""

    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        first = f"line {errors[0][0]}: {errors[0][1]}" if errors else "no details"
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"import rejected, nothing was changed: {first}{more}")


def _describe(err: BaseException) -> str:
    """One line for people from a driver error."""
    orig = getattr(err, "orig", None) or err
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    low = text.lower()
    if "no such table" in low:
        return "database is not initialised: run `doorward init` first"
    if "locked" in low or "busy" in low:
        return "database is busy: another process held the write lock too long; try again"
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return f"database file is unreadable or corrupt ({text})"
    if "unable to open" in low or "readonly" in low or "read-only" in low:
        return f"database file cannot be opened for writing ({text})"
    if "disk" in low or "full" in low or "i/o" in low:
        return f"database write failed ({text})"
    return f"database error ({text})"


@contextmanager
def translate_errors(what: str) -> Iterator[None]:
    """Turn driver and SQLAlchemy errors raised inside into StoreError naming ``what`` was tried."""
    try:
        yield
    except StoreError:
        raise
    except (sa_exc.DBAPIError, sqlite3.Error) as err:
        message = f"{what}: {_describe(err)}"
        LOG.warning("%s", message)
        raise StoreError(message) from err
    except sa_exc.SQLAlchemyError as err:
        message = f"{what}: database error ({type(err).__name__}: {err})"
        LOG.warning("%s", message)
        raise StoreError(message) from err
