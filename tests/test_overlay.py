"""The image's overlay: the units say what the box relies on, and systemd accepts them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from appliance.cli import build_parser
from appliance.provision import Paths

OVERLAY = Path(__file__).resolve().parents[1] / "image-build" / "overlay"
UNITS = OVERLAY / "etc" / "systemd" / "system"
BINARY = "/opt/doorward/bin/doorward"
CONFIG = "/var/lib/doorward/doorward.toml"


def unit(name: str) -> dict[str, dict[str, list[str]]]:
    """A unit file's sections and keys; a key given twice keeps both values, as systemd does."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] = {}
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key, []).append(value)
    return sections


def one(sections: dict[str, dict[str, list[str]]], section: str, key: str) -> str:
    values = sections[section][key]
    assert len(values) == 1, (section, key, values)
    return values[0]


def words(sections: dict[str, dict[str, list[str]]], section: str, key: str) -> set[str]:
    return {w for value in sections[section].get(key, []) for w in value.split()}


def test_the_controller_unit() -> None:
    u = unit("doorward.service")
    s = "Service"
    assert one(u, s, "Type") == "notify" and one(u, s, "Restart") == "always"
    assert one(u, s, "ExecStart") == f"{BINARY} run"
    assert f"DOORWARD_CONFIG={CONFIG}" in u[s]["Environment"]
    assert 0 < int(one(u, s, "WatchdogSec")) <= 30
    assert one(u, s, "User") == "doorward" and one(u, s, "SupplementaryGroups") == "gpio"
    assert "Group" not in u[s]  # the user's own group, plus gpio: nothing else
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ReadWritePaths": "/var/lib/doorward",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateNetwork": "yes",
        "RestrictAddressFamilies": "AF_UNIX",
        "DevicePolicy": "closed",
        "DeviceAllow": "char-gpiochip rw",
        "MemoryDenyWriteExecute": "yes",
        "CapabilityBoundingSet": "",
    }.items():
        assert one(u, s, key) == value, key
    assert int(one(u, s, "Nice")) < 0
    # lgpio makes a pipe in the working directory: it must be writable under ProtectSystem.
    assert one(u, s, "WorkingDirectory") == "/run/" + one(u, s, "RuntimeDirectory")
    # Early, after provisioning, not at all before it.
    assert one(u, "Unit", "DefaultDependencies") == "no"
    assert {"doorward-provision.service", "local-fs.target"} <= words(u, "Unit", "After")
    assert "shutdown.target" in words(u, "Unit", "Conflicts")
    assert one(u, "Unit", "ConditionPathExists") == CONFIG
    assert one(u, "Install", "WantedBy") == "multi-user.target"


def test_the_controller_needs_no_network() -> None:
    """PrivateNetwork=yes holds: the control socket is a Unix socket in the data directory."""
    from appliance import control

    path = Paths().data / control.SOCKET_NAME
    assert str(path) == "/var/lib/doorward/control.sock"
    source = Path(control.__file__).read_text()
    assert "AF_UNIX" in source and "AF_INET" not in source


def test_the_admin_page_unit_never_holds_the_controller_back() -> None:
    u = unit("doorward-web.service")
    s = "Service"
    argv = one(u, s, "ExecStart").split()
    assert argv[0] == BINARY and f"DOORWARD_CONFIG={CONFIG}" in u[s]["Environment"]
    args = build_parser().parse_args(argv[1:])
    assert (args.command, args.tls, args.host, args.port) == ("web", True, "0.0.0.0", 443)
    assert args.data == Paths().data
    assert one(u, s, "AmbientCapabilities") == "CAP_NET_BIND_SERVICE"
    assert one(u, s, "CapabilityBoundingSet") == "CAP_NET_BIND_SERVICE"
    assert int(one(u, s, "Nice")) > 0 and one(u, s, "User") == "doorward"
    assert "doorward-provision.service" in words(u, "Unit", "After")
    for key in ("After", "Requires", "BindsTo", "Requisite", "PartOf", "Wants"):
        assert "doorward.service" not in words(u, "Unit", key), key  # starts beside it
    assert "doorward-web.service" not in str(unit("doorward.service"))  # no tie either way


def test_the_provisioning_unit() -> None:
    u = unit("doorward-provision.service")
    s = "Service"
    assert one(u, s, "Type") == "oneshot" and "User" not in u[s]  # root
    argv = one(u, s, "ExecStart").split()
    args = build_parser().parse_args(argv[1:])
    assert args.command == "provision"
    assert (args.boot, args.data, args.etc) == (Paths().boot, Paths().data, Paths().etc)
    assert one(u, s, "StandardOutput") == "journal+console"
    before = words(u, "Unit", "Before")
    assert {"doorward.service", "doorward-web.service", "ssh.service"} <= before
    assert {"systemd-networkd.service", "systemd-timesyncd.service"} <= before
    writable = set(one(u, s, "ReadWritePaths").split())
    assert {"/etc", "/root", str(Paths().boot), str(Paths().data)} == writable


def test_udev_networkd_sshd() -> None:
    rule = (OVERLAY / "etc/udev/rules.d/60-doorward-gpio.rules").read_text()
    assert re.search(
        r'^SUBSYSTEM=="gpio", KERNEL=="gpiochip\*", GROUP="gpio", MODE="0660"$', rule, re.M
    )
    network = OVERLAY / "etc/systemd/network"
    assert "Name=e*" in (network / "80-doorward-wired.network").read_text()
    assert "Name=wl*" in (network / "80-doorward-wireless.network").read_text()
    for path in network.iterdir():
        assert "DHCP=yes" in path.read_text()
    sshd = (OVERLAY / "etc/ssh/sshd_config.d/doorward.conf").read_text().splitlines()
    assert "PermitRootLogin prohibit-password" in sshd and "PasswordAuthentication no" in sshd


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    stub = tmp_path / "doorward"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    units = tmp_path / "units"
    shutil.copytree(UNITS, units)
    names = sorted(p.name for p in units.glob("*.service"))
    for name in names:
        path = units / name
        path.write_text(path.read_text().replace(BINARY, str(stub)))
    result = subprocess.run(
        ["systemd-analyze", "verify", *names],
        cwd=units,
        env={"SYSTEMD_UNIT_PATH": f"{units}:/lib/systemd/system", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_the_fleet_link_unit_never_holds_the_controller_back() -> None:
    u = unit("doorward-fleet.service")
    s = "Service"
    argv = one(u, s, "ExecStart").split()
    assert argv[0] == BINARY and f"DOORWARD_CONFIG={CONFIG}" in u[s]["Environment"]
    assert build_parser().parse_args(argv[1:]).command == "fleet-agent"
    assert one(u, s, "User") == "doorward" and int(one(u, s, "Nice")) > 0
    assert one(u, s, "ExecCondition").endswith(CONFIG)  # a box outside a fleet skips it
    for key in ("Requires", "BindsTo", "Requisite", "PartOf", "Wants"):
        assert "doorward.service" not in words(u, "Unit", key), key
    assert "doorward-fleet.service" not in str(unit("doorward.service"))
