"""District-owned rows: credentials from the district list, and the holders and groups they use.

The fleet agent keeps these in step with the district console; a change made on the box would
be silently undone (or, worse, half kept) at the next list. So every local write path refuses them
with DistrictOwned; the fleet agent's own apply code says ``as_district=True``.

A holder or group is the district's while any district credential references it: the schema has
no owner column for them, and this rule needs none.
"""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from appliance.store.errors import DistrictOwned
from appliance.store.schema.box import Credential

DISTRICT = "district"
CONSOLE = "change it at the district console, not on this box"


def refuse(what: str) -> DistrictOwned:
    """The error for a local change to ``what``, which comes from the district list."""
    return DistrictOwned(f"{what} comes from the district list: {CONSOLE}")


def conflict(on_record: str) -> DistrictOwned:
    """The error for a new local credential that clashes with a district one."""
    return DistrictOwned(f"{on_record}, from the district list: {CONSOLE}")


def check_credential(cred: Credential, what: str, *, as_district: bool = False) -> None:
    """Refuse a local change to a district credential (``what`` names it for people)."""
    if cred.source == DISTRICT and not as_district:
        raise refuse(what)


def holder_is_district(s: Session, holder_id: int) -> bool:
    """True if any district credential is issued to this holder."""
    used = (Credential.holder_id == holder_id) & (Credential.source == DISTRICT)
    return bool(s.scalar(select(exists().where(used))))


def group_is_district(s: Session, group_id: int) -> bool:
    """True if any district credential is in this group."""
    used = (Credential.group_id == group_id) & (Credential.source == DISTRICT)
    return bool(s.scalar(select(exists().where(used))))
