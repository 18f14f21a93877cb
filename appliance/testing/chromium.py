"""Debian's Chromium for Playwright: where it is and the flags a headless run in a container needs.

Not an emulator: the one place the browser tests (tests/browser) and docs/screenshots.py take the
browser from, so both drive the same one the same way.

Limits: Debian's path only. Playwright itself is not imported here; ``playwright`` (the ``dev``
extra) and Debian's ``chromium`` package are needed to use these.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["CHROMIUM", "CHROMIUM_ARGS"]

#: Debian's chromium (no browser download by Playwright).
CHROMIUM = Path("/usr/bin/chromium")
#: Headless as root in a container (no sandbox, no GPU), and quiet: no network of its own.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
