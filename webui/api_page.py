"""The API's readable page, rendered on the box from the very document /api/v1/openapi.json serves.

Nothing here describes an endpoint by hand: the page walks ``api_docs.document()``, so it cannot
disagree with the API. No script, no CDN (the page keeps to the site's CSP).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, render_template, url_for
from flask.blueprints import BlueprintSetupState

from webui import api_docs
from webui.api_fields import MAX_INT

bp = Blueprint("api_page", __name__, url_prefix="/api/docs")
_REF = "#/components/schemas/"


@bp.record_once
def _footer_link(setup: BlueprintSetupState) -> None:
    # base.html links this page only where it exists (not on the unprovisioned box's status page).
    setup.app.jinja_env.globals["api_page"] = True


@dataclass(frozen=True)
class FieldDoc:
    """One parameter or body field: where it goes, its type in words, and what it is."""

    name: str
    where: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class ResponseDoc:
    """One possible answer: its status code, what it means and the type of its body."""

    code: str
    description: str
    type: str


@dataclass(frozen=True)
class OperationDoc:
    """One method on one path, as the page shows it."""

    anchor: str
    method: str
    path: str
    summary: str
    roles: tuple[str, ...]
    needs_token: bool
    fields: tuple[FieldDoc, ...]
    responses: tuple[ResponseDoc, ...]


def type_text(schema: dict[str, Any]) -> str:
    """A JSON Schema in words: "string (at most 64 characters)", "one of on, off", "Credential"."""
    if "$ref" in schema:
        return str(schema["$ref"]).removeprefix(_REF)
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    props = schema.get("properties")
    if props and schema.get("type") == "object" and "additionalProperties" not in schema:
        return "object: " + ", ".join(f"{k} ({type_text(v)})" for k, v in props.items())
    kinds = schema.get("type", "object")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    words = " or ".join(str(k) for k in kinds)
    if "array" in kinds and "items" in schema:
        words = words.replace("array", f"array of {type_text(schema['items'])}")
    limits = []
    if "format" in schema:
        limits.append("ISO 8601 with an offset" if schema["format"] == "date-time" else "")
    if "maxLength" in schema:
        limits.append(f"at most {schema['maxLength']:,} characters")
    if schema.get("maximum", MAX_INT) >= MAX_INT and "minimum" in schema:
        limits.append(f"{schema['minimum']:,} or more")
    elif "minimum" in schema:
        limits.append(f"{schema['minimum']:,} to {schema['maximum']:,}")
    limits = [x for x in limits if x]
    return f"{words} ({'; '.join(limits)})" if limits else words


def _anchor(method: str, path: str) -> str:
    return f"{method}-" + (re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "root")


def _fields(op: dict[str, Any]) -> list[FieldDoc]:
    out = [
        FieldDoc(
            p["name"],
            p["in"],
            type_text(p.get("schema", {})),
            bool(p.get("required")),
            p.get("description", ""),
        )
        for p in op.get("parameters", [])
    ]
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    schema = body.get("schema", {})
    required = set(schema.get("required", []))
    for name, prop in schema.get("properties", {}).items():
        out.append(
            FieldDoc(name, "body", type_text(prop), name in required, prop.get("description", ""))
        )
    return out


def _responses(op: dict[str, Any]) -> list[ResponseDoc]:
    out = []
    for code, resp in sorted(op.get("responses", {}).items()):
        schema = resp.get("content", {}).get("application/json", {}).get("schema", {})
        out.append(ResponseDoc(code, resp.get("description", ""), type_text(schema)))
    return out


def operations(doc: dict[str, Any]) -> list[OperationDoc]:
    """Every operation of the document, in its order."""
    default_security = bool(doc.get("security"))
    ops = []
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            ops.append(
                OperationDoc(
                    anchor=_anchor(method, path),
                    method=method.upper(),
                    path=doc["servers"][0]["url"] + path,
                    summary=op.get("summary", ""),
                    roles=tuple(op.get("x-roles", ())),
                    needs_token=bool(op.get("security", default_security)),
                    fields=tuple(_fields(op)),
                    responses=tuple(_responses(op)),
                )
            )
    return ops


def schemas(doc: dict[str, Any]) -> list[tuple[str, list[FieldDoc]]]:
    """The document's shared schemas (Credential, Holder, ...) as lists of fields."""
    out = []
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        fields = [
            FieldDoc(key, "", type_text(prop), key in required, prop.get("description", ""))
            for key, prop in schema.get("properties", {}).items()
        ]
        out.append((name, fields))
    return out


def error_codes(doc: dict[str, Any]) -> list[tuple[str, str]]:
    """Every error status the document names, with what it means (first description wins)."""
    found: dict[str, str] = {}
    for methods in doc["paths"].values():
        for op in methods.values():
            for code, resp in op.get("responses", {}).items():
                if code >= "400":
                    found.setdefault(code, resp.get("description", ""))
    return sorted(found.items())


@bp.route("")
def index() -> str:
    """The API described for people: auth, every operation, the shapes of bodies, errors."""
    doc = api_docs.document()
    shared = schemas(doc)
    return render_template(
        "api_docs/index.html",
        info=doc["info"],
        operations=operations(doc),
        schemas=shared,
        schema_names={name for name, _ in shared},
        errors=error_codes(doc),
        base=url_for("api.openapi", _external=True).removesuffix("/openapi.json"),
    )
