"""The door settings an admin may change, their limits, and the one check of a value. Pure.

Everything else about the door is the installer's, in the config file. The admin page checks a
value with ``check_setting`` before storing it, and the controller checks the stored value again
before the door uses it (``appliance.door.settings_with``).
"""

from __future__ import annotations

import math

# Settings an admin may change on the admin page (stored in the door_settings table), with
# their limits; everything else about the door is the installer's, in the config file.
SECONDS_LIMITS: dict[str, tuple[float, float]] = {
    "unlock_seconds": (0.1, 3600.0),
    "held_open_seconds": (1.0, 86400.0),
}
REX_MODES = ("unlock", "shunt")
EDITABLE_SETTINGS = (*SECONDS_LIMITS, "rex_mode")


class SettingError(ValueError):
    """A door setting's key or value is unusable; the message says which and why."""


def check_setting(key: str, value: object) -> float | str:
    """The clean value of one editable door setting, or SettingError naming what is wrong."""
    if key == "rex_mode":
        if not isinstance(value, str) or value not in REX_MODES:
            raise SettingError(f"rex_mode must be one of {', '.join(REX_MODES)}, not {value!r}")
        return value
    if key not in SECONDS_LIMITS:
        raise SettingError(
            f"{key!r} is not a door setting that can be changed here "
            f"(those are {', '.join(EDITABLE_SETTINGS)})"
        )
    low, high = SECONDS_LIMITS[key]
    # bool is an int in Python, but true is not a number of seconds
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingError(f"{key} must be a number of seconds, not {value!r}")
    seconds = float(value)
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise SettingError(f"{key} must be from {low:g} to {high:g} seconds, not {value!r}")
    return seconds
