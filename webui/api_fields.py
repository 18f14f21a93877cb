"""The JSON API's fields: one declaration checks hostile input and describes it in OpenAPI."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_NEWLINE_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAX_INT = 2**63 - 1


class ApiInputError(ValueError):
    """A request's input is unusable; the message names the field and what was wrong."""


@dataclass(frozen=True)
class Field:
    """One body field or query parameter: its type, limits and the words that describe it."""

    name: str
    kind: Literal["string", "integer", "datetime"]
    description: str
    required: bool = False
    max_len: int = 200
    multiline: bool = False
    low: int = 0
    high: int = MAX_INT
    choices: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        """This field as a JSON Schema (OpenAPI 3.1)."""
        if self.kind == "integer":
            return {"type": "integer", "minimum": self.low, "maximum": self.high}
        out: dict[str, Any] = {"type": "string"}
        if self.kind == "datetime":
            out["format"] = "date-time"
        elif self.choices:
            out["enum"] = list(self.choices)
        else:
            out["maxLength"] = self.max_len
        return out


def _text(field: Field, value: str) -> str | None:
    clean = value.strip()
    if not clean:
        if field.required:
            raise ApiInputError(f"{field.name!r} must not be empty")
        return None
    if len(clean) > field.max_len:
        raise ApiInputError(
            f"{field.name!r} is {len(clean)} characters long; the limit is {field.max_len}"
        )
    if (_CONTROL_BUT_NEWLINE_RE if field.multiline else _CONTROL_RE).search(clean):
        raise ApiInputError(f"{field.name!r} contains a control character")
    if field.choices and clean not in field.choices:
        raise ApiInputError(f"{field.name!r} must be one of {', '.join(field.choices)}")
    return clean


def _integer(field: Field, value: int) -> int:
    if not field.low <= value <= field.high:
        raise ApiInputError(f"{field.name!r} must be from {field.low} to {field.high}")
    return value


def _when(field: Field, value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ApiInputError(
            f"{field.name!r} must be an ISO 8601 time such as 2026-01-31T14:00:00+01:00"
        ) from None
    if when.utcoffset() is None:
        raise ApiInputError(f"{field.name!r} needs a UTC offset (e.g. +00:00 or Z)")
    return when


def _unknown(given: Sequence[str], fields: Sequence[Field], where: str) -> None:
    known = {f.name for f in fields}
    extra = sorted(k for k in given if k not in known)
    if extra:
        allowed = ", ".join(f.name for f in fields) or "none"
        raise ApiInputError(f"unknown {where} {', '.join(map(repr, extra))} (allowed: {allowed})")


def check_body(body: object, fields: Sequence[Field]) -> dict[str, Any]:
    """A JSON object's fields, checked: unknown or missing ones, wrong types, bad lengths."""
    if not isinstance(body, Mapping):
        raise ApiInputError("the body must be a JSON object")
    _unknown(list(body), fields, "field(s)")
    out: dict[str, Any] = {}
    for field in fields:
        value = body.get(field.name)
        if value is None:
            if field.required:
                raise ApiInputError(f"{field.name!r} is required")
            out[field.name] = None
        elif field.kind == "integer":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ApiInputError(f"{field.name!r} must be a whole number")
            out[field.name] = _integer(field, value)
        elif not isinstance(value, str):
            raise ApiInputError(f"{field.name!r} must be a string, not {type(value).__name__}")
        elif field.kind == "datetime":
            out[field.name] = _when(field, value)
        else:
            out[field.name] = _text(field, value)
    return out


def check_query(
    args: Mapping[str, str], keys: Sequence[str], fields: Sequence[Field]
) -> dict[str, Any]:
    """Query parameters, checked like body fields (each given at most once)."""
    _unknown(keys, fields, "parameter(s)")
    out: dict[str, Any] = {}
    for field in fields:
        raw = args.get(field.name)
        if raw is None or not raw.strip():
            if field.required:
                raise ApiInputError(f"{field.name!r} is required")
            out[field.name] = None
        elif field.kind == "integer":
            clean = raw.strip()
            if not (clean.isascii() and clean.isdigit() and len(clean) <= 19):
                raise ApiInputError(f"{field.name!r} must be a whole number")
            out[field.name] = _integer(field, int(clean))
        elif field.kind == "datetime":
            out[field.name] = _when(field, raw)
        else:
            out[field.name] = _text(field, raw)
    return out
