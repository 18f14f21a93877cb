"""The [fleet] section, checked by the fleet's own light code; config.py imports only that."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from appliance import config
from appliance.fleet.broker import Broker, parse_broker
from appliance.fleet.section import BrokerLink, FleetSection
from appliance.fleet.signing import new_private_key, public_key_text

ROOT = Path(__file__).resolve().parents[2]
PUB = public_key_text(new_private_key().public_key())
GOOD: dict[str, Any] = {
    "broker": "mqtts://broker.district.example",
    "district": "natrona",
    "box_id": "kw-front",
    "school": "Kelly Walsh",
    "district_public_key": PUB,
}


def refusal(model: type[BrokerLink], data: dict[str, Any]) -> str:
    """The one message pydantic gives for ``data``, without its 'Value error, ' prefix."""
    with pytest.raises(ValidationError) as err:
        model.model_validate(data)
    (only,) = err.value.errors()
    return str(only["msg"]).removeprefix("Value error, ")


def test_the_config_file_uses_the_fleets_section() -> None:
    assert config.FleetSection is FleetSection
    assert config.BrokerLink is BrokerLink
    assert config.Config.model_fields["fleet"].annotation == FleetSection | None
    f = FleetSection.model_validate(GOOD)
    assert (f.keepalive_seconds, f.max_message_bytes, f.ca_file) == (30, 16 * 1024 * 1024, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"broker": "http://x"}, "broker URL 'http://x' must start with mqtt:// or mqtts://"),
        ({"broker": "mqtt://"}, "broker URL 'mqtt://' names no host"),
        ({"broker": "mqtt://h/x"}, "broker URL 'mqtt://h/x': only a host and a port, nothing else"),
        ({"district": "a/b"}, "district 'a/b' must be 1-64 letters, digits, '-' or '_'"),
        ({"box_id": "kw+"}, "box_id 'kw+' must be 1-64 letters, digits, '-' or '_'"),
        ({"box_id": "x" * 65}, f"box_id {'x' * 65!r} must be 1-64 letters, digits, '-' or '_'"),
        ({"cert_file": "box.pem"}, "cert_file and key_file go together (the client certificate)"),
    ],
)
def test_a_bad_section_is_refused_with_the_fleets_message(
    change: dict[str, Any], message: str
) -> None:
    assert refusal(FleetSection, {**GOOD, **change}) == message


def test_the_consoles_link_is_checked_the_same_way() -> None:
    assert BrokerLink.model_validate({"broker": "mqtt://h"}).broker == "mqtt://h"
    assert refusal(BrokerLink, {"broker": "mqtts://h:x"}).startswith(
        "broker URL 'mqtts://h:x' is not readable ("
    )
    assert refusal(BrokerLink, {"broker": "mqtt://h", "key_file": "k"}).startswith("cert_file")


def test_resolved_makes_paths_absolute_and_reads_the_key_once(tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "district.pub").write_text(PUB + "\n")
    f = FleetSection.model_validate(
        {**GOOD, "ca_file": "ca.pem", "district_public_key": "district.pub"}
    )
    r = f.resolved(tmp_path)
    assert r.ca_file == tmp_path / "ca.pem" and r.district_public_key == PUB
    with pytest.raises(ValueError, match=r"^key_file: no such file .*k\.pem$"):
        FleetSection.model_validate({**GOOD, "cert_file": "ca.pem", "key_file": "k.pem"}).resolved(
            tmp_path
        )
    with pytest.raises(ValueError, match=r"^district_public_key: .*nor is it a key file$"):
        FleetSection.model_validate({**GOOD, "district_public_key": "none.pub"}).resolved(tmp_path)


@pytest.mark.parametrize(
    ("url", "broker"),
    [
        ("mqtt://h", Broker("h", 1883, False)),
        ("mqtts://h", Broker("h", 8883, True)),
        (" mqtts://10.0.0.5:18883/ ", Broker("10.0.0.5", 18883, True)),
    ],
)
def test_parse_broker(url: str, broker: Broker) -> None:
    assert parse_broker(url) == broker
    assert str(broker).startswith("mqtts://" if broker.tls else "mqtt://")


def test_reading_a_config_loads_no_mqtt_crypto_store_or_door() -> None:
    """A fresh interpreter: importing appliance.config (and its [fleet] checks) stays light."""
    heavy = ("paho", "cryptography", "sqlalchemy", "flask")
    ours = ("appliance.store", "appliance.door", "appliance.fleet.signing", "appliance.fleet.link")
    code = (
        "import sys, appliance.config; "
        "print(' '.join(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {heavy!r} or m.startswith({ours!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.split() == []


def test_config_imports_nothing_from_store_door_or_fleet_but_the_fleets_section() -> None:
    path = ROOT / "appliance" / "config.py"
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
        else:
            continue
        for module in modules:
            banned = module.startswith(("appliance.store", "appliance.door", "appliance.fleet"))
            assert not banned or module == "appliance.fleet.section", (
                f"appliance/config.py:{node.lineno} imports {module}"
            )
