"""``make bench``: every benchmark, printed as one table and written to bench/RESULTS.md."""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from appliance import __version__

RESULTS = Path(__file__).parent / "RESULTS.md"
NOTES = (Path(__file__).parent / "NOTES.md").read_text


def _f(value: Any, digits: int = 2) -> str:
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def decision_rows() -> list[str]:
    from bench import decision

    rows = [
        "| credentials | view load (s) | decide p50 (µs) | decide p99 (µs) "
        "| controller RSS (MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in decision.run():
        rows.append(
            f"| {r['cards']:,} | {_f(r['load_s'])} | {_f(r['p50_us'])} | {_f(r['p99_us'])} "
            f"| {_f(r['rss_mib'], 0)} |"
        )
    return rows


def latency_rows() -> list[str]:
    from bench import latency

    rows = [
        "| reader | frame_bits | edge→relay p50 (ms) | p99 (ms) | during 100k import p50 (ms) "
        "| p99 (ms) | reads during import | edge→credential p50 (ms) | p99 (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in latency.run():
        if "split" in r:
            rows.append(
                f"| {_f(r['interval_ms'], 0)} ms | – | {_f(r['p50_ms'])} | {_f(r['p99_ms'])} "
                f"| – | – | {r['reads']} whole, {r['split']} split | – | – |"
            )
            continue
        rows.append(
            f"| {_f(r['interval_ms'], 0)} ms | {r['frame_bits'] or 'adaptive gap'} "
            f"| {_f(r['p50_ms'])} | {_f(r['p99_ms'])} | {_f(r['import_p50_ms'])} "
            f"| {_f(r['import_p99_ms'])} | {r['import_reads']} | {_f(r['frame_p50_ms'])} "
            f"| {_f(r['frame_p99_ms'])} |"
        )
    return rows


def revoke_rows() -> list[str]:
    from bench import revoke

    r = revoke.run()
    return [
        "| revocation (`doorward card lost`) | committed → next read denied p50 (ms) | p99 (ms) "
        "| CLI command p50 (s) |",
        "|---|---:|---:|---:|",
        f"| {r['rounds']} rounds | {_f(r['p50_ms'])} | {_f(r['p99_ms'])} | {_f(r['cli_p50_s'])} |",
    ]


def pages_rows() -> list[str]:
    from bench import pages

    rows = [
        "| page (100,000 credentials, 1,000,000 events) | p50 (ms) | p95 (ms) |",
        "|---|---:|---:|",
    ]
    for name, r in pages.run().items():
        rows.append(f"| {name} | {_f(r['p50_ms'])} | {_f(r['p95_ms'])} |")
    d = pages.door_beside_busy_pages()
    rows += [
        "",
        "| door: edge→relay, 1 ms reader, frame_bits 26 | p50 (ms) | p99 (ms) |",
        "|---|---:|---:|",
        f"| quiet | {_f(d['quiet_p50_ms'])} | {_f(d['quiet_p99_ms'])} |",
        f"| another process requesting pages nonstop | {_f(d['busy_p50_ms'])} "
        f"| {_f(d['busy_p99_ms'])} |",
    ]
    return rows


def fleet_rows() -> list[str]:
    from bench import fleet

    r = fleet.run()
    rev, home = r["revocation"], r["events"]
    late_ms = fleet.POLL_S * 1000
    rows = [
        f"{rev['boxes']} boxes (each a `doorward run` on the mock back-end and a "
        f"`doorward fleet-agent`; {_f(r['rss_mib'], 0)} MiB resident per process on average), "
        "one mosquitto, the console in the bench process.",
        "",
        "| revocation at the console → first swipe denied at each box | samples | p50 (s) "
        "| p99 (s) | max (s) |",
        "|---|---:|---:|---:|---:|",
        f"| committed → applied by the box's agent | {rev['samples']} "
        f"| {_f(rev['applied_p50_s'])} | {_f(rev['applied_p99_s'])} | – |",
        f"| committed → view has it + a 13 ms frame, then denied (≤{late_ms:.0f} ms late) "
        f"| {rev['samples']} | {_f(rev['p50_s'])} | {_f(rev['p99_s'])} | {_f(rev['max_s'])} |",
        f"| committed → that swipe's denial, by its audit stamp "
        f"| {rev['samples']} | {_f(rev['stamped_p50_s'])} | {_f(rev['stamped_p99_s'])} "
        f"| {_f(rev['stamped_max_s'])} |",
        f"\n{rev['granted_after_view']} swipes granted after the view had the revocation.",
        "",
        "| events home (`fleet serve`, stored once each) | events | boxes | seconds | events/s |",
        "|---|---:|---:|---:|---:|",
        f"| written into the boxes' audit logs at once | {home['events']:,} | {home['boxes']} "
        f"| {_f(home['seconds'])} | {home['per_s']:,.0f} |",
        "",
        "| catch-up: a box offline during the changes | changes | snapshot every | seconds |",
        "|---|---:|---:|---:|",
    ]
    for c in r["catch_up"]:
        every = f"{c['snapshot_every']:,}" if c["snapshot_every"] <= c["changes"] else "none"
        rows.append(
            f"| agent started → district version applied | {c['changes']:,} | {every} "
            f"| {_f(c['seconds'])} |"
        )
    return rows


SECTIONS: dict[str, tuple[str, Callable[[], list[str]]]] = {
    "decision": ("Decision time and memory", decision_rows),
    "latency": (
        "Last Wiegand edge → strike relay (pigpiod emulator, real pigpio client)",
        latency_rows,
    ),
    "revoke": ("Revocation → denial", revoke_rows),
    "pages": ("Admin page times, and the door beside a busy page", pages_rows),
    "fleet": ("The district fleet: revocation, events home, catch-up", fleet_rows),
}


def merge_results(existing: str, header: list[str], blocks: dict[str, list[str]]) -> str:
    """RESULTS.md with ``blocks`` (by section title) replaced or added, the rest kept.

    A section run alone (e.g. ``make bench-fleet``) keeps the file current without re-running the
    rest; each block carries the date it was measured.
    """
    kept: dict[str, list[str]] = {}
    title: str | None = None
    for line in existing.splitlines():
        if line.startswith("## "):
            title = line[3:]
            kept[title] = []
        elif title is not None:
            kept[title].append(line)
    kept.pop("Notes", None)  # NOTES.md is appended fresh
    order = [t for t, _ in SECTIONS.values()]
    merged = {**kept, **blocks}
    titles = [t for t in order if t in merged] + [t for t in merged if t not in order]
    out = list(header)
    for t in titles:
        body = merged[t]
        while body and not body[-1].strip():
            body = body[:-1]
        out += ["", f"## {t}", *body]
    return "\n".join(out) + "\n\n" + NOTES()


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("sections", nargs="*", choices=[*SECTIONS, []], help="default: all")
    args = parser.parse_args()
    chosen = args.sections or list(SECTIONS)
    header = [
        "# Benchmark results",
        "",
        f"doorward {__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores ({platform.machine()}). Made by `make bench` "
        "(or one section of it: each section says when it was measured).",
    ]
    blocks: dict[str, list[str]] = {}
    for name in chosen:
        title, fn = SECTIONS[name]
        started = time.monotonic()
        rows = fn()
        took = f"({time.monotonic() - started:.0f} s, measured {time.strftime('%Y-%m-%d %H:%M')})"
        blocks[title] = ["", *rows, "", took]
        print("\n".join(["", f"## {title}", "", *rows]), flush=True)
    existing = RESULTS.read_text() if RESULTS.exists() and set(chosen) != set(SECTIONS) else ""
    RESULTS.write_text(merge_results(existing, header, blocks))
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
