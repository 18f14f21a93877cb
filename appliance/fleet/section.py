"""The ``[fleet]`` section of a box's config, checked by the fleet's own rules.

``appliance.config`` reads the file and hands this section here, so what a broker URL, a district
name or the district's public key must look like is said once, next to the code that uses them.
Only light modules are imported: ``topics`` and ``broker`` (no paho); the key is loaded (with
``cryptography``) only when the file's paths are resolved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from appliance.fleet.broker import parse_broker
from appliance.fleet.topics import check_name


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BrokerLink(_Section):
    """One end of the fleet's MQTT link (a box's ``[fleet]``, the console's ``district.toml``)."""

    broker: str = Field(min_length=1, max_length=500)
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    max_message_bytes: int = Field(16 * 1024 * 1024, ge=1024, le=256 * 1024 * 1024)

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        parse_broker(value)  # raises ValueError naming what is wrong
        return value

    @model_validator(mode="after")
    def _client_pair(self) -> Self:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together (the client certificate)")
        return self


class FleetSection(BrokerLink):
    """The box's link to its district (``doorward fleet-agent``); paths relative to the file."""

    district: str
    box_id: str
    school: str = Field(min_length=1, max_length=200)
    district_public_key: str = Field(min_length=1, max_length=4000)
    keepalive_seconds: int = Field(30, ge=5, le=3600)

    @field_validator("district", "box_id")
    @classmethod
    def _name(cls, value: str, info: ValidationInfo) -> str:
        return check_name(value, str(info.field_name))

    def resolved(self, base: Path) -> FleetSection:
        """Paths made absolute against ``base``; checks that the files and the key are there."""
        from appliance.fleet.signing import load_public_key, public_key_text

        update: dict[str, Any] = {}
        for name in ("ca_file", "cert_file", "key_file"):
            path: Path | None = getattr(self, name)
            if path is None:
                continue
            full = path if path.is_absolute() else (base / path).resolve()
            if not full.is_file():
                raise ValueError(f"{name}: no such file {full}")
            update[name] = full
        try:
            public = load_public_key(self.district_public_key, base)
        except ValueError as exc:
            raise ValueError(f"district_public_key: {exc}") from None
        # A key given as a file is read once, here: the agent may run from any directory.
        return self.model_copy(update={**update, "district_public_key": public_key_text(public)})
