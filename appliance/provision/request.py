"""What the technician put on the boot partition, checked whole before anything is changed.

Every problem found is collected, so one look at the console (or the error file on the card)
shows all of them, not only the first.
"""

from __future__ import annotations

import base64
import binascii
import copy
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.config import Config, ConfigError, load_config, parse_config
from appliance.firmware import FirmwareConfigError, power_on_problems, replace_gpio_block
from appliance.provision.system import Paths, wpa_psk

BOOT_CONFIG = "doorward.toml"
BOOT_KEYS = "authorized_keys"
APPLIED = ".applied"
CONFIG_TXT = "config.txt"
MAX_BYTES = 64 * 1024
SYSTEM_DIR = "system"  # root's own, on the data partition: the Wi-Fi key, the SSH keys
SECRETS_DIR = "secrets"  # the service's secret files, e.g. the fleet's key
STORED_PSK = "wifi-psk"
STORED_KEYS = "authorized_keys"
# Config keys (section.key) naming files that are secrets: copied into data_dir/secrets,
# removed from the boot partition, and the key rewritten to the copy.
SECRET_FILE_KEYS: tuple[str, ...] = ("fleet.ca_file", "fleet.cert_file", "fleet.key_file")
SSH_KEY_TYPES = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)


class ProvisionError(Exception):
    """The boot partition's files cannot be applied; ``problems`` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SecretFile:
    """A secret file named in the config: where it is on the card, where it goes."""

    key: str
    source: Path
    dest: Path


@dataclass
class Request:
    """Everything to apply, all of it already checked."""

    config: Config | None  # None: only SSH keys are new and the box has no config yet
    applied: dict[str, Any] | None  # the config file to write to data_dir (no secrets in it)
    psk_hex: str | None  # a new Wi-Fi key to keep (None: keep the stored one, or no Wi-Fi)
    keys: str | None  # new authorized_keys text
    secret_files: list[SecretFile] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)  # the boot partition's files it came from


def previous_config(paths: Paths) -> Config | None:
    """The config in effect (None if there is none, or it cannot be read)."""
    try:
        return load_config(paths.data / BOOT_CONFIG)
    except ConfigError:
        return None


def _read_text(path: Path, problems: list[str]) -> str | None:
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        problems.append(f"{path.name}: cannot read: {exc.strerror}")
        return None
    if len(raw) > MAX_BYTES:
        problems.append(f"{path.name}: larger than {MAX_BYTES // 1024} KiB: not a config file")
        return None
    try:
        return raw.decode("utf-8-sig")  # a byte-order mark from Windows' Notepad is fine
    except UnicodeDecodeError:
        problems.append(f"{path.name}: not UTF-8 text (save it as UTF-8)")
        return None


def check_authorized_keys(text: str, name: str = BOOT_KEYS) -> list[str]:
    """Problems with an authorized_keys file: each line must be one SSH public key."""
    problems: list[str] = []
    count = 0
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{name}: line {number}"
        if "PRIVATE KEY" in line:
            problems.append(f"{where}: a private key: never put one on the card (use the .pub)")
            continue
        fields = line.split()
        if fields[0] not in SSH_KEY_TYPES or len(fields) < 2:
            problems.append(
                f"{where}: not an SSH public key (expected e.g. 'ssh-ed25519 AAAA... name')"
            )
            continue
        try:
            blob = base64.b64decode(fields[1], validate=True)
        except (binascii.Error, ValueError):
            problems.append(f"{where}: the key's base64 text is damaged")
            continue
        size = int.from_bytes(blob[:4], "big")
        if blob[4 : 4 + size] != fields[0].encode():
            problems.append(f"{where}: the key does not match its type {fields[0]}")
            continue
        count += 1
    if not problems and count == 0:
        problems.append(f"{name}: no public key in it")
    return problems


def _dotted(data: dict[str, Any], key: str) -> tuple[dict[str, Any], str] | None:
    section, _, name = key.rpartition(".")
    table: Any = data
    for part in section.split(".") if section else []:
        table = table.get(part) if isinstance(table, dict) else None
    if isinstance(table, dict) and name in table:
        return table, name
    return None


def _secret_files(
    data: dict[str, Any], paths: Paths, problems: list[str]
) -> tuple[list[SecretFile], dict[str, Any]]:
    """The secret files the config names, checked; and the data pointing at the card's copies."""
    found: list[SecretFile] = []
    checked = copy.deepcopy(data)
    secrets = paths.data / SECRETS_DIR
    for key in SECRET_FILE_KEYS:
        spot = _dotted(checked, key)
        if spot is None:
            continue
        table, name = spot
        value = table[name]
        if not isinstance(value, str) or not value:
            problems.append(f"{BOOT_CONFIG}: {key}: a file name on the boot partition")
            continue
        source = Path(value) if Path(value).is_absolute() else paths.boot / value
        if source.parent == secrets and source.is_file():
            continue  # already moved at an earlier provisioning (the .applied file, reused)
        if not source.is_file():
            problems.append(f"{BOOT_CONFIG}: {key}: no file {value!r} on the boot partition")
            continue
        if source.stat().st_size > MAX_BYTES:
            problems.append(f"{BOOT_CONFIG}: {key}: {value!r} is larger than 64 KiB")
            continue
        dest = secrets / (key.replace(".", "-").removesuffix("_file") + source.suffix)
        found.append(SecretFile(key, source, dest))
        table[name] = str(source)
    return found, checked


def _config_problems(config: Config, paths: Paths) -> list[str]:
    """What the image cannot do with an otherwise valid config."""
    problems = []
    if config.gpio.backend == "pigpio":
        problems.append(
            f'{BOOT_CONFIG}: gpio.backend: "pigpio" needs the pigpiod daemon, which this image '
            'does not have: use "gpiod" (or "mock" to try the box without a door)'
        )
    if config.timezone and not (paths.zoneinfo / config.timezone).is_file():
        problems.append(f"{BOOT_CONFIG}: timezone: {config.timezone!r} is not installed here")
    return problems


def _wifi_key(config: Config, paths: Paths, problems: list[str]) -> str | None:
    """The Wi-Fi key to store; None to keep the stored one (same network, no passphrase given)."""
    wifi = config.network.wifi if config.network else None
    if wifi is None:
        return None
    if wifi.psk is not None:
        return wpa_psk(wifi.ssid, wifi.psk)
    before = previous_config(paths)
    old = before.network.wifi if before and before.network else None
    if old is None or old.ssid != wifi.ssid or not (paths.data / SYSTEM_DIR / STORED_PSK).is_file():
        problems.append(
            f"{BOOT_CONFIG}: network.wifi.psk: missing: the Wi-Fi passphrase (needed once per "
            "network; it is moved off the card)"
        )
    return None


def _config_request(
    text: str, paths: Paths, problems: list[str]
) -> tuple[Config, dict[str, Any], str | None, list[SecretFile]] | None:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{BOOT_CONFIG}: not valid TOML: {exc}")
        return None
    data["data_dir"] = str(paths.data)  # the data partition, whatever the file says
    secret_files, checked = _secret_files(data, paths, problems)
    try:
        config = parse_config(checked, BOOT_CONFIG)
    except ConfigError as exc:
        problems.extend(str(exc).splitlines())
        return None
    problems.extend(_config_problems(config, paths))
    psk_hex = _wifi_key(config, paths, problems)
    applied = copy.deepcopy(data)
    if config.fleet is not None:
        # The district's public key may be a file on the card: checked here, kept as its text.
        try:
            fleet = config.fleet.resolved(paths.boot)
        except ValueError as exc:
            problems.append(f"{BOOT_CONFIG}: fleet.{exc}")
            return None
        applied["fleet"]["district_public_key"] = fleet.district_public_key
    wifi = applied.get("network", {}).get("wifi")
    if isinstance(wifi, dict):
        wifi.pop("psk", None)  # kept on the data partition, as the derived key only
    for secret in secret_files:
        spot = _dotted(applied, secret.key)
        assert spot is not None
        spot[0][spot[1]] = str(secret.dest)
    config_txt = paths.boot / CONFIG_TXT
    if config_txt.exists():
        try:
            replace_gpio_block(config_txt.read_text(encoding="utf-8", errors="replace"), [])
        except FirmwareConfigError as exc:
            problems.append(str(exc))
    return config, applied, psk_hex, secret_files


def read_request(paths: Paths) -> Request | None:
    """The boot partition's new files, checked whole; None if there is nothing new.

    Raises ProvisionError listing every problem; nothing has been changed then.
    """
    config_file, keys_file = paths.boot / BOOT_CONFIG, paths.boot / BOOT_KEYS
    misnamed = [
        f"{name}.txt: rename it to {name} (Windows hides the .txt it added)"
        for name in (BOOT_CONFIG, BOOT_KEYS)
        if (paths.boot / f"{name}.txt").exists() and not (paths.boot / name).exists()
    ]
    if misnamed:
        raise ProvisionError(misnamed)
    if not config_file.exists() and not keys_file.exists():
        return None
    problems: list[str] = []
    request = Request(config=None, applied=None, psk_hex=None, keys=None)
    if keys_file.exists():
        request.sources.append(keys_file)
        keys = _read_text(keys_file, problems)
        if keys is not None:
            found = check_authorized_keys(keys)
            problems.extend(found)
            if not found:
                request.keys = "\n".join(ln.strip() for ln in keys.splitlines() if ln.strip())
    if config_file.exists():
        request.sources.insert(0, config_file)
        text = _read_text(config_file, problems)
        parsed = _config_request(text, paths, problems) if text is not None else None
        if parsed is not None:
            request.config, request.applied, request.psk_hex, request.secret_files = parsed
    else:
        request.config = previous_config(paths)
    if problems:
        raise ProvisionError(problems)
    if request.config is not None:
        request.warnings = power_on_problems(request.config)
    return request
