"""A box's partitions as temporary directories: boot (FAT), data, /etc, root's home, zoneinfo."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from appliance.provision import Outcome, Paths, provision

BASIC = """
timezone = "America/Denver"
[door]
name = "Front Entrance"
[gpio]
backend = "mock"
[reader]
d0 = 8
d1 = 7
[strike]
pin = 13
active_low = false
"""
WIFI = """
[network.wifi]
ssid = "School devices"
psk = "Zebra-Quokka-42"
country = "US"
"""
# A real ed25519 public key (its private half was thrown away).
ED25519 = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIWsgpW2UjSbK/O8h4z3t/heKjmsfyMko9UENcXNugEk tech@laptop"
)


@dataclass
class Box:
    """The partitions, and helpers to write the technician's files and run provisioning."""

    paths: Paths

    def write(self, text: str, name: str = "doorward.toml") -> Path:
        path = self.paths.boot / name
        path.write_text(text)
        return path

    def run(self) -> Outcome:
        return provision(self.paths)

    def snapshot(self) -> dict[str, bytes | str]:
        """Every file and symlink under the box's directories, with its content or target."""
        found: dict[str, bytes | str] = {}
        for top in (self.paths.boot, self.paths.data, self.paths.etc, self.paths.root_home):
            for path in sorted(top.rglob("*")):
                key = str(path)
                if path.is_symlink():
                    found[key] = "-> " + str(path.readlink())
                elif path.is_file():
                    found[key] = path.read_bytes()
        return found


@pytest.fixture
def box(tmp_path: Path) -> Box:
    paths = Paths(
        boot=tmp_path / "boot",
        data=tmp_path / "data",
        etc=tmp_path / "etc",
        root_home=tmp_path / "root",
        zoneinfo=tmp_path / "zoneinfo",
    )
    for folder in (paths.boot, paths.etc, paths.root_home):
        folder.mkdir()
    (paths.zoneinfo / "America").mkdir(parents=True)
    (paths.zoneinfo / "America" / "Denver").write_bytes(b"TZif")
    (paths.boot / "config.txt").write_text("arm_64bit=1\n[pi4]\narm_boost=1\n")
    (paths.etc / "hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tdebian\n::1\tlocalhost\n")
    (paths.etc / "hostname").write_text("debian\n")
    return Box(paths)
