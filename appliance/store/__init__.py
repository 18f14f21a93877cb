"""The card store: SQLite (WAL) through SQLAlchemy, schema versioned with Alembic.

The only code that writes SQL. Times in the database are UTC microseconds.
"""

from appliance.store.errors import DistrictOwned, ImportRejected, ModeChanged, StoreError
from appliance.store.rows import (
    UNSET,
    CredentialRow,
    EventRecord,
    EventRow,
    GroupRow,
    HolderRow,
    ScheduleWindow,
    Snapshot,
)
from appliance.store.store import Store
from appliance.store.tables.users import AdminUserRow

__all__ = [
    "UNSET",
    "AdminUserRow",
    "CredentialRow",
    "DistrictOwned",
    "EventRecord",
    "EventRow",
    "GroupRow",
    "HolderRow",
    "ImportRejected",
    "ModeChanged",
    "ScheduleWindow",
    "Snapshot",
    "Store",
    "StoreError",
]
