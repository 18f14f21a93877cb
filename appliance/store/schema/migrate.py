"""Run Alembic from code: the box has no alembic.ini, the scripts ship inside the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_VERSIONS = "alembic_version"


def _config(conn: Connection | None = None) -> Config:
    cfg = Config()
    # ConfigParser interpolation would choke on a '%' in the install path.
    cfg.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    if conn is not None:
        cfg.attributes["connection"] = conn
    return cfg


def head_revisions() -> set[str]:
    """The revisions the shipped migrations lead to."""
    return set(ScriptDirectory.from_config(_config()).get_heads())


def current_revisions(conn: Connection) -> set[str]:
    """The revisions the database is stamped with (empty for a new file)."""
    return set(MigrationContext.configure(conn).get_current_heads())


def upgrade(conn: Connection) -> None:
    """Upgrade the schema to head inside the caller's transaction on ``conn``."""
    command.upgrade(_config(conn), "head")


def new_revision(conn: Connection, message: str) -> None:
    """For developers: autogenerate a revision against a database at head (needs script.py.mako).

    Autogenerate compares the database with ``Base.metadata``, which holds only the models that
    have been imported: the box's store never imports the district's tables (``appliance.district
    .schema``), so import them first, or this refuses rather than write a migration dropping them.
    """
    from sqlalchemy import inspect

    from appliance.store.schema.box import Base

    missing = sorted(set(inspect(conn).get_table_names()) - set(Base.metadata.tables) - {_VERSIONS})
    if missing:
        raise RuntimeError(
            f"tables in the database but not in Base.metadata: {', '.join(missing)}: import their "
            "models (e.g. appliance.district.schema) before autogenerating, or the new revision "
            "would drop them"
        )
    command.revision(_config(conn), message=message, autogenerate=True)
