"""The built image, checked without booting it: partition table, filesystems, boot files, the gpio=
lines for power-on, the release file, and that nothing per-box or secret is baked in."""

from __future__ import annotations

import itertools
import re
import subprocess
import tomllib
from pathlib import Path

from tests.image.machine import REPO, Ext4, Fat, Partition, run

MIB = 1 << 20


def blkid(path: Path) -> dict[str, str]:
    out = run(["blkid", "-p", "-o", "export", path])
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def gpio_block(config_txt: str) -> list[str]:
    block = r"^# doorward: begin gpio\n(.*?)^# doorward: end gpio$"
    found = re.search(block, config_txt, re.M | re.S)
    assert found, f"no doorward gpio block in:\n{config_txt}"
    return found.group(1).splitlines()


def test_three_partitions_boot_root_data(image: Path, layout: list[Partition]) -> None:
    assert [p.type for p in layout] == ["c", "83", "83"]
    assert [p.bootable for p in layout] == [True, False, False]
    assert layout[0].start == 4 * MIB
    for part, following in itertools.pairwise(layout):
        assert part.start % (4 * MIB) == 0 and part.start + part.size == following.start
    assert layout[-1].start + layout[-1].size == image.stat().st_size
    assert layout[0].size >= 200 * MIB


def test_filesystems_are_clean_and_labelled(parts: Path) -> None:
    run(["fsck.vfat", "-n", parts / "p1.img"])
    for n in (2, 3):
        run(["e2fsck", "-fn", parts / f"p{n}.img"])
    labels = {n: blkid(parts / f"p{n}.img") for n in (1, 2, 3)}
    assert (labels[1]["TYPE"], labels[1]["LABEL"]) == ("vfat", "RASPIFIRM")
    assert (labels[2]["TYPE"], labels[2]["LABEL"]) == ("ext4", "RASPIROOT")
    assert (labels[3]["TYPE"], labels[3]["LABEL"]) == ("ext4", "DWDATA")


def test_boot_partition_has_the_pi_firmware_kernel_and_device_trees(boot: Fat) -> None:
    names = set(boot.names())
    kernel, initrd = boot.boot_files()
    for wanted in (
        "bootcode.bin", "start.elf", "fixup.dat", "start4.elf", "fixup4.dat",
        "bcm2837-rpi-3-b.dtb", "bcm2837-rpi-3-b-plus.dtb", "bcm2711-rpi-4-b.dtb",
        "bcm2711-rpi-cm4-io.dtb", "config.txt", "cmdline.txt", kernel, initrd,
    ):  # fmt: skip
        assert wanted in names, f"{wanted} missing from the boot partition: {sorted(names)}"
    config = boot.read("config.txt")
    assert re.search(r"^arm_64bit=1$", config, re.M)
    assert re.search(r"^enable_uart=1$", config, re.M)


def test_cmdline_finds_the_root_by_label(boot: Fat) -> None:
    cmdline = boot.read("cmdline.txt").split()
    assert "root=LABEL=RASPIROOT" in cmdline
    assert "rootwait" in cmdline and "fsck.repair=yes" in cmdline
    assert cmdline[-1] != "" and "console=ttyS1,115200" in cmdline


def test_gpio_lines_hold_the_pin_map_at_power_on(boot: Fat, root_fs: Ext4) -> None:
    wiring = REPO / "wiring" / "doorward.toml"
    expected = run([REPO / ".venv" / "bin" / "doorward", "--config", wiring, "firmware-gpio"])
    lines = gpio_block(boot.read("config.txt"))
    assert lines == expected.splitlines()
    # The kernel package's hook rewrites config.txt with raspi-firmware-custom: the block survives.
    assert gpio_block(root_fs.cat("/etc/default/raspi-firmware-custom")) == lines
    # The strike's pin is an output held at its locked level (relay de-energised for a fail-secure
    # strike, energised for a fail-safe maglock).
    config = tomllib.loads(wiring.read_text())
    strike = config["strike"]
    energised_when_locked = config["door"].get("lock_type", "fail_secure") == "fail_safe"
    active_low = bool(strike.get("active_low", False))
    high_when_locked = (not active_low) if energised_when_locked else active_low
    assert f"gpio={strike['pin']}=op,{'dh' if high_when_locked else 'dl'}" in lines


def test_release_file_names_version_and_commit(image: Path, root_fs: Ext4) -> None:
    release = dict(
        line.split("=", 1) for line in root_fs.cat("/etc/doorward-release").splitlines() if line
    )
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert release["DOORWARD_VERSION"] == version
    name = rf"doorward-{re.escape(version)}-([0-9a-f]{{12}})(-dirty)?\.img"
    found = re.fullmatch(name, image.name)
    assert found, image.name
    assert release["DOORWARD_COMMIT"].startswith(found.group(1))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", release["DOORWARD_BUILD_DATE"])
    assert release["DEBIAN_RELEASE"] == "bookworm"


def test_no_per_box_secret_is_baked_in(boot: Fat, root_fs: Ext4, data_fs: Ext4) -> None:
    assert not [n for n in root_fs.ls("/etc/ssh") if n.startswith("ssh_host_")]
    assert root_fs.cat("/etc/machine-id") == ""
    assert not root_fs.exists("/var/lib/systemd/random-seed")
    assert not root_fs.exists("/root/.ssh/authorized_keys")
    for line in root_fs.cat("/etc/shadow").splitlines():
        user, password = line.split(":")[:2]
        assert not password.startswith("$"), f"{user} has a password in the image"
    assert set(data_fs.ls("/")) <= {"lost+found"}
    names = {n.lower() for n in boot.names()}
    assert not names & {"doorward.toml", "authorized_keys", "doorward-setup-code.txt"}
    sshd = root_fs.cat("/etc/ssh/sshd_config") + "".join(
        root_fs.cat(f"/etc/ssh/sshd_config.d/{n}")
        for n in root_fs.ls("/etc/ssh/sshd_config.d")
        if n.endswith(".conf")
    )
    assert re.search(r"^PasswordAuthentication no", sshd, re.M | re.I)


def test_first_boot_units_make_keys_and_grow_the_data_partition(root_fs: Ext4) -> None:
    assert "doorward-ssh-keygen.service" in root_fs.ls("/etc/systemd/system/ssh.service.wants")
    wants = root_fs.ls("/etc/systemd/system/var-lib-doorward.mount.wants")
    assert "doorward-grow-data.service" in wants
    fstab = root_fs.cat("/etc/fstab")
    assert re.search(r"^LABEL=RASPIFIRM\s+/boot/firmware\s+vfat", fstab, re.M)
    data = r"^LABEL=DWDATA\s+/var/lib/doorward\s+ext4\s+\S*x-systemd\.growfs"
    assert re.search(data, fstab, re.M)


def test_overlay_units_are_enabled(root_fs: Ext4) -> None:
    overlay = REPO / "image-build" / "overlay" / "etc" / "systemd" / "system"
    enabled = {
        name
        for wants in root_fs.ls("/etc/systemd/system")
        if wants.endswith((".wants", ".requires"))
        for name in root_fs.ls(f"/etc/systemd/system/{wants}")
    }
    units = [u for u in sorted(overlay.glob("*.service")) if "WantedBy=" in u.read_text()]
    assert {u.name for u in units} >= {"doorward.service", "doorward-web.service"}
    for unit in units:
        assert unit.name in enabled
        assert root_fs.cat(f"/etc/systemd/system/{unit.name}") == unit.read_text()


def test_doorward_user_has_only_the_gpio_group(root_fs: Ext4) -> None:
    passwd = {
        f[0]: f for f in (line.split(":") for line in root_fs.cat("/etc/passwd").splitlines())
    }
    groups = {f[0]: f for f in (line.split(":") for line in root_fs.cat("/etc/group").splitlines())}
    user = passwd["doorward"]
    assert int(user[2]) < 1000 and user[6] == "/usr/sbin/nologin"
    member_of = {name for name, g in groups.items() if "doorward" in g[3].split(",")}
    assert member_of == {"gpio"}


def test_lean_and_installed(root_fs: Ext4) -> None:
    assert root_fs.exists("/opt/doorward/bin/doorward")
    site = "/opt/doorward/lib/python3.11/site-packages"
    installed = root_fs.ls(site)
    for package in ("appliance", "webui", "lgpio.py", "gpiod", "gpiozero", "sqlalchemy"):
        assert package in installed, f"{package} not in {site}"
    assert not [n for n in installed if n.startswith("pip")]
    for tool in ("gcc", "cc", "make", "g++"):
        assert not root_fs.exists(f"/usr/bin/{tool}")
    assert not root_fs.exists("/usr/share/man/man1")
    docs = root_fs.ls("/usr/share/doc/systemd")
    assert docs == ["copyright"]
    assert root_fs.exists("/usr/lib/firmware/regulatory.db") or root_fs.exists(
        "/lib/firmware/regulatory.db"
    )


def test_initramfs_checks_the_root_and_finds_it_on_a_pi_or_virtio(
    boot: Fat, tmp_path: Path
) -> None:
    """Built once, last, knowing the root is ext4: it carries e2fsck (fsck.repair=yes works) and
    the drivers for the Pi's SD/eMMC controllers and QEMU's virtio disk."""
    _, initrd = boot.boot_files()
    packed = boot.fetch(initrd, tmp_path / "initrd")
    unpacked = subprocess.run(
        f"zstd -dc {packed} | cpio -t --quiet", shell=True, capture_output=True, check=True
    ).stdout.decode()
    names = {Path(n).name for n in unpacked.splitlines()}
    for wanted in (
        "fsck.ext4", "e2fsck", "doorward-root", "ext4.ko",
        "sdhci-iproc.ko", "bcm2835.ko", "virtio_blk.ko",
    ):  # fmt: skip
        assert wanted in names, f"{wanted} is not in the initramfs"
