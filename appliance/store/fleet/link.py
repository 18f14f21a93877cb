"""The box's fleet link state, as the fleet agent last wrote it: one JSON object in ``meta``.

Not a change decisions use: writing it bumps no ``rev`` and records no event, so the controller's
refresher sees a commit, reads ``rev``, and leaves its view alone.
"""

from __future__ import annotations

import json
import logging
import math
import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.orm import Session

from appliance.store import validate as v
from appliance.store.errors import StoreError
from appliance.store.schema.box import Meta

LOG = logging.getLogger(__name__)

STATUS_KEY = "fleet.status"
MAX_STATUS_CHARS = 64_000  # as JSON: a handful of facts and up to a few hundred short lines
MAX_KEY_CHARS = 64
MAX_TEXT_CHARS = 2_000
MAX_DEPTH = 3  # {"last_rejection": {"at": ...}} is depth 2
MAX_ITEMS = 200
_KEY_RE = re.compile(r"[A-Za-z0-9_.-]+")
_CONTROL_BUT_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _refuse(where: str, what: str) -> StoreError:
    return StoreError(f"fleet status {where} {what}")


def _plain(value: object, where: str, depth: int) -> Any:
    """A copy of ``value`` if it is a plain JSON value (nested no deeper than MAX_DEPTH)."""
    if isinstance(value, str):
        if len(value) > MAX_TEXT_CHARS:
            raise _refuse(where, f"is {len(value)} characters; the limit is {MAX_TEXT_CHARS}")
        bad = _CONTROL_BUT_NEWLINE_RE.search(value)
        if bad:
            raise _refuse(where, f"contains a control character {bad.group()!r}")
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > v.MAX_SQLITE_INT:
            raise _refuse(where, f"is a number too large to keep: {v.show(value)}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _refuse(where, f"must be a finite number, not {value}")
        return value
    if depth >= MAX_DEPTH and isinstance(value, dict | list | tuple):
        raise _refuse(where, f"is nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, dict):
        return _object(value, where, depth + 1)
    if isinstance(value, list | tuple):
        if len(value) > MAX_ITEMS:
            raise _refuse(where, f"has {len(value)} items; the limit is {MAX_ITEMS}")
        return [_plain(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise _refuse(
        where,
        "must be text, a number, true/false, null, a list or an object, "
        f"not {type(value).__name__}",
    )


def _object(value: dict[Any, Any], where: str, depth: int) -> dict[str, Any]:
    if len(value) > MAX_ITEMS:
        raise _refuse(where, f"has {len(value)} keys; the limit is {MAX_ITEMS}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key) or len(key) > MAX_KEY_CHARS:
            raise StoreError(
                f"fleet status {where}: key {v.show(key)} must be 1-{MAX_KEY_CHARS} letters, "
                "digits, '_', '.' or '-'"
            )
        out[key] = _plain(item, f"{where}.{key}" if where != "object" else key, depth)
    return out


def check_status(status: object) -> dict[str, Any]:
    """The status as a JSON object of plain values, or a StoreError naming what is wrong."""
    if not isinstance(status, dict):
        raise StoreError(f"fleet status must be a JSON object, not {type(status).__name__}")
    clean = _object(status, "object", 1)
    size = len(json.dumps(clean, separators=(",", ":")))
    if size > MAX_STATUS_CHARS:
        raise StoreError(
            f"fleet status is {size} characters of JSON; the limit is {MAX_STATUS_CHARS}"
        )
    return clean


def read_status(s: Session) -> dict[str, Any]:
    """The box's fleet link state as the agent last wrote it.

    {} if never written (or, logged, if the stored text is unreadable).
    """
    text = s.scalar(select(Meta.value).where(Meta.key == STATUS_KEY))
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        LOG.warning("the stored fleet status is not a JSON object: ignoring it")
        return {}
    return value


def write_status(s: Session, status: dict[str, Any]) -> None:
    """Replace the fleet link state (a JSON object of plain values, checked first).

    No rev bump, no event: decisions never use it.
    """
    text = json.dumps(check_status(status), separators=(",", ":"))
    stmt = insert(Meta).values(key=STATUS_KEY, value=text)
    s.execute(stmt.on_conflict_do_update(index_elements=[Meta.key], set_={"value": text}))
