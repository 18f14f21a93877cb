"""PINs for card + PIN groups: stored only as salted scrypt hashes (pure CPU, no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

# A PIN has few digits, so the hash is about not storing it in the clear, not about brute-force
# resistance; the cost is kept low enough that a check at the door takes a few milliseconds on a Pi.
_N, _R, _P = 2**12, 8, 1
_PREFIX = "scrypt"


def validate_pin(pin: str) -> str:
    """Return ``pin`` if it is 4 to 12 digits, else raise ValueError saying why."""
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 12):
        raise ValueError("a PIN must be 4 to 12 digits")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """Hash a PIN for storage: ``scrypt$N$r$p$salt$hash`` in hex."""
    validate_pin(pin)
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"{_PREFIX}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    """True if ``pin`` matches the stored hash; False for any mismatch or malformed hash."""
    try:
        prefix, n, r, p, salt, digest = stored.split("$")
        if prefix != _PREFIX:
            return False
        got = hashlib.scrypt(
            pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)
