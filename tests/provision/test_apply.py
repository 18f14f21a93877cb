"""doorward provision: all of the boot partition's file applied, or none of it."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from appliance.config import load_config
from appliance.provision import read_status
from appliance.provision.status import STATUS_FILE
from appliance.store import Store
from tests.provision.conftest import BASIC, ED25519, WIFI, Box

PASSPHRASE = "Zebra-Quokka-42"
PSK = hashlib.pbkdf2_hmac("sha1", PASSPHRASE.encode(), b"School devices", 4096, 32).hex()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_boot_applies_everything(box: Box) -> None:
    box.write(BASIC + WIFI)
    box.write(ED25519 + "\n", "authorized_keys")
    outcome = box.run()
    assert outcome.code == 0, outcome.lines
    p = box.paths

    # The door's config on the data partition, data_dir forced there, no secret in it.
    config = load_config(p.data / "doorward.toml")
    assert config.data_dir == p.data and config.door.name == "Front Entrance"
    assert config.network and config.network.wifi and config.network.wifi.psk is None
    assert mode(p.data / "doorward.toml") == 0o600
    # The database is ready and the setup code shown, written on the card and kept in data.
    with Store(config.db_path) as store:
        assert store.schema_is_current()
    assert outcome.setup_code and any(outcome.setup_code in line for line in outcome.lines)
    assert outcome.setup_code in (p.boot / "doorward-setup-code.txt").read_text()
    assert (p.data / "tls" / "cert.pem").exists() and mode(p.data / "tls" / "key.pem") == 0o600
    # The system: host name, hosts, time zone, Wi-Fi (derived key only), SSH keys.
    assert (p.etc / "hostname").read_text() == "doorward-front-entrance\n"
    assert "127.0.1.1\tdoorward-front-entrance" in (p.etc / "hosts").read_text()
    assert "127.0.1.1\tdebian" not in (p.etc / "hosts").read_text()
    assert (p.etc / "timezone").read_text() == "America/Denver\n"
    assert os.readlink(p.etc / "localtime") == str(p.zoneinfo / "America/Denver")
    wpa = p.etc / "wpa_supplicant" / "wpa_supplicant-wlan0.conf"
    assert mode(wpa) == 0o600
    assert f"psk={PSK}" in wpa.read_text() and f"ssid={b'School devices'.hex()}" in wpa.read_text()
    link = p.etc / "systemd/system/multi-user.target.wants/wpa_supplicant@wlan0.service"
    assert os.readlink(link) == "/lib/systemd/system/wpa_supplicant@.service"
    keys = p.root_home / ".ssh" / "authorized_keys"
    assert ED25519 in keys.read_text() and mode(keys) == 0o600 and mode(keys.parent) == 0o700
    # config.txt: the gpio block under [all], the rest kept.
    config_txt = (p.boot / "config.txt").read_text()
    assert config_txt.startswith("arm_64bit=1\n[pi4]\narm_boost=1\n")
    assert "[all]\n# doorward: begin gpio\n" in config_txt and "gpio=13=op,dl" in config_txt
    assert outcome.firmware_changed
    # The card: no doorward.toml any more, the applied one without the passphrase.
    assert not (p.boot / "doorward.toml").exists()
    assert (p.boot / "authorized_keys.applied").exists()
    assert not (p.boot / "doorward-error.txt").exists()
    applied = (p.boot / "doorward.toml.applied").read_text()
    assert 'ssid = "School devices"' in applied and PASSPHRASE not in applied
    for path in box.snapshot():  # the passphrase is nowhere
        if Path(path).is_file():
            assert PASSPHRASE.encode() not in Path(path).read_bytes(), path
    status = read_status(p.data)
    assert status and status.state == "applied" and status.applied_at and not status.warnings


def test_nothing_new_changes_nothing(box: Box) -> None:
    box.write(BASIC + WIFI)
    assert box.run().code == 0
    before = box.snapshot()
    outcome = box.run()
    assert outcome.code == 0 and outcome.lines == [] and box.snapshot() == before


def test_a_broken_file_changes_nothing_on_a_provisioned_box(box: Box) -> None:
    box.write(BASIC + WIFI)
    assert box.run().code == 0
    first = read_status(box.paths.data)
    box.write(
        BASIC.replace('name = "Front Entrance"', 'name = "Gym"\ncolour = "red"').replace(
            "pin = 13", "pin = 40"
        )
    )
    box.write("ssh-ed25519 AAAA-broken\n", "authorized_keys")
    before = box.snapshot()
    outcome = box.run()
    assert outcome.code == 2
    text = "\n".join(outcome.lines)
    # Every problem named, with where it is.
    assert "door.colour: unknown key" in text
    assert "strike.pin: Input should be less than or equal to 27" in text
    assert "authorized_keys: line 1: the key's base64 text is damaged" in text
    assert "keeps its previous configuration" in text
    # Nothing changed but the error file on the card and the status for the admin page.
    after = box.snapshot()
    error = box.paths.boot / "doorward-error.txt"
    status_file = str(box.paths.data / STATUS_FILE)
    changed = {k for k in after.keys() | before.keys() if after.get(k) != before.get(k)}
    assert changed == {str(error), status_file}
    assert "door.colour: unknown key" in error.read_text()
    status = read_status(box.paths.data)
    assert status and status.failed and "door.colour" in status.message
    assert first and status.applied_at == first.applied_at
    # Fixed and rebooted: applied, and the error is gone.
    box.write(BASIC.replace("Front Entrance", "Gym"))
    (box.paths.boot / "authorized_keys").unlink()
    assert box.run().code == 0
    assert not error.exists()
    assert load_config(box.paths.data / "doorward.toml").door.name == "Gym"


def test_a_broken_file_on_a_fresh_box_says_there_is_no_config(box: Box) -> None:
    box.write("[door\nname = 'x'\n")
    outcome = box.run()
    assert outcome.code == 2
    assert "not valid TOML" in "\n".join(outcome.lines)
    assert "no configuration yet" in "\n".join(outcome.lines)
    assert not (box.paths.data / "doorward.toml").exists()
    assert (box.paths.etc / "hostname").read_text() == "debian\n"
    data = json.loads((box.paths.data / STATUS_FILE).read_text())
    assert data["state"] == "failed" and data["applied_at"] is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BASIC.replace('"mock"', '"pigpio"'), '"pigpio" needs the pigpiod daemon'),
        (BASIC.replace("America/Denver", "Europe/Paris"), "'Europe/Paris' is not installed"),
        (BASIC + WIFI.replace(f'psk = "{PASSPHRASE}"\n', ""), "network.wifi.psk: missing"),
        (BASIC + WIFI.replace(PASSPHRASE, "short"), "network.wifi.psk: a WPA passphrase"),
        (BASIC + '[network]\nhostname = "Front_Door"\n', "network.hostname: 'Front_Door'"),
        ("\ufeff" + BASIC.replace("d0 = 8", "d0 = 7"), "GPIO 7 is used twice"),
    ],
)
def test_refused(box: Box, text: str, problem: str) -> None:
    box.write(text)
    outcome = box.run()
    assert outcome.code == 2
    assert problem in "\n".join(outcome.lines)
    assert "short" not in "\n".join(outcome.lines)  # a passphrase is never repeated


def test_broken_config_txt_markers_are_refused(box: Box) -> None:
    (box.paths.boot / "config.txt").write_text("# doorward: begin gpio\ngpio=4=op,dl\n")
    box.write(BASIC)
    outcome = box.run()
    assert outcome.code == 2 and "fix it by hand" in "\n".join(outcome.lines)


def test_wifi_passphrase_needed_once_per_network(box: Box) -> None:
    box.write(BASIC + WIFI)
    assert box.run().code == 0
    wpa = box.paths.etc / "wpa_supplicant" / "wpa_supplicant-wlan0.conf"
    # The .applied file reused as is (no passphrase): same network, the stored key stays.
    applied = (box.paths.boot / "doorward.toml.applied").read_text()
    box.write(applied.replace("Front Entrance", "Side door"))
    assert box.run().code == 0
    assert f"psk={PSK}" in wpa.read_text()
    # Another network needs its passphrase.
    box.write(applied.replace('"School devices"', '"Other"'))
    outcome = box.run()
    assert outcome.code == 2 and "network.wifi.psk: missing" in "\n".join(outcome.lines)
    # Wi-Fi taken out of the config: its files go, and the stored key.
    box.write(BASIC)
    assert box.run().code == 0
    assert not wpa.exists()
    assert not list((box.paths.etc / "systemd/system/multi-user.target.wants").iterdir())
    assert not (box.paths.data / "system" / "wifi-psk").exists()


def test_reflashed_system_is_restored_from_the_data_partition(box: Box) -> None:
    box.write(BASIC + WIFI + '[network.ipv4]\naddress = "10.20.30.40/24"\ngateway = "10.20.30.1"\n')
    box.write(ED25519 + "\n", "authorized_keys")
    assert box.run().code == 0
    want = box.snapshot()
    # A reflash: /etc back to the image's defaults, root's keys gone, config.txt the image's.
    for path in (
        box.paths.etc / "wpa_supplicant" / "wpa_supplicant-wlan0.conf",
        box.paths.etc / "systemd" / "network" / "10-doorward-static.network",
        box.paths.root_home / ".ssh" / "authorized_keys",
        box.paths.etc / "localtime",
    ):
        path.unlink()
    (box.paths.etc / "hostname").write_text("debian\n")
    (box.paths.boot / "config.txt").write_text(
        "arm_64bit=1\n[all]\n# doorward: begin gpio\ngpio=26=op,dh\n# doorward: end gpio\n"
    )
    outcome = box.run()
    assert outcome.code == 0 and outcome.firmware_changed
    assert outcome.lines[0].startswith("restored from the applied config")
    restored = box.snapshot()
    for key, value in want.items():
        if "/boot/" not in key:
            assert restored.get(key) == value, key
    assert "gpio=13=op,dl" in (box.paths.boot / "config.txt").read_text()
    assert "gpio=26" not in (box.paths.boot / "config.txt").read_text()


def test_fixed_address_and_ntp_come_and_go(box: Box) -> None:
    network = (
        '[network]\nntp = ["ntp.district.example"]\n'
        '[network.ipv4]\ninterface = "wifi"\naddress = "10.20.30.40/24"\n'
        'gateway = "10.20.30.1"\ndns = ["10.20.30.2", "10.20.30.3"]\n'
    )
    box.write(BASIC + network)
    assert box.run().code == 0
    static = box.paths.etc / "systemd" / "network" / "10-doorward-static.network"
    assert static.read_text().splitlines()[1:] == [
        "[Match]",
        "Name=wl*",
        "",
        "[Network]",
        "Address=10.20.30.40/24",
        "Gateway=10.20.30.1",
        "DNS=10.20.30.2",
        "DNS=10.20.30.3",
    ]
    ntp = box.paths.etc / "systemd" / "timesyncd.conf.d" / "doorward.conf"
    assert ntp.read_text().endswith("[Time]\nNTP=ntp.district.example\n")
    # A file of someone else's at one of these paths is never removed; ours are.
    own = box.paths.etc / "wpa_supplicant" / "wpa_supplicant-wlan1.conf"
    own.parent.mkdir(exist_ok=True)
    own.write_text("network={}\n")
    box.write(BASIC)
    assert box.run().code == 0
    assert not static.exists() and not ntp.exists() and own.exists()


def test_only_new_ssh_keys(box: Box) -> None:
    box.write(BASIC)
    assert box.run().code == 0
    box.write(ED25519 + "\n# the school's technician\n", "authorized_keys")
    outcome = box.run()
    assert outcome.code == 0 and "SSH keys" in outcome.lines[0]
    assert ED25519 in (box.paths.root_home / ".ssh" / "authorized_keys").read_text()
    assert outcome.setup_code is None  # the door was not provisioned again


def test_setup_code_leaves_the_card_once_used(box: Box) -> None:
    box.write(BASIC)
    assert box.run().code == 0
    on_card = box.paths.boot / "doorward-setup-code.txt"
    assert box.run().code == 0 and on_card.exists()  # not used yet
    (box.paths.data / "setup_code").unlink()  # what the admin page does when it is used
    assert box.run().code == 0 and not on_card.exists()


def test_power_on_warnings_are_shown_not_refused(box: Box) -> None:
    box.write(BASIC.replace("pin = 13\nactive_low = false", "pin = 26\nactive_low = true"))
    outcome = box.run()
    assert outcome.code == 0
    assert any(line.startswith("warning: strike.pin: GPIO 26") for line in outcome.lines)
    status = read_status(box.paths.data)
    assert status and status.warnings and "GPIO 26" in status.warnings[0]


def test_the_certificate_follows_the_host_name(box: Box) -> None:
    from cryptography import x509

    def names() -> list[str]:
        cert = x509.load_pem_x509_certificate((box.paths.data / "tls/cert.pem").read_bytes())
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        return ext.get_values_for_type(x509.DNSName)

    box.write(BASIC)
    assert box.run().code == 0
    assert "doorward-front-entrance" in names()
    first = (box.paths.data / "tls/cert.pem").read_bytes()
    box.write(BASIC)
    assert box.run().code == 0
    assert (box.paths.data / "tls/cert.pem").read_bytes() == first  # same name: kept
    box.write(BASIC.replace("Front Entrance", "Gym"))
    assert box.run().code == 0
    assert "doorward-gym" in names()


def test_a_file_saved_with_a_hidden_txt_is_named(box: Box) -> None:
    box.write(BASIC, "doorward.toml.txt")
    outcome = box.run()
    assert outcome.code == 2
    assert "doorward.toml.txt: rename it to doorward.toml" in "\n".join(outcome.lines)
    (box.paths.boot / "doorward.toml.txt").rename(box.paths.boot / "doorward.toml")
    assert box.run().code == 0


def test_a_failure_part_way_is_reported_and_retried(
    box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appliance.provision import run

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    box.write(BASIC)
    monkeypatch.setattr(run, "_certificate", broken)
    outcome = box.run()
    assert outcome.code == 1
    assert "could not be applied completely" in outcome.lines[0]
    assert "No space left on device" in outcome.lines[1]
    assert (box.paths.boot / "doorward.toml").exists()  # tried again at the next boot
    assert not (box.paths.data / "doorward.toml").exists()  # the door's config comes last
    monkeypatch.undo()
    assert box.run().code == 0


def test_the_applied_config_runs_a_door(box: Box) -> None:
    """What provisioning leaves is what the controller unit starts: a door that runs, locked."""
    from appliance.testing.box import start_controller_process
    from tests.cli.util import run_process

    box.write(BASIC)
    assert box.run().code == 0
    config = box.paths.data / "doorward.toml"
    proc = start_controller_process(config)
    try:
        status = run_process("--config", str(config), "status", "--json")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["locked"] is True
    finally:
        proc.terminate()
        assert proc.wait(30) == 0
