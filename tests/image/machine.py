"""The image under test: its partitions and files (sfdisk, mtools, debugfs; nothing mounted), and
the box booted from it in QEMU, reached over SSH and HTTPS through user-network port forwards."""

from __future__ import annotations

import contextlib
import http.cookiejar
import json
import os
import re
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "image-build" / "out"
CONFIG_ON_BOX = "/var/lib/doorward/doorward.toml"
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run(argv: Sequence[str | Path], timeout: float = 120, **kw: object) -> str:
    """Run a host command, return its stdout; a failure raises with its stderr."""
    done = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, timeout=timeout, check=False, **kw
    )  # type: ignore[call-overload]
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {done.returncode}: {done.stderr}")
    return str(done.stdout)


def image_path() -> Path:
    """The image `make image` built last (or $DOORWARD_IMAGE)."""
    given = os.environ.get("DOORWARD_IMAGE")
    path = Path(given) if given else OUT / "doorward.img"
    if not path.is_file():
        raise AssertionError(f"no image at {path}: run 'make image' first (make image-test does)")
    return path.resolve()


@dataclass(frozen=True)
class Partition:
    number: int
    start: int  # bytes
    size: int  # bytes
    type: str
    bootable: bool


def partitions(image: Path) -> list[Partition]:
    """The MBR partition table, from sfdisk --json."""
    table = json.loads(run(["sfdisk", "--json", image]))["partitiontable"]
    assert table["label"] == "dos", table
    sector = int(table.get("sectorsize", 512))
    return [
        Partition(
            number=i,
            start=int(p["start"]) * sector,
            size=int(p["size"]) * sector,
            type=str(p["type"]),
            bootable=bool(p.get("bootable", False)),
        )
        for i, p in enumerate(table["partitions"], start=1)
    ]


def extract(image: Path, part: Partition, dest: Path) -> Path:
    """Copy one partition out of the image into its own file (sparse)."""
    with image.open("rb") as src, dest.open("wb") as out:
        src.seek(part.start)
        left = part.size
        while left:
            chunk = src.read(min(left, 1 << 20))
            if chunk.count(0) == len(chunk):
                out.seek(len(chunk), os.SEEK_CUR)
            else:
                out.write(chunk)
            left -= len(chunk)
        out.truncate()
    return dest


class Fat:
    """The FAT boot partition of an image file, read and written with mtools at its offset."""

    def __init__(self, image: Path, part: Partition) -> None:
        self.spec = f"{image}@@{part.start}"

    def names(self) -> list[str]:
        out = run(["mdir", "-b", "-i", self.spec, "::/"], env=MTOOLS_ENV)
        return sorted(line.removeprefix("::/").strip() for line in out.splitlines() if line.strip())

    def read(self, name: str) -> str:
        return run(["mtype", "-i", self.spec, f"::/{name}"], env=MTOOLS_ENV)

    def fetch(self, name: str, dest: Path) -> Path:
        run(["mcopy", "-n", "-i", self.spec, f"::/{name}", dest], env=MTOOLS_ENV)
        return dest

    def write(self, name: str, text: str, scratch: Path) -> None:
        src = scratch / f"fat-{name}"
        src.write_text(text)
        run(["mcopy", "-o", "-i", self.spec, src, f"::/{name}"], env=MTOOLS_ENV)

    def boot_files(self) -> tuple[str, str]:
        """The kernel and initrd that config.txt names."""
        config = self.read("config.txt")
        kernel = re.search(r"^kernel=(\S+)", config, re.M)
        initrd = re.search(r"^initramfs (\S+)", config, re.M)
        assert kernel and initrd, config
        return kernel.group(1), initrd.group(1)


class Ext4:
    """An ext4 filesystem image, read with debugfs."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _debugfs(self, request: str) -> tuple[str, str]:
        done = subprocess.run(
            ["debugfs", "-R", request, str(self.path)], capture_output=True, text=True, check=True
        )
        return done.stdout, done.stderr

    def cat(self, name: str) -> str:
        out, err = self._debugfs(f"cat {name}")
        assert "File not found" not in err, f"{name} is not in {self.path.name}"
        return out

    def exists(self, name: str) -> bool:
        out, err = self._debugfs(f"stat {name}")
        return "File not found" not in err and "Inode:" in out

    def ls(self, name: str) -> list[str]:
        """The names in a directory (without . and ..)."""
        out, err = self._debugfs(f"ls -p {name}")
        assert "File not found" not in err, f"{name} is not in {self.path.name}"
        # -p: /inode/mode/uid/gid/name/size/
        names = [f.split("/")[5] for f in out.splitlines() if f.count("/") >= 6]
        return [n for n in names if n not in (".", "..")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def copy_image(image: Path, dest: Path, size: int | None = None) -> Path:
    """A writable copy of the image (sparse), optionally grown to ``size`` bytes (a bigger card)."""
    run(["cp", "--sparse=always", image, dest])
    if size is not None:
        assert size >= dest.stat().st_size
        os.truncate(dest, size)
    return dest


class Qemu:
    """One QEMU process whose serial console goes to a file; always killed on exit."""

    def __init__(self, argv: list[str], console: Path) -> None:
        self.console = console
        self.started = time.monotonic()
        console.write_bytes(b"")
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def console_text(self) -> str:
        """The console so far, without systemd's colours."""
        return ANSI.sub("", self.console.read_bytes().decode("utf-8", "replace"))

    def wait_console(self, pattern: str, timeout: float) -> str:
        """Wait until the console shows ``pattern`` (a regex); return the match."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while time.monotonic() < deadline:
            found = rx.search(self.console_text())
            if found:
                return found.group(0)
            self.check_running()
            time.sleep(1)
        raise AssertionError(f"no {pattern!r} on the console after {timeout:.0f} s:\n{self.tail()}")

    def check_running(self) -> None:
        if self.proc.poll() is not None:
            out = self.proc.stdout.read().decode() if self.proc.stdout else ""
            raise AssertionError(f"QEMU exited ({self.proc.returncode}): {out}\n{self.tail()}")

    def wait_exit(self, timeout: float) -> None:
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            message = f"QEMU still running after {timeout:.0f} s:\n{self.tail()}"
            raise AssertionError(message) from None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.console_text().splitlines()[-lines:])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)


@contextlib.contextmanager
def qemu(argv: list[str], console: Path) -> Iterator[Qemu]:
    vm = Qemu(argv, console)
    try:
        yield vm
    finally:
        vm.kill()


def virt_argv(
    kernel: Path, initrd: Path, cmdline: str, disk: Path, ssh_port: int, https_port: int
) -> list[str]:
    """qemu-system-aarch64 -M virt: the image's kernel and initrd, the image as a virtio disk."""
    forwards = f"hostfwd=tcp:127.0.0.1:{ssh_port}-:22,hostfwd=tcp:127.0.0.1:{https_port}-:443"
    return [
        "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72", "-smp", "2", "-m", "1024",
        "-display", "none", "-monitor", "none", "-no-user-config",
        "-kernel", str(kernel), "-initrd", str(initrd), "-append", cmdline,
        "-drive", f"file={disk},format=raw,if=none,id=hd0,cache=unsafe",
        "-device", "virtio-blk-device,drive=hd0",
        "-netdev", f"user,id=net0,{forwards}", "-device", "virtio-net-device,netdev=net0",
        "-device", "virtio-rng-device",
    ]  # fmt: skip


def virt_cmdline(pi_cmdline: str) -> str:
    """The image's cmdline.txt with QEMU virt's serial console instead of the Pi's."""
    words = [w for w in pi_cmdline.split() if not w.startswith("console=")]
    return " ".join(["console=ttyAMA0", *words])


class Box:
    """The booted box, from the host: SSH as root with the test's key, HTTPS to the admin page."""

    def __init__(self, key: Path, ssh_port: int, https_port: int) -> None:
        self.key = key
        self.ssh_port = ssh_port
        self.base = f"https://127.0.0.1:{https_port}"

    def ssh(self, command: str, timeout: float = 120, check: bool = True) -> str:
        argv = [
            "ssh", "-i", str(self.key), "-p", str(self.ssh_port),
            "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ConnectTimeout=10", "root@127.0.0.1", command,
        ]  # fmt: skip
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"ssh {command!r} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
            )
        return done.stdout

    def wait_ssh(self, vm: Qemu, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            vm.check_running()
            with contextlib.suppress(subprocess.TimeoutExpired):
                if "ready" in self.ssh("echo ready", timeout=20, check=False):
                    return
            time.sleep(2)
        raise AssertionError(f"no SSH after {timeout:.0f} s:\n{vm.tail()}")

    def unit_state(self, unit: str) -> str:
        return self.ssh(f"systemctl is-active {unit}", check=False).strip()

    def wait_unit(self, unit: str, vm: Qemu, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.unit_state(unit)
            if state == "active":
                return
            vm.check_running()
            time.sleep(2)
        status = self.ssh(f"systemctl status --no-pager -n 30 {unit}", check=False)
        raise AssertionError(f"{unit} is {state!r} after {timeout:.0f} s:\n{status}")

    def doorward(self, args: str, check: bool = True) -> str:
        return self.ssh(f"doorward --config {CONFIG_ON_BOX} {args}", check=check)

    def status(self) -> dict[str, object]:
        """``status --json`` of a running controller (exit 0, or 1 with an alarm up; 3: none)."""
        out = self.doorward("status --json; echo status-exit=$?")
        body, _, code = out.rpartition("status-exit=")
        assert code.strip() in ("0", "1"), f"doorward status exited {code.strip()}:\n{body}"
        result = json.loads(body)
        assert isinstance(result, dict)
        return result

    def web(self) -> Web:
        return Web(self.base)


class Web:
    """One browser session with the admin page (its own cookies; the box's self-signed cert)."""

    def __init__(self, base: str) -> None:
        self.base = base
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
        )

    def request(
        self, path: str, form: dict[str, str] | None = None, timeout: float = 30
    ) -> tuple[int, str, str]:
        """(status, final URL, body); redirects are followed."""
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        # A form is posted from its own page (Flask-WTF checks the Referer over HTTPS).
        headers = {"Referer": self.base + path} if data is not None else {}
        req = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(req, timeout=timeout) as resp:
                return int(resp.status), str(resp.url), resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), str(exc.url), exc.read().decode("utf-8", "replace")

    def wait_live(self, vm: Qemu, timeout: float) -> float:
        """Wait until the admin page answers; return the seconds since QEMU started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            vm.check_running()
            with contextlib.suppress(OSError, ssl.SSLError):
                status, _, _ = self.request("/", timeout=5)
                if status < 500:
                    return vm.elapsed()
            time.sleep(0.5)
        raise AssertionError(f"no admin page after {timeout:.0f} s:\n{vm.tail()}")
