"""District cards, and the holders and groups they use, are changed at the district console only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from appliance.store import UNSET, DistrictOwned, ImportRejected, Store, StoreError
from appliance.store.tables import cards, groups, holders
from appliance.testing.district import add_district_card

CONSOLE = "comes from the district list: change it at the district console, not on this box"
CLASH = "from the district list: change it at the district console, not on this box"
CARD = ("H10301", 12, 7001)


@pytest.fixture
def district(store: Store) -> Store:
    store.groups.add("district-maint", doors=None, actor="fleet")
    add_district_card(store, 7001, "Ofc. Diaz", serial="PD-1")
    add_district_card(store, 7002, "Sam Fixit", serial="DM-1", group="district-maint")
    store.cards.add("H10301", 12, 100, "Ann Lee", serial="L-1", actor="office")
    return store


def _unchanged(store: Store) -> Callable[[], None]:
    before = (store.current_rev(), store.cards.list(), store.holders.list())
    events = store.events.query(limit=1000)

    def check() -> None:
        assert (store.current_rev(), store.cards.list(), store.holders.list()) == before
        assert store.events.query(limit=1000) == events

    return check


REFUSED: list[tuple[str, Callable[[Store], Any], str]] = [
    (
        "lost by serial",
        lambda s: s.cards.set_status(serial="PD-1", status="lost", reason="r", actor="a"),
        "credential H10301:12:7001 (serial 'PD-1') " + CONSOLE,
    ),
    (
        "revoked by card",
        lambda s: s.cards.set_status(credential=CARD, status="revoked", reason="r", actor="a"),
        "credential H10301:12:7001 (serial 'PD-1') " + CONSOLE,
    ),
    *[
        (
            status,
            lambda s, st=status: s.cards.set_status(
                serial="PD-1", status=st, reason="r", actor="a"
            ),
            CONSOLE,
        )
        for status in ("stolen", "returned", "issued")
    ],
    ("set a PIN", lambda s: s.cards.set_pin(serial="PD-1", pin="4321", actor="a"), CONSOLE),
    ("clear a PIN", lambda s: s.cards.set_pin(credential=CARD, pin=None, actor="a"), CONSOLE),
    (
        "enrol over it",
        lambda s: s.cards.add(*CARD, "Someone Else", actor="a"),
        "credential H10301:12:7001 is already on record "
        "(holder 'Ofc. Diaz', serial 'PD-1', issued), " + CLASH,
    ),
    (
        "reuse its serial",
        lambda s: s.cards.add("H10301", 12, 5, "Someone Else", serial="PD-1", actor="a"),
        "serial 'PD-1' is already used by H10301:12:7001 (holder 'Ofc. Diaz', "
        "serial 'PD-1', issued), " + CLASH,
    ),
    (
        "rename its holder",
        lambda s: s.holders.update("Ofc. Diaz", new_name="Officer Diaz", actor="a"),
        "holder 'Ofc. Diaz' (who has a district credential) " + CONSOLE,
    ),
    (
        "edit its holder's agency",
        lambda s: s.holders.update("Ofc. Diaz", agency="Other PD", actor="a"),
        CONSOLE,
    ),
    (
        "widen its group",
        lambda s: s.groups.update("district-maint", always=True, actor="a"),
        "group 'district-maint' (which has district credentials) " + CONSOLE,
    ),
]


@pytest.mark.parametrize(
    ("change", "message"), [(c, m) for _, c, m in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_local_changes_to_district_rows_are_refused(
    district: Store, change: Callable[[Store], Any], message: str
) -> None:
    check = _unchanged(district)
    with pytest.raises(DistrictOwned) as err:
        change(district)
    assert isinstance(err.value, StoreError)  # every caller that catches StoreError still does
    assert message in str(err.value)
    check()


def test_csv_rows_touching_district_cards_are_refused_whole(district: Store) -> None:
    check = _unchanged(district)
    text = (
        "format,facility,number,holder,serial,group\n"
        "H10301,12,7001,Someone,,staff\n"  # a district card's number
        "H10301,12,900,Another,DM-1,staff\n"  # a district card's serial
        "H10301,12,901,Fine Row,,staff\n"
    )
    with pytest.raises(ImportRejected) as err:
        district.cards.import_csv(text, actor="a")
    lines = dict(err.value.errors)
    assert lines[2] == (
        "credential H10301:12:7001 is already on record (holder 'Ofc. Diaz', issued), " + CLASH
    )
    assert lines[3].startswith("serial 'DM-1' is already used by H10301:12:7002")
    assert lines[3].endswith(CLASH)
    assert 4 not in lines
    check()


def test_local_rows_stay_editable(district: Store) -> None:
    district.cards.set_status(serial="L-1", status="lost", reason="dropped", actor="a")
    district.cards.set_pin(serial="L-1", pin="1234", actor="a")
    district.holders.update("Ann Lee", agency="Lincoln ES", actor="a")
    district.groups.update("staff", always=True, actor="a")
    row = district.cards.get(serial="L-1")
    assert row is not None and row.status.value == "lost" and row.has_pin
    assert row.source == "local"


def test_local_fob_for_a_district_holder_and_group_is_allowed(district: Store) -> None:
    district.cards.add("H10301", 12, 200, "Ofc. Diaz", group="district-maint", actor="a")
    row = district.cards.get(credential=("H10301", 12, 200))
    assert row is not None and row.source == "local" and row.holder == "Ofc. Diaz"
    district.cards.set_status(
        credential=("H10301", 12, 200), status="revoked", reason="r", actor="a"
    )


def test_a_local_conflict_keeps_the_plain_message(district: Store) -> None:
    with pytest.raises(StoreError) as err:
        district.cards.add("H10301", 12, 100, "X", actor="a")
    assert not isinstance(err.value, DistrictOwned)
    assert "district" not in str(err.value)


def test_the_fleet_apply_code_may_change_district_rows(district: Store) -> None:
    """The session-level functions take ``as_district=True``: how the fleet agent applies a list."""
    db = district._db  # the fleet's apply module works inside the store package the same way
    pd1: dict[str, Any] = {"serial": "PD-1", "credential": None, "actor": "fleet"}
    with db.write("applying the district list") as s:
        cards.set_status(
            s, db.now_us(), status="revoked", reason="lost at 03:00", as_district=True, **pd1
        )
        cards.set_pin(s, db.now_us(), pin="9876", as_district=True, **pd1)
        holders.update_holder(
            s,
            db.now_us(),
            "Ofc. Diaz",
            new_name="Officer Diaz",
            agency="Casper PD",
            badge=UNSET,
            contact=UNSET,
            notes=UNSET,
            actor="fleet",
            as_district=True,
        )
        groups.update_group(
            s,
            db.now_us(),
            "district-maint",
            doors=UNSET,
            always=False,
            schedule=[{"days": "mon-fri", "start": "07:00", "end": "17:00"}],
            holidays=UNSET,
            lockdown_immune=UNSET,
            pin_required=UNSET,
            actor="fleet",
            as_district=True,
        )
    row = district.cards.get(serial="PD-1")
    assert row is not None and row.status.value == "revoked" and row.holder == "Officer Diaz"
    assert row.has_pin and row.source == "district"


def test_district_owned_names_the_holders_and_groups_district_cards_use(district: Store) -> None:
    ids = {h.name: h.id for h in district.holders.list()}
    gids = {g.name: g.id for g in district.groups.list()}
    assert district.fleet.owns(holder_id=ids["Ofc. Diaz"])
    assert not district.fleet.owns(holder_id=ids["Ann Lee"])
    assert district.fleet.owns(group_id=gids["district-maint"])
    assert district.fleet.owns(group_id=gids["responders"])
    assert not district.fleet.owns(group_id=gids["staff"])
    assert not district.fleet.owns()
