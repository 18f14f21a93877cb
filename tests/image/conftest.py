"""Fixtures for the image tests (`make image-test`; not part of the fast suite).

The image is the one `make image` built last (image-build/out/doorward.img) or $DOORWARD_IMAGE. Its
partitions are copied out into files once per session; the boot tests work on copies of the image,
so the built image stays pristine. Measured times are printed at the end of the run.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.image.machine import REPO, Ext4, Fat, Partition, extract, image_path, partitions

TIMINGS: dict[str, float] = {}
NOTES: list[str] = []  # what the box said about its boot (systemd-analyze)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TIMINGS and not NOTES:
        return
    terminalreporter.section("image: measured")
    for name, seconds in TIMINGS.items():
        terminalreporter.write_line(f"{name:<55} {seconds:7.1f} s")
    for note in NOTES:
        terminalreporter.write_line(note)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    terminalreporter.write_line(
        f"host load average (1, 5, 15 min) now: {load} on {os.cpu_count()} CPUs"
    )


@pytest.fixture(scope="session")
def timings() -> dict[str, float]:
    return TIMINGS


@pytest.fixture(scope="session")
def boot_notes() -> list[str]:
    return NOTES


@pytest.fixture(scope="session")
def image() -> Path:
    return image_path()


@pytest.fixture(scope="session")
def layout(image: Path) -> list[Partition]:
    return partitions(image)


@pytest.fixture(scope="session")
def parts(image: Path, layout: list[Partition], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with p1.img, p2.img and p3.img copied out of the pristine image."""
    where = tmp_path_factory.mktemp("parts")
    for part in layout:
        extract(image, part, where / f"p{part.number}.img")
    return where


@pytest.fixture(scope="session")
def boot(image: Path, layout: list[Partition]) -> Fat:
    """The pristine image's boot partition (read only: tests that write use a copy)."""
    return Fat(image, layout[0])


@pytest.fixture(scope="session")
def root_fs(parts: Path) -> Ext4:
    return Ext4(parts / "p2.img")


@pytest.fixture(scope="session")
def data_fs(parts: Path) -> Ext4:
    return Ext4(parts / "p3.img")


@pytest.fixture(scope="session")
def ssh_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh SSH key for this run (its public half goes on the boot partition)."""
    key = tmp_path_factory.mktemp("ssh") / "id_ed25519"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "image-test", "-f", str(key)],
        check=True,
    )
    yield key


def provisioning_toml(name: str, backend: str = "mock") -> str:
    """The technician's doorward.toml: the default pin map (wiring/doorward.toml) with this door
    name and GPIO back-end."""
    wiring = REPO / "wiring" / "doorward.toml"
    assert wiring.is_file(), f"missing {wiring} (the default pin map)"
    text = wiring.read_text()
    text, backends = re.subn(
        r'^(\s*backend\s*=\s*)"[^"]*"', rf'\g<1>"{backend}"', text, count=1, flags=re.M
    )
    text, names = re.subn(r'^(\s*name\s*=\s*)"[^"]*"', rf'\g<1>"{name}"', text, count=1, flags=re.M)
    assert backends == 1 and names == 1, f"{wiring} has no [gpio] backend or [door] name line"
    return text
