"""Accountability: migration 0002 on a 0001 box, and the review form's CSRF token.

Every events/accountability route by role is in tests/webui/test_access.py.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.config import Config, load_config
from appliance.store import Store
from appliance.testing.box import write_config
from tests.webui.conftest import PASSWORD, StepClock, add_user, csrf_token, make_app
from tests.webui.test_accountability import AccStore, api


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return load_config(write_config(tmp_path)).model_copy(update={"timezone": "America/Denver"})


# -- migration 0002 ---------------------------------------------------------------------------


def _at_0001(path: Path) -> None:
    """A database as the previous release left it: schema 0001, with a responder entry."""
    from alembic import command

    from appliance.store.db import Database
    from appliance.store.schema import migrate

    db = Database(path)
    try:
        with db.migrating("building a 0001 database") as s:
            command.upgrade(migrate._config(s.connection()), "0001")
    finally:
        db.close()
    with sqlite3.connect(path) as raw:
        raw.execute(
            "INSERT INTO events (ts_us, kind, credential, holder, detail) VALUES "
            "(1, 'granted', 'H10301:100:4242', 'Deputy Ruiz', '{\"responder\": true}')"
        )


def test_doorward_init_upgrades_0001_to_head(tmp_path: Path) -> None:
    from appliance.cli import main

    config_path = write_config(tmp_path)
    cfg = load_config(config_path)
    cfg.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    _at_0001(cfg.db_path)
    with sqlite3.connect(cfg.db_path) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    with AccStore(cfg.db_path) as before:
        assert not before.schema_is_current()
    assert main(["--config", str(config_path), "init"]) == 0
    with sqlite3.connect(cfg.db_path) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("0005",)]
        names = {r[0] for r in raw.execute("SELECT name FROM sqlite_master")}
    assert {"reviews", "ix_events_credential", "ix_events_holder", "ix_events_responder"} <= names
    with AccStore(cfg.db_path) as upgraded:
        after = api(upgraded)
        assert upgraded.schema_is_current()
        entries = after.reviews.responder_entries()
        assert [e.holder for e in entries] == ["Deputy Ruiz"]  # the old log is kept
        after.reviews.review(entries[0].event_id, incident="42", note=None, actor="web:admin")
        reviewed = after.reviews.responder_entry(entries[0].event_id)
        assert reviewed is not None and reviewed.reviewer == "web:admin"


@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_models_match_the_migrations(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    from appliance.store.schema.box import Base

    engine = create_engine(f"sqlite:///{store.path}")
    try:
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


# -- every route of both blueprints, every role (the rows proposed for test_access.py) --------


RESPONDER_EVENT = 900000
REVIEW = f"/accountability/{RESPONDER_EVENT}/review"


def test_review_form_needs_its_csrf_token(config: Config, store: Store, clock: StepClock) -> None:
    app = make_app(config, store, clock, WTF_CSRF_ENABLED=True)
    add_user(app, "admin", "admin", first=True)
    with sqlite3.connect(store.path) as raw:
        raw.execute(
            "INSERT INTO events (id, ts_us, kind, detail) VALUES "
            f"({RESPONDER_EVENT}, 1, 'granted', '{{\"responder\": true}}')"
        )
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    data = {"username": "admin", "password": PASSWORD, "csrf_token": csrf_token(page)}
    assert client.post("/login", data=data).status_code == 302
    refused = client.post(REVIEW, data={"incident": "7"})
    assert refused.status_code == 400 and "form expired" in refused.get_data(as_text=True)
    entry = api(store).reviews.responder_entry(RESPONDER_EVENT)
    assert entry is not None and entry.reviewer is None
    token = csrf_token(client.get(REVIEW).get_data(as_text=True))
    assert client.post(REVIEW, data={"incident": "7", "csrf_token": token}).status_code == 302
    entry = api(store).reviews.responder_entry(RESPONDER_EVENT)
    assert entry is not None and entry.reviewer == "web:admin"
