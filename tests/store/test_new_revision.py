"""Autogenerating a migration refuses when Base.metadata lacks tables the database has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_autogenerate_refuses_without_the_district_tables(tmp_path: Path) -> None:
    # A fresh interpreter: only the box's models are imported, as in a developer's shell.
    script = f"""
import sys
from sqlalchemy import create_engine
from appliance.store import Store
from appliance.store.schema import migrate
Store({str(tmp_path / "d.db")!r}).init("Front")
engine = create_engine("sqlite:///{tmp_path / "d.db"}")
with engine.connect() as conn:
    try:
        migrate.new_revision(conn, "nothing")
    except RuntimeError as err:
        print(err)
        sys.exit(3)
sys.exit(0)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 3, done.stderr
    assert "fleet_boxes" in done.stdout and "appliance.district.schema" in done.stdout
    assert "appliance.district" not in done.stderr
