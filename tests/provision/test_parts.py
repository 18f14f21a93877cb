"""Provisioning's parts: host names, the WPA key, SSH keys, secret files, ownership, status."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from appliance.cli import main
from appliance.config import parse_config
from appliance.provision import files, request
from appliance.provision.status import STATUS_FILE, ProvisionStatus, read_status, write_status
from appliance.provision.system import hostname_for, hosts_text, wpa_psk
from tests.provision.conftest import BASIC, ED25519, Box


def door(name: str, **network: Any) -> Any:
    data: dict[str, Any] = {
        "door": {"name": name},
        "reader": {"d0": 8, "d1": 7},
        "strike": {"pin": 13},
    }
    if network:
        data["network"] = network
    return parse_config(data)


@pytest.mark.parametrize(
    ("name", "hostname"),
    [
        ("Front Entrance", "doorward-front-entrance"),
        ("  Gym / Side door #2 ", "doorward-gym-side-door-2"),
        ("Entrée du Collège", "doorward-entree-du-college"),
        ("体育館", "doorward"),
        ("x" * 80, "doorward-" + "x" * 54),
        ("a" * 53 + " b", "doorward-" + "a" * 53),  # never ends in a dash when cut
    ],
)
def test_hostname_from_the_door_name(name: str, hostname: str) -> None:
    assert hostname_for(door(name)) == hostname
    assert len(hostname) <= 63


def test_hostname_given() -> None:
    assert hostname_for(door("Front", hostname="lobby-1")) == "lobby-1"


def test_hosts_keeps_other_lines() -> None:
    assert hosts_text("127.0.0.1 localhost\n127.0.1.1 old\n::1 localhost\n", "new") == (
        "127.0.0.1 localhost\n127.0.1.1\tnew\n::1 localhost\n"
    )
    assert hosts_text("", "new") == "127.0.0.1\tlocalhost\n127.0.1.1\tnew\n"


def test_wpa_key_is_ieee_80211i_test_vector() -> None:
    # IEEE 802.11i-2004, annex H.4.
    assert wpa_psk("IEEE", "password") == (
        "f42c6fc52df0ebef9ebb4b90b38a5f902e83fe1b135a70e23aed762e9710a12e"
    )
    assert wpa_psk("any", "AB" * 32) == "ab" * 32  # already a key


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (ED25519, None),
        (f"# keys\n\n{ED25519}\n{ED25519.replace('tech@laptop', 'other')}\n", None),
        ("", "no public key in it"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----\n", "line 1: a private key"),
        ('from="10.0.0.1" ' + ED25519, "line 1: not an SSH public key"),
        ("ssh-dss AAAAB3NzaC1kc3M=", "line 1: not an SSH public key"),
        ("ssh-rsa " + ED25519.split()[1], "line 1: the key does not match its type ssh-rsa"),
        ("ssh-ed25519", "line 1: not an SSH public key"),
        ("ssh-ed25519 !!!", "line 1: the key's base64 text is damaged"),
    ],
)
def test_authorized_keys(text: str, problem: str | None) -> None:
    found = request.check_authorized_keys(text)
    if problem is None:
        assert found == []
    else:
        assert len(found) == 1 and problem in found[0]


def test_secret_files_move_to_the_data_partition(box: Box, monkeypatch: pytest.MonkeyPatch) -> None:
    """The generic secret-file mechanism, with a [fleet] section this schema does not have yet."""
    real_parse = parse_config
    seen: list[str] = []

    def parse_without_fleet(data: dict[str, Any], source: Any = "<config>") -> Any:
        seen.append(data["fleet"]["key_file"])
        return real_parse({k: v for k, v in data.items() if k != "fleet"}, source)

    monkeypatch.setattr(request, "parse_config", parse_without_fleet)
    (box.paths.boot / "fleet.key").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n")
    (box.paths.boot / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    box.write(BASIC + '[fleet]\nkey_file = "fleet.key"\nca_file = "ca.pem"\nurl = "x"\n')
    outcome = box.run()
    assert outcome.code == 0, outcome.lines
    assert seen == [str(box.paths.boot / "fleet.key")]  # the schema sees the file on the card
    key = box.paths.data / "secrets" / "fleet-key.key"
    ca = box.paths.data / "secrets" / "fleet-ca.pem"
    assert key.read_text().endswith("secret\n") and ca.exists()
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert not (box.paths.boot / "fleet.key").exists() and not (box.paths.boot / "ca.pem").exists()
    applied = (box.paths.data / "doorward.toml").read_text()
    assert f'key_file = "{key}"' in applied and f'ca_file = "{ca}"' in applied
    assert f'key_file = "{key}"' in (box.paths.boot / "doorward.toml.applied").read_text()
    # The .applied file reused: the files are already on the data partition.
    box.write((box.paths.boot / "doorward.toml.applied").read_text())
    assert box.run().code == 0 and key.exists()
    # A missing one is named.
    box.write(BASIC + '[fleet]\nkey_file = "nope.key"\n')
    outcome = box.run()
    assert outcome.code == 2
    assert "fleet.key_file: no file 'nope.key' on the boot partition" in outcome.lines[1]


def test_a_symlinked_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "secrets").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(files.UnsafePathError, match="not a directory"):
        files.private_dir(tmp_path / "secrets")


@pytest.mark.skipif(os.geteuid() != 0, reason="handing files to another user needs root")
def test_the_data_partition_goes_to_the_service_user_but_root_keeps_its_own(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    nobody = (65534, 65534)
    monkeypatch.setattr(files, "service_owner", lambda user: nobody)
    box.write(BASIC)
    box.write(ED25519, "authorized_keys")
    assert box.run().code == 0
    data = box.paths.data
    for path in [data, *data.rglob("*")]:
        owner = (path.lstat().st_uid, path.lstat().st_gid)
        if data / "system" in (path, *path.parents):
            assert owner == (0, 0), path
        else:
            assert owner == nobody, path
    # The service user swapping in its own "system" folder is refused at the next boot.
    os.rename(data / "system", data / "old")
    (data / "system").mkdir(mode=0o700)
    os.chown(data / "system", *nobody)
    outcome = box.run()
    assert outcome.code == 1 and "is not root's" in outcome.lines[0]


def test_status_is_read_defensively(tmp_path: Path) -> None:
    assert read_status(tmp_path) is None
    for text in ("{", "[]", '{"state": "odd"}', '{"state": "failed", "message": 1, "time": ""}'):
        (tmp_path / STATUS_FILE).write_text(text)
        assert read_status(tmp_path) is None, text
    status = ProvisionStatus("failed", "bad pin", "2025-01-01T00:00:00+00:00", None, ["w"])
    write_status(tmp_path, status)
    assert read_status(tmp_path) == status


def test_cli(box: Box, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "provision",
        f"--boot={box.paths.boot}",
        f"--data={box.paths.data}",
        f"--etc={box.paths.etc}",
        f"--root-home={box.paths.root_home}",
        f"--zoneinfo={box.paths.zoneinfo}",
    ]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "doorward provision: not provisioned: put a doorward.toml" in out
    box.write(BASIC.replace("d0 = 8", "d0 = 80"))
    assert main(args) == 2
    assert "doorward provision: doorward.toml: reader.d0" in capsys.readouterr().err
    box.write(BASIC)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "one-time admin setup code" in out
    assert main(["--config", str(box.paths.data / "doorward.toml"), "firmware-gpio"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "# reader D0: input, pulled up",
        "gpio=8=ip,pu",
        "# reader D1: input, pulled up",
        "gpio=7=ip,pu",
        "# strike relay (fail-secure strike, relay input active high): held locked, driven low",
        "gpio=13=op,dl",
    ]


def test_the_readme_example_is_applied(box: Box) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("## From zero to a working door", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    box.write(example)
    outcome = box.run()
    assert outcome.code == 0, outcome.lines
    assert (box.paths.etc / "hostname").read_text() == "doorward-front-entrance\n"


def test_a_fleet_section_with_its_files_on_the_card(box: Box) -> None:
    """The district's key named as a file on the card is kept as its text; the box's key moves."""
    from appliance.config import load_config
    from appliance.fleet.signing import new_private_key, public_key_text

    district = public_key_text(new_private_key().public_key())
    (box.paths.boot / "district.pub").write_text(district + "\n")
    (box.paths.boot / "box.key").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n")
    (box.paths.boot / "box.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    fleet = (
        '[fleet]\nbroker = "mqtts://broker.district.example:8883"\ndistrict = "casper"\n'
        'box_id = "kw-front"\nschool = "Kelly Walsh"\ndistrict_public_key = "district.pub"\n'
        'cert_file = "box.pem"\nkey_file = "box.key"\n'
    )
    box.write(BASIC + fleet)
    outcome = box.run()
    assert outcome.code == 0, outcome.lines
    applied = load_config(box.paths.data / "doorward.toml")
    assert applied.fleet is not None
    assert applied.fleet.district_public_key == district
    assert applied.fleet.key_file == box.paths.data / "secrets" / "fleet-key.key"
    assert not (box.paths.boot / "box.key").exists()
    # A key that is not one is named, and nothing is applied.
    (box.paths.boot / "box.key").write_text("-----BEGIN PRIVATE KEY-----\nsecret\n")
    (box.paths.boot / "box.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    (box.paths.boot / "district.pub").write_text("not a key\n")
    box.write(BASIC.replace("Front Entrance", "Back door") + fleet)
    outcome = box.run()
    assert outcome.code == 2
    assert any("fleet.district_public_key" in line for line in outcome.lines), outcome.lines
    assert load_config(box.paths.data / "doorward.toml").door.name == "Front Entrance"
