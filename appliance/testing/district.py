"""District rows as the fleet agent would write them, for tests of the box's guard and pages.

Limits: the rows are written straight through the box's ``Store`` with ``source='district'``, as
the fleet's apply code would leave them; no signed list, broker or agent is involved.
"""

from __future__ import annotations

from appliance.store import Store


def add_district_card(
    store: Store,
    number: int,
    holder: str,
    *,
    serial: str | None = None,
    group: str = "responders",
    fmt: str = "H10301",
    facility: int | None = 12,
) -> int:
    """A credential with source='district' (the fleet's apply code stands behind it); its id."""
    return store.cards.add(
        fmt, facility, number, holder, serial=serial, group=group, actor="fleet", source="district"
    )
