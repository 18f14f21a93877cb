"""Is the wall clock trustworthy? A Pi has no RTC: schedules must know when time is not yet set."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

TIMESYNC_DIR = Path("/run/systemd/timesync")
# A box booted by systemd with timesyncd enabled: there, no "synchronized" file means not yet
# synchronised, even before timesyncd has started (the controller starts before it).
TIMESYNCD_EXPECTED = (
    Path("/run/systemd/system"),  # systemd is PID 1 (sd_booted)
    Path("/etc/systemd/system/sysinit.target.wants/systemd-timesyncd.service"),
)


def clock_synchronised(
    timesync_dir: Path = TIMESYNC_DIR, expected: Iterable[Path] = TIMESYNCD_EXPECTED
) -> bool:
    """True once systemd-timesyncd has synchronised the clock (or where it is not used at all)."""
    if (timesync_dir / "synchronized").exists():
        return True
    # Without timesyncd (a developer's machine, a test) the host keeps the time.
    return not (timesync_dir.is_dir() or all(path.exists() for path in expected))
