"""What the benchmarks share: boxes on disk, a controller process on the emulator, percentiles."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from appliance.controller.stats import percentile
from appliance.store import Store
from appliance.testing.box import start_controller_process, write_config
from appliance.testing.pigpiod import PigpiodEmulator

CACHE = Path(__file__).parent / ".cache"


def pct(values: list[float], q: float) -> float:
    """The q-th percentile, NaN for no values."""
    result = percentile(values, q)
    return float("nan") if result is None else result


def rss_mib(pid: int | str = "self") -> float:
    """Resident memory of a process in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cards_csv(count: int, facility: int = 1, start: int = 0, group: str = "staff") -> str:
    """A CSV of ``count`` distinct H10301/C1K48S credentials (C1K48S once H10301 runs out)."""
    lines = ["format,facility,number,holder,serial,group"]
    for i in range(start, start + count):
        if i < 65536:
            lines.append(f"H10301,{facility},{i},Holder {i},S{i},{group}")
        else:
            lines.append(f"C1K48S,{i >> 23},{i & 0x7FFFFF},Holder {i},S{i},{group}")
    return "\n".join(lines) + "\n"


def box(
    path: Path,
    *,
    reader_extra: str = "",
    unlock: float = 0.001,
    responders: Iterable[tuple[int, int, str | None]] = ((1, 1, None),),
) -> Path:
    """A fresh box on the pigpio back-end with responders (facility, number, serial); its config."""
    path.mkdir(parents=True, exist_ok=True)
    config = write_config(path, backend="pigpio", reader_extra=reader_extra, unlock=unlock)
    with Store.for_data_dir(path / "data") as store:
        store.init("Front entrance")
        for facility, number, serial in responders:
            store.cards.add(
                "H10301",
                facility,
                number,
                f"Officer {number}",
                serial=serial,
                group="responders",
                actor="bench",
            )
    return config


@contextmanager
def controller_process(config: Path, emu: PigpiodEmulator) -> Iterator[subprocess.Popen[str]]:
    """``doorward run`` as its own process against the emulator, until the block ends."""
    proc = start_controller_process(config, emu)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(30)


def doorward(config: Path, *args: str) -> subprocess.Popen[str]:
    """Start a ``doorward`` CLI command as another process."""
    return subprocess.Popen(
        [sys.executable, "-m", "appliance.cli", "--config", str(config), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
