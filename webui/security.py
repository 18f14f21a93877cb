"""Response headers, safe redirects and password hashing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Response, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PASSWORD_MIN = 12
PASSWORD_MAX = 1024  # argon2 takes any length; a megabyte "password" is an attack, not a secret


def add_security_headers(response: Response) -> Response:
    """Headers on every response: no inline script, no framing, no sniffing, no caching of pages."""
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith("/static/"):
        response.headers["Cache-Control"] = "no-store"
    return response


def safe_next(target: str | None, default: str) -> str:
    """``target`` if it is a path on this site, else ``default`` (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def make_hasher(settings: dict[str, Any]) -> PasswordHasher:
    """argon2id with the library's defaults, or cheaper parameters given by the tests."""
    time_cost = settings.get("ARGON2_TIME_COST")
    memory = settings.get("ARGON2_MEMORY_KIB")
    if time_cost is None and memory is None:
        return PasswordHasher()
    return PasswordHasher(
        time_cost=int(time_cost or 1), memory_cost=int(memory or 1024), parallelism=1
    )


def verify_password(hasher: PasswordHasher, encoded: str, password: str) -> bool:
    """Whether ``password`` matches the stored hash (False for a damaged hash, never raises)."""
    try:
        return hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False
