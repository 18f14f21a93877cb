"""The Pi boot path: QEMU's Raspberry Pi 3B with the image's own kernel, initrd, device tree and
cmdline.txt, the image as its SD card, the serial console on the mini UART (ttyS1), up to the
controller unit. (No emulator runs the GPU's boot stage that reads config.txt; the offline tests
check that.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.image.conftest import provisioning_toml
from tests.image.machine import Fat, copy_image, partitions, qemu

TIMEOUT = 600.0


def sd_card_size(image: Path) -> int:
    """QEMU's SD card is a power of two bytes."""
    size = 1 << 30
    while size < image.stat().st_size:
        size <<= 1
    return size


def test_raspi3b_boots_the_image_up_to_the_controller(
    image: Path, tmp_path: Path, timings: dict[str, float]
) -> None:
    sd = copy_image(image, tmp_path / "sd.img", sd_card_size(image))
    fat = Fat(sd, partitions(sd)[0])
    fat.write("doorward.toml", provisioning_toml("Pi Boot Path"), tmp_path)
    kernel_name, initrd_name = fat.boot_files()
    files = {
        name: fat.fetch(name, tmp_path / name)
        for name in (kernel_name, initrd_name, "bcm2837-rpi-3-b.dtb")
    }
    cmdline = fat.read("cmdline.txt").strip()
    assert "console=ttyS1,115200" in cmdline.split()
    # systemd stops printing unit status on the console once a getty runs there; the journal,
    # forwarded to the console, still says when the controller is ready.
    cmdline += " systemd.journald.forward_to_console=1"
    argv = [
        "qemu-system-aarch64", "-M", "raspi3b", "-m", "1G",
        "-kernel", str(files[kernel_name]), "-initrd", str(files[initrd_name]),
        "-dtb", str(files["bcm2837-rpi-3-b.dtb"]), "-append", cmdline,
        "-drive", f"file={sd},if=sd,format=raw,cache=unsafe",
        "-display", "none", "-monitor", "none", "-no-user-config",
        "-serial", "null", "-serial", f"file:{tmp_path / 'console.log'}",
    ]  # fmt: skip
    with qemu(argv, tmp_path / "console.log") as vm:
        vm.wait_console(r"Linux version 6\.1\.\S+", 120)
        vm.wait_console(r"EXT4-fs \(mmcblk0p2\): mounted filesystem", TIMEOUT)
        timings["raspi3b: root filesystem from the SD card"] = vm.elapsed()
        vm.wait_console(r"systemd\[1\]: Started doorward\.service", TIMEOUT)
        timings["raspi3b: boot to the controller unit started"] = vm.elapsed()
        # Provisioning reports on the console, before the controller starts.
        console = vm.console_text()
        provisioned = console.find("doorward provision: ")
        if not 0 <= provisioned < console.find("]: Started doorward.service"):
            pytest.fail(f"no report from doorward provision before the controller:\n{console}")
