"""The image booted in QEMU (-M virt, the image's own kernel and initrd, root on the image's own
partition), provisioned from its boot partition, and used from the host as a technician would: SSH
with the key they put on the card, the admin page over HTTPS.

The tests run in order on one box (one disk, several boots): first boot and provisioning, the setup
code, a card swiped through the CLI, a reboot, then a broken doorward.toml.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.image.conftest import provisioning_toml
from tests.image.machine import (
    Box,
    Fat,
    Qemu,
    copy_image,
    free_port,
    partitions,
    virt_argv,
    virt_cmdline,
)
from tests.webui.conftest import csrf_token

DISK_BYTES = 4 << 30  # a bigger card than the image: the data partition grows into it
DOOR = "Image Test Door"
BOOT_TIMEOUT = 300.0
PASSWORD = "correct horse battery staple"


@dataclass
class Virt:
    """The test box: its disk, how to boot it, and the QEMU now running (if any)."""

    disk: Path
    fat: Fat
    argv: list[str]
    console_dir: Path
    box: Box
    vm: Qemu | None = None
    boots: int = 0

    def boot(self) -> Qemu:
        assert self.vm is None
        self.boots += 1
        self.vm = Qemu(self.argv, self.console_dir / f"console-{self.boots}.log")
        return self.vm

    def power_off(self) -> None:
        assert self.vm is not None
        self.box.ssh("systemctl poweroff", check=False, timeout=30)
        self.vm.wait_exit(120)
        self.vm = None

    def kill(self) -> None:
        if self.vm is not None:
            self.vm.kill()
            self.vm = None


@pytest.fixture(scope="module")
def virt(image: Path, ssh_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virt]:
    where = tmp_path_factory.mktemp("virt")
    disk = copy_image(image, where / "disk.img", DISK_BYTES)
    fat = Fat(disk, partitions(disk)[0])
    kernel_name, initrd_name = fat.boot_files()
    kernel = fat.fetch(kernel_name, where / "vmlinuz")
    initrd = fat.fetch(initrd_name, where / "initrd.img")
    fat.write("doorward.toml", provisioning_toml(DOOR), where)
    fat.write("authorized_keys", ssh_key.with_suffix(".pub").read_text(), where)
    ssh_port, https_port = free_port(), free_port()
    argv = virt_argv(
        kernel, initrd, virt_cmdline(fat.read("cmdline.txt")), disk, ssh_port, https_port
    )
    test_box = Virt(disk, fat, argv, where, Box(ssh_key, ssh_port, https_port))
    try:
        yield test_box
    finally:
        test_box.kill()


def running(virt: Virt) -> Qemu:
    assert virt.vm is not None, "the box is not running (an earlier test failed)"
    return virt.vm


def boot_report(virt: Virt, which: str) -> str:
    """systemd's account of a boot: the total and the chain up to the admin page."""
    analyze = virt.box.ssh("systemd-analyze; systemd-analyze critical-chain doorward-web.service")
    lines = [line for line in analyze.splitlines() if "@" in line or "Startup" in line]
    return f"virt {which} (systemd-analyze):\n  " + "\n  ".join(lines[:6])


def test_first_boot_provisions_and_serves_the_admin_page(
    virt: Virt, timings: dict[str, float], boot_notes: list[str]
) -> None:
    vm = virt.boot()
    live = virt.box.web().wait_live(vm, BOOT_TIMEOUT)
    timings["virt: first boot to live admin page"] = live
    virt.box.wait_ssh(vm, 60)
    virt.box.wait_unit("doorward.service", vm, BOOT_TIMEOUT)
    timings["virt: first boot to controller active (seen over SSH)"] = vm.elapsed()
    assert virt.box.unit_state("doorward-web.service") == "active"
    status = virt.box.status()
    assert status["door"] == DOOR and status["backend"] == "mock" and status["locked"] is True
    assert virt.box.ssh("hostname").strip() != "doorward"  # from the door's name
    # This box's own keys and identity, made at first boot.
    assert virt.box.ssh("ls /etc/ssh").count("ssh_host_") >= 4
    assert re.fullmatch(r"[0-9a-f]{32}\n", virt.box.ssh("cat /etc/machine-id"))
    # The technician's key is honoured, and no secret is left on the FAT partition.
    on_fat = virt.box.ssh("ls /boot/firmware").split()
    assert "authorized_keys" not in on_fat
    release = virt.box.ssh("cat /etc/doorward-release")
    assert "DOORWARD_COMMIT=" in release
    boot_notes.append(boot_report(virt, "first boot"))


def test_setup_code_works_once(virt: Virt) -> None:
    running(virt)
    code = virt.box.ssh("cat /boot/firmware/doorward-setup-code.txt")
    found = re.search(r"[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}", code)
    assert found, code
    first = virt.box.web()
    status, _, page = first.request("/setup")
    assert status == 200, page
    form = {
        "csrf_token": csrf_token(page),
        "code": found.group(0),
        "username": "technician",
        "password": PASSWORD,
        "confirm": PASSWORD,
    }
    status, url, page = first.request("/setup", form)
    assert status == 200 and not url.endswith("/setup"), page
    assert "technician" in page
    # A second use of the same code, from another browser: refused.
    second = virt.box.web()
    status, _, page = second.request("/setup")
    assert status == 403
    status, _, page = second.request("/setup", {**form, "username": "intruder"})
    assert status in (400, 403)
    status, _, page = second.request("/login")
    form = {"csrf_token": csrf_token(page), "username": "intruder", "password": PASSWORD}
    status, _, page = second.request("/login", form)
    assert status != 200 or "intruder" not in page


def test_a_card_swiped_through_the_cli_opens_the_mock_door(virt: Virt) -> None:
    running(virt)
    virt.box.doorward(
        "card add --format H10301 --facility 100 --number 4242"
        " --holder 'Officer Image Test' --serial IMG-1 --group responders"
    )
    virt.box.doorward("swipe --format H10301 --facility 100 --number 4242")
    events = [
        json.loads(line)
        for line in virt.box.doorward("events --json --serial IMG-1 --limit 10").splitlines()
    ]
    kinds = [e.get("kind") for e in events]
    assert "granted" in kinds, events
    door = [json.loads(line) for line in virt.box.doorward("events --json --limit 10").splitlines()]
    assert "unlocked" in [e.get("kind") for e in door], door


def test_the_data_partition_fills_the_card(virt: Virt) -> None:
    running(virt)
    df = virt.box.ssh("df -B1 --output=size /var/lib/doorward").split()
    assert int(df[-1]) > (DISK_BYTES // 2), df
    source = virt.box.ssh("findmnt -no SOURCE /var/lib/doorward").strip()
    assert source == "/dev/vda3"


def test_a_reboot_keeps_the_database(
    virt: Virt, timings: dict[str, float], boot_notes: list[str]
) -> None:
    running(virt)
    virt.power_off()
    vm = virt.boot()
    timings["virt: reboot to live admin page"] = virt.box.web().wait_live(vm, BOOT_TIMEOUT)
    virt.box.wait_ssh(vm, 60)
    virt.box.wait_unit("doorward.service", vm, BOOT_TIMEOUT)
    boot_notes.append(boot_report(virt, "reboot"))
    assert "IMG-1" in virt.box.doorward("card list")
    kinds = [
        json.loads(line).get("kind")
        for line in virt.box.doorward("events --json --serial IMG-1 --limit 10").splitlines()
    ]
    assert "granted" in kinds
    # The admin account made with the setup code is still there.
    web = virt.box.web()
    status, _, page = web.request("/login")
    form = {"csrf_token": csrf_token(page), "username": "technician", "password": PASSWORD}
    status, url, page = web.request("/login", form)
    assert status == 200 and not url.endswith("/login"), page


def test_a_broken_doorward_toml_is_reported_and_the_door_stays_locked(virt: Virt) -> None:
    running(virt)
    virt.power_off()
    broken = "[door]\nname = 'Broken'\nunlock_seconds = 'soon'\n[gpio\n"
    virt.fat.write("doorward.toml", broken, virt.console_dir)
    vm = virt.boot()
    virt.box.web().wait_live(vm, BOOT_TIMEOUT)
    virt.box.wait_ssh(vm, 60)
    error = virt.box.ssh("cat /boot/firmware/doorward-error.txt")
    assert "doorward.toml" in error, error
    assert virt.box.unit_state("doorward-provision.service") == "failed"
    # The admin page says so.
    _, _, page = virt.box.web().request("/login")
    assert "doorward.toml" in page, page
    # The door: the controller keeps the configuration it had, locked; nothing recorded is lost.
    if virt.box.unit_state("doorward.service") == "active":
        status_now = virt.box.status()
        assert status_now["locked"] is True and status_now["door"] == DOOR
    assert "IMG-1" in virt.box.doorward("card list")
