"""Which Doorward this is: ``/etc/doorward-release`` on an image, else the package's version.

The file is os-release style (``KEY=value`` lines), written by the image build:
``DOORWARD_VERSION``, ``DOORWARD_COMMIT``, ``DOORWARD_BUILD_DATE``, ``DEBIAN_RELEASE``.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from appliance import __version__

RELEASE_FILE = Path("/etc/doorward-release")
ENV_VAR = "DOORWARD_RELEASE_FILE"  # another file (tests, a development box)
MAX_BYTES = 4096
_FIELD_MAX = 64


@dataclass(frozen=True)
class Release:
    """The version, and for an image its commit, build date and Debian release."""

    version: str
    commit: str | None = None
    build_date: str | None = None
    debian: str | None = None

    @property
    def label(self) -> str:
        """One line for people: ``Doorward 0.1.0 (abc1234, built 2025-05-01, Debian bookworm)``."""
        extra = [
            self.commit[:12] if self.commit else None,
            f"built {self.build_date}" if self.build_date else None,
            f"Debian {self.debian}" if self.debian else None,
        ]
        shown = ", ".join(x for x in extra if x)
        return f"Doorward {self.version}" + (f" ({shown})" if shown else "")


def parse_release(text: str) -> dict[str, str]:
    """``KEY=value`` lines (values may be quoted as in os-release); anything else is skipped."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or not key.isidentifier() or key.startswith("#"):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        text_value = " ".join(words)
        if text_value and len(text_value) <= _FIELD_MAX and text_value.isprintable():
            found[key] = text_value
    return found


def read_release(path: Path | None = None) -> Release:
    """This box's release (the package's version alone if there is no readable file)."""
    if path is None:
        path = Path(os.environ.get(ENV_VAR) or RELEASE_FILE)
    try:
        with open(path, "rb") as fh:
            text = fh.read(MAX_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return Release(__version__)
    fields = parse_release(text)
    return Release(
        fields.get("DOORWARD_VERSION", __version__),
        fields.get("DOORWARD_COMMIT"),
        fields.get("DOORWARD_BUILD_DATE"),
        fields.get("DEBIAN_RELEASE"),
    )
