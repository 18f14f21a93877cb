"""The clock counts as synchronised only once timesyncd says so, where timesyncd is used."""

from __future__ import annotations

from pathlib import Path

from appliance.hw.clock import clock_synchronised


def test_clock_synchronised(tmp_path: Path) -> None:
    run = tmp_path / "timesync"
    booted, enabled = tmp_path / "systemd-system", tmp_path / "timesyncd.service"
    expected = [booted, enabled]
    assert clock_synchronised(run, expected)  # no timesyncd here: the host keeps time
    enabled.touch()
    assert clock_synchronised(run, expected)  # installed, but systemd does not run this machine
    booted.mkdir()
    assert not clock_synchronised(run, expected)  # early boot: timesyncd not started yet
    run.mkdir()
    assert not clock_synchronised(run, expected)  # running, not synchronised yet
    (run / "synchronized").touch()
    assert clock_synchronised(run, expected)
    assert clock_synchronised(run, [])
    (run / "synchronized").unlink()
    assert not clock_synchronised(run, [])  # timesyncd runs: its word counts
