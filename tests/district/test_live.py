"""The register on a real mosquitto: a fob reported lost at the console is lost at the box."""

from __future__ import annotations

from pathlib import Path

from appliance.district.console import District
from appliance.store import Store
from appliance.testing.mosquitto import Mosquitto
from tests.fleet.conftest import console, fleet_box, settled

REGISTER = ["fob", "register", "--format", "H10301", "--facility", "100", "--number", "1001"]


def test_a_fob_reported_lost_is_lost_at_the_box(
    tmp_path: Path, broker: Mosquitto, district: District
) -> None:
    with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh") as box:
        assert console(district, "agency", "add", "Casper PD", "--kind", "police") == 0
        add = ["officer", "add", "Jane Ortiz", "--agency", "Casper PD", "--badge", "4411"]
        assert console(district, *add) == 0
        assert console(district, *REGISTER, "--serial", "CPD-1", "--agency", "Casper PD") == 0
        settled(box, 1)
        assert box.swipe(1001).reason == "returned"  # in the property room: opens nothing
        issue = ["--serial", "CPD-1", "--officer", "Jane Ortiz", "--ack", "jane ortiz"]
        assert console(district, "fob", "issue", *issue) == 0
        settled(box, 2)
        assert box.swipe(1001).kind == "granted"
        assert console(district, "fob", "lost", "--serial", "CPD-1", "--reason", "on patrol") == 0
        settled(box, 3)
        with Store(box.config.db_path) as store:
            row = store.cards.get(serial="CPD-1")
            assert row is not None
            assert (row.status.value, row.holder, row.source) == ("lost", "Jane Ortiz", "district")
        decision = box.swipe(1001)
        assert (decision.kind, decision.reason) == ("denied", "lost")
