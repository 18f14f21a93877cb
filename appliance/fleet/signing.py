"""The district's Ed25519 key and the signed envelope every list message travels in.

An envelope is ``MAGIC | flags (1 byte) | key id (32 bytes) | signature (64 bytes) | body``.
The signature covers every byte except itself (magic, flags, key id and body), so a flipped
compression flag or a swapped key id breaks it like a changed body does. The key id is the
SHA-256 of the raw public key. A box checks size, magic, key id and signature before it
decompresses or parses anything; the body is canonical JSON, zlib-compressed when large.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MAGIC = b"DWF1"
FLAG_ZLIB = 0x01
KEY_ID_LEN = 32
SIG_LEN = 64
HEADER_LEN = len(MAGIC) + 1 + KEY_ID_LEN + SIG_LEN
COMPRESS_ABOVE = 4096  # bytes of JSON; smaller bodies travel as they are
INFLATE_FACTOR = 32  # a body may inflate to at most this many times the message limit


class Rejected(ValueError):
    """A message a box must not apply; ``reason`` is a short code, ``str()`` says why."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def canonical_json(obj: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_public(key: Ed25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> bytes:
    """The fingerprint of a public key: SHA-256 of its raw bytes."""
    return hashlib.sha256(raw_public(key)).digest()


def public_key_text(key: Ed25519PublicKey) -> str:
    """A public key as a box's config holds it: base64 of the raw 32 bytes."""
    return base64.b64encode(raw_public(key)).decode()


def public_key_from_text(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes, or from PEM; ValueError says what is wrong."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError as err:
            raise ValueError(f"not a readable PEM public key ({err})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the PEM public key is not an Ed25519 key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not base64 of a raw Ed25519 key (44 characters)") from None
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key is 32 bytes, this is {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)


def load_public_key(value: str, base: Path | None = None) -> Ed25519PublicKey:
    """A public key given inline (base64 or PEM) or as a path (relative to ``base``) to one."""
    stripped = value.strip()
    try:
        return public_key_from_text(stripped)
    except ValueError as inline:
        path = Path(stripped)
        if base is not None and not path.is_absolute():
            path = base / path
        if not path.is_file():
            raise ValueError(f"{inline}; nor is it a key file") from None
    try:
        return public_key_from_text(path.read_text())
    except OSError as err:
        raise ValueError(f"cannot read the key file {path}: {err.strerror}") from None
    except ValueError as err:
        raise ValueError(f"key file {path}: {err}") from None


def new_private_key() -> Ed25519PrivateKey:
    """A fresh district key."""
    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The private key as unencrypted PKCS#8 PEM (the file is kept 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The district's private key from its PEM file; ValueError says what is wrong."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ValueError(f"cannot read the district key {path}: {err.strerror}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as err:
        raise ValueError(f"{path} is not a readable private key ({err})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} is not an Ed25519 key")
    return key


def seal(key: Ed25519PrivateKey, body: Any) -> bytes:
    """Sign ``body`` (JSON-able) into an envelope."""
    data = canonical_json(body)
    flags = 0
    if len(data) > COMPRESS_ABOVE:
        data, flags = zlib.compress(data, 6), FLAG_ZLIB
    head = MAGIC + bytes([flags]) + key_id(key.public_key())
    return head + key.sign(head + data) + data


@dataclass(frozen=True, slots=True)
class Opened:
    """A verified envelope: the parsed JSON body and the envelope's size."""

    body: Any
    size: int


def open_envelope(payload: bytes, key: Ed25519PublicKey, *, max_bytes: int) -> Opened:
    """Verify an envelope and return its JSON body; raise Rejected for anything else.

    The order matters: nothing is decompressed or parsed before the signature is good.
    """
    size = len(payload)
    if size > max_bytes:
        raise Rejected("oversized", f"{size} bytes; the limit is {max_bytes}")
    if not payload.startswith(MAGIC):
        raise Rejected("unsigned", "not a signed envelope")
    if size < HEADER_LEN:
        raise Rejected("truncated", f"{size} bytes is shorter than an envelope's header")
    flags = payload[len(MAGIC)]
    kid_end = len(MAGIC) + 1 + KEY_ID_LEN
    kid = payload[len(MAGIC) + 1 : kid_end]
    if kid != key_id(key):
        raise Rejected("wrong_key", f"signed by key {kid.hex()[:16]}, not the district's")
    signature = payload[kid_end:HEADER_LEN]
    data = payload[HEADER_LEN:]
    try:
        key.verify(signature, payload[:kid_end] + data)
    except InvalidSignature:
        why = "the signature does not match (tampered or truncated)"
        raise Rejected("bad_signature", why) from None
    if flags & ~FLAG_ZLIB:
        raise Rejected("malformed", f"unknown envelope flags {flags:#04x}")
    if flags & FLAG_ZLIB:
        data = _inflate(data, max_bytes * INFLATE_FACTOR)
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise Rejected("malformed", f"the body is not JSON ({err})") from None
    except RecursionError:  # nested deeper than Python's parser goes
        raise Rejected("malformed", "the body is JSON nested too deeply") from None
    return Opened(body, size)


def _inflate(data: bytes, limit: int) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as err:
        raise Rejected("malformed", f"the body does not decompress ({err})") from None
    if inflater.unconsumed_tail:
        raise Rejected("oversized", f"the body inflates past {limit} bytes")
    if not inflater.eof:
        raise Rejected("malformed", "the compressed body is incomplete")
    return out
