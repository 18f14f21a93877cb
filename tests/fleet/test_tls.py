"""TLS with per-box client certificates: the broker requires them; box and console show theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.district.console import init_district
from appliance.fleet.link import Link, LinkError, Tls, parse_broker
from appliance.testing.mosquitto import running_mosquitto
from appliance.testing.pki import Pki

from .conftest import console, fleet_box, settled


def test_boxes_and_console_over_tls_with_client_certificates(tmp_path: Path) -> None:
    pki = Pki(tmp_path / "pki")
    server_cert, server_key = pki.issue("broker", server=True)
    tls = {"ca": pki.ca, "cert": server_cert, "key": server_key}
    with running_mosquitto(tmp_path / "broker", tls=tls) as broker:
        console_cert, console_key = pki.issue("console")
        district = init_district(
            tmp_path / "district",
            "natrona",
            broker.url,
            ca_file=pki.ca,
            cert_file=console_cert,
            key_file=console_key,
        )
        box_cert, box_key = pki.issue("kw-front")
        extra = f'ca_file = "{pki.ca}"\ncert_file = "{box_cert}"\nkey_file = "{box_key}"\n'
        with fleet_box(tmp_path, broker, district, "kw-front", "Kelly Walsh", extra=extra) as box:
            assert broker.url.startswith("mqtts://")
            add = ["card", "add", "--format", "H10301", "--facility", "100", "--number", "7"]
            assert console(district, *add, "--holder", "Officer 7", "--group", "responders") == 0
            settled(box, 1)  # the list came over TLS, and the controller decides from it
            assert box.swipe(7).kind == "granted"
        # Without a client certificate the broker lets no one in.
        stranger = Link(parse_broker(broker.url), "stranger", clean=True, tls=Tls(pki.ca))
        stranger.start()
        try:
            with pytest.raises(LinkError, match="cannot reach"):
                stranger.wait_connected(2)
        finally:
            stranger.stop()
