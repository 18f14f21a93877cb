"""The box's configuration: one TOML file, checked whole before anything uses it.

A wrong key, type or pin stops with a message that names the key and says what is expected.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from appliance.core.backends import outputs_of
from appliance.core.model import Window
from appliance.core.schedule import schedule, to_window
from appliance.fleet.section import BrokerLink as BrokerLink  # the console's district.toml
from appliance.fleet.section import FleetSection as FleetSection  # the fleet agent reads it here

ENV_VAR = "DOORWARD_CONFIG"
BcmPin = Annotated[int, Field(ge=0, le=27, description="a BCM GPIO number, 0-27")]


class ConfigError(ValueError):
    """The configuration is unusable; the message names the file, the key and what was expected."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DoorSection(_Section):
    name: str = Field(min_length=1, max_length=80)
    unlock_seconds: float = Field(5.0, gt=0, le=3600)
    held_open_seconds: float = Field(30.0, gt=0, le=86400)
    lock_type: Literal["fail_secure", "fail_safe"] = "fail_secure"
    dps_debounce_seconds: float = Field(0.1, ge=0, le=5)
    forced_open_grace_seconds: float = Field(1.0, ge=0, le=60)
    # held unlocked on a weekly schedule, e.g. [{days = "mon-fri", start = "07:30", end = "08:15"}]
    unlocked_schedule: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("unlocked_schedule")
    @classmethod
    def _windows(cls, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        cls._parse(value)
        return value

    @staticmethod
    def _parse(value: list[dict[str, Any]]) -> tuple[Window, ...]:
        # a ScheduleError is a ValueError: pydantic reports its message under the key
        return tuple(to_window(w) for w in schedule(value))

    @property
    def unlocked_windows(self) -> tuple[Window, ...]:
        """The schedule's windows, ready for ``core.decide.in_window``."""
        return self._parse(self.unlocked_schedule)


class GpioSection(_Section):
    backend: Literal["pigpio", "gpiod", "mock"] = "pigpio"
    outputs: Literal["pigpio", "lgpio", "rpigpio", "mock"] | None = None
    chip: str = "/dev/gpiochip0"


class ReaderSection(_Section):
    d0: BcmPin
    d1: BcmPin
    frame_bits: int | None = Field(None, ge=4, le=128)
    formats: list[str] | None = None
    keypad: Literal["none", "4bit", "8bit", "hid26"] = "none"
    min_card_bits: int = Field(26, ge=4, le=128)
    glitch_us: int = Field(
        0, ge=0, lt=20, description="pigpio glitch filter; below the 20 µs pulse"
    )
    watchdog_ms: int = Field(0, ge=0, le=60000)
    pin_timeout_seconds: float = Field(5.0, gt=0, le=60)
    led_pin: BcmPin | None = None
    led_active_low: bool = True
    beeper_pin: BcmPin | None = None
    beeper_active_low: bool = True

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        from appliance.wiegand.formats import WiegandError, canonical_format

        try:
            return [canonical_format(name) for name in value]
        except WiegandError as exc:
            raise ValueError(str(exc)) from None


class StrikeSection(_Section):
    pin: BcmPin
    active_low: bool = True


class InputSection(_Section):
    pin: BcmPin
    active_low: bool = True  # a contact that closes to ground, with the pull-up on
    pull_up: bool = True


class DpsSection(InputSection):
    active_low: bool = False  # the usual closed-when-shut switch to ground reads high when open


class RexSection(InputSection):
    mode: Literal["unlock", "shunt"] = "unlock"


class ClockSection(_Section):
    unsynced_policy: Literal["deny_scheduled", "allow"] = "deny_scheduled"


HOSTNAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
_IFNAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,15}")
_NTP_RE = re.compile(r"[A-Za-z0-9.:-]{1,253}")


class WifiSection(_Section):
    """Wi-Fi (WPA2-Personal); the passphrase is moved off the boot partition when applied."""

    ssid: str = Field(min_length=1)
    psk: str | None = Field(None, description="required in the boot partition's file")
    country: str = Field(description="the country's two-letter code, e.g. US (radio rules)")
    interface: str = Field("wlan0", pattern=_IFNAME_RE.pattern)
    hidden: bool = False

    @field_validator("ssid")
    @classmethod
    def _ssid(cls, value: str) -> str:
        if len(value.encode()) > 32 or any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise ValueError("a network name of 1-32 bytes without control characters")
        return value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2}", value):
            raise ValueError(f"{value!r} is not a two-letter country code in capitals, e.g. US")
        return value

    @field_validator("psk")
    @classmethod
    def _psk(cls, value: str | None) -> str | None:
        if value is None:
            return None
        hex_key = len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)
        passphrase = 8 <= len(value) <= 63 and all(32 <= ord(c) <= 126 for c in value)
        if not (hex_key or passphrase):
            # never echo it: it is a secret
            raise ValueError(
                "a WPA passphrase of 8-63 printable ASCII characters, or 64 hex digits"
            )
        return value


class Ipv4Section(_Section):
    """A fixed IPv4 address instead of DHCP on one kind of interface."""

    interface: Literal["wired", "wifi"] = "wired"
    address: str = Field(description="address with its prefix, e.g. 10.20.30.40/24")
    gateway: str | None = None
    dns: list[str] = Field(default_factory=list, max_length=3)

    @model_validator(mode="after")
    def _addresses(self) -> Self:
        if "/" not in self.address:
            raise ValueError(f"address {self.address!r} needs its prefix, e.g. 10.20.30.40/24")
        try:
            iface = ipaddress.IPv4Interface(self.address)
            gateway = None if self.gateway is None else ipaddress.IPv4Address(self.gateway)
            for server in self.dns:
                ipaddress.IPv4Address(server)
        except ValueError as exc:
            raise ValueError(f"not an IPv4 address: {exc}") from None
        if gateway is not None and gateway not in iface.network:
            raise ValueError(f"gateway {gateway} is not in {iface.network}")
        return self


class NetworkSection(_Section):
    """How the box joins the school's network (used by ``doorward provision``)."""

    hostname: str | None = Field(None, description="default: doorward-<the door's name>")
    ntp: list[str] = Field(default_factory=list, max_length=8)
    wifi: WifiSection | None = None
    ipv4: Ipv4Section | None = None

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str | None) -> str | None:
        if value is not None and not HOSTNAME_RE.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a host name: 1-63 lower-case letters, digits and dashes, "
                "not starting or ending with a dash"
            )
        return value

    @field_validator("ntp")
    @classmethod
    def _ntp(cls, value: list[str]) -> list[str]:
        for server in value:
            if not _NTP_RE.fullmatch(server):
                raise ValueError(f"{server!r} is not a host name or address")
        return value


class Config(_Section):
    """The whole file; sections other than [door], [reader] and [strike] have defaults."""

    data_dir: Path = Path("/var/lib/doorward")
    timezone: str | None = None
    door: DoorSection
    gpio: GpioSection = GpioSection()
    reader: ReaderSection
    strike: StrikeSection
    dps: DpsSection | None = None
    rex: RexSection | None = None
    lockdown_button: InputSection | None = None
    clock: ClockSection = ClockSection()
    network: NetworkSection | None = None
    fleet: FleetSection | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r} (e.g. America/Denver)") from None
        return value

    @model_validator(mode="after")
    def _pins_distinct(self) -> Self:
        used: dict[int, str] = {}
        for name, pin in self.pins().items():
            if pin in used:
                raise ValueError(f"GPIO {pin} is used twice: by {used[pin]} and by {name}")
            used[pin] = name
        return self

    def pins(self) -> dict[str, int]:
        """Every configured pin by its key, e.g. ``{"reader.d0": 14, ...}``."""
        pins = {
            "reader.d0": self.reader.d0,
            "reader.d1": self.reader.d1,
            "strike.pin": self.strike.pin,
        }
        for key, pin in (
            ("reader.led_pin", self.reader.led_pin),
            ("reader.beeper_pin", self.reader.beeper_pin),
        ):
            if pin is not None:
                pins[key] = pin
        for key, section in (
            ("dps", self.dps),
            ("rex", self.rex),
            ("lockdown_button", self.lockdown_button),
        ):
            if section is not None:
                pins[f"{key}.pin"] = section.pin
        return pins

    @property
    def zone(self) -> ZoneInfo | None:
        """The configured time zone, or None for the system's local time."""
        return ZoneInfo(self.timezone) if self.timezone else None

    @property
    def db_path(self) -> Path:
        """Where the SQLite database lives."""
        return self.data_dir / "doorward.db"

    @property
    def outputs_backend(self) -> str:
        """The gpiozero pin factory for outputs: as configured, or the reader back-end's match."""
        return self.gpio.outputs or outputs_of(self.gpio.backend)


def _describe(exc: ValidationError, path: Path | str) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check its spelling and section)"
        elif err["type"] == "missing":
            msg = "missing: this key is required"
        lines.append(f"{path}: {key}: {msg.removeprefix('Value error, ')}")
    return "\n".join(lines)


def parse_config(data: dict[str, object], source: Path | str = "<config>") -> Config:
    """Validate already-parsed TOML data."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate the config file at ``path`` (or $DOORWARD_CONFIG)."""
    if path is None:
        env = os.environ.get(ENV_VAR)
        if not env:
            raise ConfigError(f"no configuration: give --config PATH or set {ENV_VAR}")
        path = env
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    config = parse_config(data, path)
    if not config.data_dir.is_absolute():  # relative to the file, not to wherever it is run from
        config = config.model_copy(update={"data_dir": (path.parent / config.data_dir).resolve()})
    if config.fleet is not None:
        try:
            fleet = config.fleet.resolved(path.parent)
        except ValueError as exc:
            raise ConfigError(f"{path}: fleet.{exc}") from None
        config = config.model_copy(update={"fleet": fleet})
    return config
