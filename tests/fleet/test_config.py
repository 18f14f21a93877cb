"""The box's [fleet] section: keys, paths relative to the file, and messages naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.config import ConfigError, load_config
from appliance.fleet.signing import new_private_key, public_key_text
from appliance.testing.box import write_config

PUB = public_key_text(new_private_key().public_key())


def fleet_config(tmp_path: Path, body: str) -> Path:
    return write_config(tmp_path, extra="[fleet]\n" + body)


BASE = f"""broker = "mqtt://127.0.0.1:1883"
district = "natrona"
box_id = "kw-front"
school = "Kelly Walsh"
district_public_key = "{PUB}"
"""


def test_fleet_section(tmp_path: Path) -> None:
    (tmp_path / "pki").mkdir()
    for name in ("ca.pem", "box.pem", "box.key"):
        (tmp_path / "pki" / name).write_text("x")
    body = BASE.replace("mqtt://", "mqtts://") + (
        'ca_file = "pki/ca.pem"\ncert_file = "pki/box.pem"\nkey_file = "pki/box.key"\n'
    )
    f = load_config(fleet_config(tmp_path, body)).fleet
    assert f is not None and f.box_id == "kw-front" and f.keepalive_seconds == 30
    assert f.ca_file == (tmp_path / "pki" / "ca.pem").resolve()
    assert f.max_message_bytes == 16 * 1024 * 1024
    (tmp_path / "district.pub").write_text(PUB + "\n")
    by_file = BASE.replace(f'"{PUB}"', '"district.pub"')
    f = load_config(fleet_config(tmp_path, by_file)).fleet
    assert f is not None and f.district_public_key == PUB  # read once, whatever the cwd later
    assert load_config(write_config(tmp_path)).fleet is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("mqtt://", "http://"), "fleet.broker: broker URL 'http://127.0.0.1:1883' must start"),
        (("mqtt://127.0.0.1:1883", "mqtt://"), "names no host"),
        (('"natrona"', '"natrona/#"'), "fleet.district: district 'natrona/#' must be 1-64"),
        (('"kw-front"', '"kw front"'), "fleet.box_id: box_id 'kw front' must be 1-64"),
        ((PUB, "AAAA"), "fleet.district_public_key: an Ed25519 public key is 32 bytes"),
        ((PUB, "keys/none.pub"), "district_public_key: not base64"),
        (('school = "Kelly Walsh"', 'schol = "x"'), "fleet.schol: unknown key"),
        (
            ('box_id = "kw-front"', 'box_id = "kw"\nca_file = "no.pem"'),
            "fleet.ca_file: no such file",
        ),
        (
            ('box_id = "kw-front"', 'box_id = "kw"\ncert_file = "a.pem"'),
            "cert_file and key_file go",
        ),
        (('box_id = "kw-front"', 'box_id = "kw"\nkeepalive_seconds = 1'), "keepalive_seconds"),
    ],
)
def test_bad_fleet_config_names_the_key(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_config(fleet_config(tmp_path, BASE.replace(*change)))
    assert message in str(err.value)
