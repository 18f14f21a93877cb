"""The system files a box's config implies: host name, Wi-Fi, fixed address, NTP, time zone, SSH.

Each is rendered from the applied config (and the secrets kept on the data partition), so they
can be written again after the system partition is reflashed. Files this module writes carry
a header; a file is removed only if it carries it (or is one of its symlinks).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from appliance.config import HOSTNAME_RE, Config

HEADER = "# Written by doorward provision: change the box's doorward.toml, not this file."
WPA_TEMPLATE = "/lib/systemd/system/wpa_supplicant@.service"
WANTS = "systemd/system/multi-user.target.wants"
STATIC_NETWORK = "systemd/network/10-doorward-static.network"
NTP_CONF = "systemd/timesyncd.conf.d/doorward.conf"
HOSTNAME_PREFIX = "doorward-"
MAX_HOSTNAME = 63


@dataclass(frozen=True)
class Paths:
    """Where the box's parts are (temporary directories in tests)."""

    boot: Path = Path("/boot/firmware")
    data: Path = Path("/var/lib/doorward")
    etc: Path = Path("/etc")
    root_home: Path = Path("/root")
    zoneinfo: Path = Path("/usr/share/zoneinfo")


@dataclass(frozen=True)
class Managed:
    """One system file as it should be: its text, or a symlink to ``link``; neither: removed."""

    path: Path
    text: str | None
    mode: int = 0o644
    link: str | None = None


def hostname_for(config: Config) -> str:
    """The box's host name: as configured, else ``doorward-`` and the door's name as a slug."""
    if config.network is not None and config.network.hostname:
        return config.network.hostname
    ascii_name = unicodedata.normalize("NFKD", config.door.name).encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-")
    name = (HOSTNAME_PREFIX + slug)[:MAX_HOSTNAME].rstrip("-") if slug else "doorward"
    assert HOSTNAME_RE.fullmatch(name), name
    return name


def wpa_psk(ssid: str, passphrase: str) -> str:
    """The 256-bit WPA key for ``passphrase`` on ``ssid`` (as wpa_passphrase computes it)."""
    if len(passphrase) == 64:  # already the key, in hex
        return passphrase.lower()
    key = hashlib.pbkdf2_hmac("sha1", passphrase.encode(), ssid.encode(), 4096, 32)
    return key.hex()


def hosts_text(existing: str, hostname: str) -> str:
    """``/etc/hosts`` with the box's own name on 127.0.1.1 (other lines kept)."""
    rows = [r for r in existing.splitlines() if not r.split("#")[0].strip().startswith("127.0.1.1")]
    if not any(r.split("#")[0].split()[:1] == ["127.0.0.1"] for r in rows):
        rows.insert(0, "127.0.0.1\tlocalhost")
    at = next(i for i, r in enumerate(rows) if r.split("#")[0].split()[:1] == ["127.0.0.1"])
    rows.insert(at + 1, f"127.0.1.1\t{hostname}")
    return "\n".join(rows) + "\n"


def _wpa_conf(config: Config, psk_hex: str) -> str:
    wifi = config.network.wifi if config.network else None
    assert wifi is not None
    lines = [
        HEADER,
        "ctrl_interface=DIR=/run/wpa_supplicant GROUP=netdev",
        "update_config=0",
        f"country={wifi.country}",
        "network={",
        f"\tssid={wifi.ssid.encode().hex()}",  # hex: any name, nothing to quote
        "\tkey_mgmt=WPA-PSK",
        f"\tpsk={psk_hex}",  # the derived key: the passphrase itself is not kept
    ]
    if wifi.hidden:
        lines.append("\tscan_ssid=1")
    return "\n".join([*lines, "}"]) + "\n"


def _static_network(config: Config) -> str | None:
    ipv4 = config.network.ipv4 if config.network else None
    if ipv4 is None:
        return None
    lines = [
        HEADER,
        "[Match]",
        f"Name={'e*' if ipv4.interface == 'wired' else 'wl*'}",
        "",
        "[Network]",
        f"Address={ipv4.address}",
    ]
    if ipv4.gateway:
        lines.append(f"Gateway={ipv4.gateway}")
    lines += [f"DNS={server}" for server in ipv4.dns]
    return "\n".join(lines) + "\n"


def _ntp(config: Config) -> str | None:
    servers = config.network.ntp if config.network else []
    if not servers:
        return None
    return f"{HEADER}\n[Time]\nNTP={' '.join(servers)}\n"


def _wifi_files(config: Config, paths: Paths, psk_hex: str | None) -> list[Managed]:
    """The Wi-Fi interface's wpa_supplicant config and unit link; other interfaces' removed."""
    wifi = config.network.wifi if config.network else None
    keep = wifi.interface if wifi is not None and psk_hex is not None else None
    files: list[Managed] = []
    conf_dir = paths.etc / "wpa_supplicant"
    for old in sorted(conf_dir.glob("wpa_supplicant-*.conf")):
        name = old.name.removeprefix("wpa_supplicant-").removesuffix(".conf")
        if name != keep:
            files.append(Managed(old, None))
    for old in sorted((paths.etc / WANTS).glob("wpa_supplicant@*.service")):
        name = old.name.removeprefix("wpa_supplicant@").removesuffix(".service")
        if name != keep:
            files.append(Managed(old, None))
    if keep is not None and psk_hex is not None:
        conf = conf_dir / f"wpa_supplicant-{keep}.conf"
        files.append(Managed(conf, _wpa_conf(config, psk_hex), 0o600))
        unit = paths.etc / WANTS / f"wpa_supplicant@{keep}.service"
        files.append(Managed(unit, None, link=WPA_TEMPLATE))
    return files


def system_files(
    config: Config, paths: Paths, *, psk_hex: str | None, authorized_keys: str | None
) -> list[Managed]:
    """Every system file the config implies, as it should be now."""
    hostname = hostname_for(config)
    try:
        hosts = (paths.etc / "hosts").read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        hosts = ""
    files = [
        Managed(paths.etc / "hostname", hostname + "\n"),
        Managed(paths.etc / "hosts", hosts_text(hosts, hostname)),
        Managed(paths.etc / STATIC_NETWORK, _static_network(config)),
        Managed(paths.etc / NTP_CONF, _ntp(config)),
        *_wifi_files(config, paths, psk_hex),
    ]
    if config.timezone:
        files.append(Managed(paths.etc / "timezone", config.timezone + "\n"))
        target = str(paths.zoneinfo / config.timezone)
        files.append(Managed(paths.etc / "localtime", None, link=target))
    files += keys_files(paths, authorized_keys)
    return files


def keys_files(paths: Paths, authorized_keys: str | None) -> list[Managed]:
    """root's SSH keys (nothing if none were ever given: the image's own stay)."""
    if authorized_keys is None:
        return []
    ssh = paths.root_home / ".ssh" / "authorized_keys"
    return [Managed(ssh, f"{HEADER}\n{authorized_keys}", 0o600)]
