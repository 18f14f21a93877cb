"""Putting provisioning's files in place: only what differs, atomically, owned by the right user."""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import stat
from pathlib import Path

from appliance.files import write_atomic
from appliance.provision.system import HEADER, WPA_TEMPLATE, Managed

REMOVABLE_LINKS = frozenset({WPA_TEMPLATE})


class UnsafePathError(OSError):
    """A directory provisioning writes into is not what it must be (e.g. a symlink)."""


def private_dir(path: Path, *, root_only: bool = False) -> Path:
    """``path`` as a real directory, 0700 (created if missing); never through a symlink.

    ``root_only``: when running as root it must also be root's, so that the service user
    cannot swap in its own (it owns the data partition's top directory).
    """
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if not stat.S_ISDIR(info.st_mode):
        raise UnsafePathError(f"{path} is not a directory (a symlink?): refusing to use it")
    if root_only and os.geteuid() == 0 and info.st_uid != 0:
        raise UnsafePathError(f"{path} is not root's: refusing to use it")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(path, 0o700)
    return path


def read_private(path: Path) -> str | None:
    """A root-only file's text (None if missing); refused if it is a symlink or not root's."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(info.st_mode) or (os.geteuid() == 0 and info.st_uid != 0):
        raise UnsafePathError(f"{path} is not a plain file of root's: refusing to use it")
    return path.read_text(encoding="utf-8")


def _is_ours(path: Path) -> bool:
    if path.is_symlink():
        return os.readlink(path) in REMOVABLE_LINKS
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.readline().rstrip("\n") == HEADER
    except OSError:
        return False


def _same(path: Path, want: Managed) -> bool:
    if want.link is not None:
        return path.is_symlink() and os.readlink(path) == want.link
    if path.is_symlink() or not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return text == want.text and stat.S_IMODE(path.stat().st_mode) == want.mode


def _link(path: Path, target: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sync(files: list[Managed]) -> list[Path]:
    """Make each file as it should be; returns the paths that changed."""
    changed: list[Path] = []
    for want in files:
        path = want.path
        if want.text is None and want.link is None:
            if (path.exists() or path.is_symlink()) and _is_ours(path):
                path.unlink()
                changed.append(path)
            continue
        if _same(path, want):
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name == "authorized_keys":
            os.chmod(path.parent, 0o700)  # sshd's StrictModes
        if want.link is not None:
            _link(path, want.link)
        else:
            assert want.text is not None
            write_atomic(path, want.text.encode(), want.mode)
        changed.append(path)
    return changed


def service_owner(user: str) -> tuple[int, int] | None:
    """The service user's uid and gid, if this process may and can hand files to it."""
    if os.geteuid() != 0:
        return None  # a test, or a developer's machine: nothing to hand over
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    return entry.pw_uid, entry.pw_gid


def chown_tree(top: Path, user: str, *, skip: frozenset[Path] = frozenset()) -> bool:
    """Give ``top`` and everything under it (but ``skip``) to ``user``; False if not possible."""
    owner = service_owner(user)
    if owner is None:
        return False
    uid, gid = owner
    os.chown(top, uid, gid, follow_symlinks=False)
    for folder, dirs, names in os.walk(top):
        here = Path(folder)
        dirs[:] = [d for d in dirs if here / d not in skip]
        for name in [*dirs, *names]:
            with contextlib.suppress(FileNotFoundError):  # e.g. a -journal file just removed
                os.chown(here / name, uid, gid, follow_symlinks=False)
    return True
