"""Is the wall clock trustworthy? A Pi has no RTC: schedules must know when time is not yet set."""

from __future__ import annotations

from pathlib import Path

TIMESYNC_DIR = Path("/run/systemd/timesync")


def clock_synchronised(timesync_dir: Path = TIMESYNC_DIR) -> bool:
    """True once systemd-timesyncd has synchronised the clock (or where it does not run at all)."""
    if not timesync_dir.is_dir():
        return True  # no timesyncd (a developer's machine, a test): the host keeps the time
    return (timesync_dir / "synchronized").exists()
