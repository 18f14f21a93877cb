"""``data_dir/provision-status.json``: what the last provisioning did, for the admin page.

Written by ``doorward provision`` (as root), read by ``doorward web``; never trusted blindly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from appliance.files import write_atomic

STATUS_FILE = "provision-status.json"
MAX_BYTES = 64 * 1024
State = Literal["applied", "failed"]


@dataclass(frozen=True)
class ProvisionStatus:
    """The outcome of the last provisioning that had something to do."""

    state: State
    message: str
    time: str  # ISO 8601, UTC
    applied_at: str | None = None  # when a config was last applied (still in effect)
    warnings: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Whether the boot partition's last file was refused."""
        return self.state == "failed"


def now_iso() -> str:
    """The time now, as the status records it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_status(data_dir: Path, status: ProvisionStatus) -> Path:
    """Record ``status`` (readable by the admin page's user)."""
    path = data_dir / STATUS_FILE
    text = json.dumps(asdict(status), indent=2) + "\n"
    write_atomic(path, text.encode(), 0o644)
    return path


def read_status(data_dir: Path) -> ProvisionStatus | None:
    """The last status, or None if there is none (or it cannot be read as one)."""
    try:
        with open(data_dir / STATUS_FILE, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            return None
        data = json.loads(raw)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("state") not in ("applied", "failed"):
        return None
    texts = [data.get(k) for k in ("message", "time")]
    applied_at = data.get("applied_at")
    warnings = data.get("warnings", [])
    if not all(isinstance(t, str) for t in texts):
        return None
    if applied_at is not None and not isinstance(applied_at, str):
        return None
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        return None
    return ProvisionStatus(data["state"], data["message"], data["time"], applied_at, warnings)
