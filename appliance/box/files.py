"""Per-box secrets in ``data_dir``: the session signing key and the one-time setup code.

Both are files readable only by the service user (0600), made once on this box: no two boxes
share a session key, and no box ships with a password anyone could know.
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import stat
from pathlib import Path

from appliance.files import write_atomic
from appliance.store import Store

LOG = logging.getLogger(__name__)
SECRET_FILE = "web_secret"
SETUP_CODE_FILE = "setup_code"
_SECRET_RE = re.compile(r"[0-9a-f]{64}")
# No 0/O, 1/I/L: the code is read off a terminal and typed into a browser.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_GROUPS, _CODE_GROUP_LEN = 4, 4  # 16 characters of 31: about 79 bits
_CODE_RE = re.compile(rf"[{_CODE_ALPHABET}]{{{_CODE_GROUPS * _CODE_GROUP_LEN}}}")


def _read_private(path: Path) -> str | None:
    """The file's text, tightening it to 0600 first; None if it is missing."""
    try:
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            os.chmod(path, 0o600)
        return path.read_text(encoding="ascii", errors="replace").strip()
    except FileNotFoundError:
        return None


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to a new 0600 file in place of ``path`` (atomically)."""
    write_atomic(path, (text + "\n").encode("ascii"), 0o600)


def session_secret(data_dir: Path) -> bytes:
    """This box's session signing key, made on first use and kept in ``data_dir/web_secret``."""
    path = data_dir / SECRET_FILE
    text = _read_private(path)
    if text is None or not _SECRET_RE.fullmatch(text):
        if text is not None:
            LOG.warning("%s was unreadable: made a new one (everyone must sign in again)", path)
        text = secrets.token_hex(32)
        _write_private(path, text)
    return bytes.fromhex(text)


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def format_code(code: str) -> str:
    """The code in groups for people: ``ABCD-EFGH-JKMN-PQRS``."""
    n = _CODE_GROUP_LEN
    return "-".join(code[i : i + n] for i in range(0, len(code), n))


def ensure_setup_code(data_dir: Path, store: Store) -> str | None:
    """The one-time setup code while no admin account exists (made if missing), else None."""
    path = data_dir / SETUP_CODE_FILE
    if store.users.count():
        discard_setup_code(data_dir)
        return None
    text = _read_private(path)
    if text is None or not _CODE_RE.fullmatch(_normalise(text)):
        text = "".join(
            secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_GROUPS * _CODE_GROUP_LEN)
        )
        _write_private(path, text)
    return format_code(_normalise(text))


def check_setup_code(data_dir: Path, given: str) -> bool:
    """Whether ``given`` is this box's setup code (dashes, spaces and case do not matter)."""
    text = _read_private(data_dir / SETUP_CODE_FILE)
    if text is None:
        return False
    expected = _normalise(text)
    if not _CODE_RE.fullmatch(expected):
        return False
    return hmac.compare_digest(_normalise(given).encode(), expected.encode())


def discard_setup_code(data_dir: Path) -> None:
    """Remove the setup code: it has been used (or an admin exists by other means)."""
    (data_dir / SETUP_CODE_FILE).unlink(missing_ok=True)
