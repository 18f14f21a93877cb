"""Fixtures for the ``doorward`` command tests: a box's config, a CLI runner, a store census."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ENV_VAR
from tests.cli.util import Cli, init_box


@pytest.fixture(autouse=True)
def _no_env_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """A DOORWARD_CONFIG in the developer's shell must not leak into what a test runs."""
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Runs ``doorward`` in-process and captures what it printed."""
    return Cli(capsys)


@pytest.fixture
def box(tmp_path: Path, cli: Cli) -> Path:
    """The config file of an initialised box (no controller running)."""
    return init_box(tmp_path, cli)
