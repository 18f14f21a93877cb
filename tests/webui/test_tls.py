"""``doorward web --tls``: the self-signed certificate kept in data_dir, and HTTPS for real."""

from __future__ import annotations

import datetime
import hashlib
import http.client
import re
import socket
import ssl
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from appliance.box import tls
from appliance.cli.web import _gunicorn, tls_lines
from appliance.config import Config, load_config
from appliance.store import Store
from appliance.testing.box import write_config
from appliance.testing.mosquitto import free_port
from tests.cli.util import doorward_cmd, start_process


@pytest.fixture
def no_lan(monkeypatch: pytest.MonkeyPatch) -> None:
    """The host's name resolves to one LAN address and Debian's 127.0.1.1."""

    def getaddrinfo(host: str, port: Any, family: int = 0, *rest: Any) -> list[Any]:
        assert host == "door-7" and family == socket.AF_INET
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 0)),
            (socket.AF_INET, socket.SOCK_DGRAM, 17, "", ("10.20.30.40", 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.1.1", 0)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def load(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def sans(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return ext.get_values_for_type(x509.DNSName), [
        str(a) for a in ext.get_values_for_type(x509.IPAddress)
    ]


def test_first_use_makes_a_ten_year_certificate_for_the_box(tmp_path: Path, no_lan: None) -> None:
    files = tls.ensure_certificate(tmp_path, hostname="door-7", extra_addresses=["0.0.0.0"])
    assert files.created and files.replaced is None
    assert files.cert == tmp_path / "tls" / "cert.pem" and files.key == tmp_path / "tls" / "key.pem"
    cert = load(files.cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "door-7"
    assert cert.issuer == cert.subject
    dns, ips = sans(cert)
    assert dns == ["door-7", "localhost"]
    assert ips == ["127.0.0.1", "10.20.30.40"]  # not 127.0.1.1, not 0.0.0.0, no duplicates
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
    days = (cert.not_valid_after_utc - datetime.datetime.now(datetime.UTC)).days
    assert 3649 <= days <= 3650
    assert stat.S_IMODE(files.key.stat().st_mode) == 0o600
    assert stat.S_IMODE(files.cert.parent.stat().st_mode) == 0o700
    expected = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert files.fingerprint.replace(":", "").lower() == expected
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", files.fingerprint)


def test_a_listen_address_joins_the_names(tmp_path: Path, no_lan: None) -> None:
    files = tls.ensure_certificate(
        tmp_path, hostname="door-7", extra_addresses=["192.168.5.9", "school.lan", "10.20.30.40"]
    )
    assert sans(load(files.cert))[1] == ["127.0.0.1", "10.20.30.40", "192.168.5.9"]


@pytest.mark.parametrize("hostname", ["", "dør", "a" * 70, "bad name", "x..y"])
def test_an_odd_hostname_still_gets_a_certificate(tmp_path: Path, hostname: str) -> None:
    files = tls.ensure_certificate(tmp_path, hostname=hostname)
    cert = load(files.cert)
    cn = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    dns, ips = sans(cert)
    assert cn == "doorward" and dns == ["localhost"] and "127.0.0.1" in ips


def test_a_long_hostname_is_a_name_but_not_the_common_name(tmp_path: Path) -> None:
    name = "door-7." + "school-district." * 4 + "example"
    cert = load(tls.ensure_certificate(tmp_path, hostname=name).cert)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "doorward"
    assert sans(cert)[0] == [name, "localhost"]


def test_the_certificate_is_reused_on_later_starts(tmp_path: Path) -> None:
    first = tls.ensure_certificate(tmp_path, hostname="door-7")
    cert, key = first.cert.read_bytes(), first.key.read_bytes()
    first.key.chmod(0o644)  # someone loosened it: tightened again, not replaced
    again = tls.ensure_certificate(tmp_path, hostname="another-name")
    assert not again.created and again.replaced is None
    assert again.fingerprint == first.fingerprint
    assert first.cert.read_bytes() == cert and first.key.read_bytes() == key
    assert stat.S_IMODE(first.key.stat().st_mode) == 0o600


def _other_key(tmp_path: Path) -> bytes:
    return tls.ensure_certificate(tmp_path / "other", hostname="x").key.read_bytes()


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f, t: f.cert.write_text("garbage\n"), "cert.pem is not a PEM certificate"),
        (lambda f, t: f.key.write_bytes(b"\x00\xff" * 40), "key.pem is not an unencrypted PEM"),
        (lambda f, t: f.cert.unlink(), "cert.pem is missing"),
        (lambda f, t: f.key.unlink(), "key.pem is missing"),
        (lambda f, t: f.key.write_bytes(_other_key(t)), "key.pem is not the key of"),
        (lambda f, t: f.cert.write_bytes(b"x" * 70_000), "larger than"),
    ],
)
def test_an_unusable_certificate_is_replaced_and_says_why(
    tmp_path: Path, damage: Any, reason: str
) -> None:
    first = tls.ensure_certificate(tmp_path, hostname="door-7")
    damage(first, tmp_path)
    again = tls.ensure_certificate(tmp_path, hostname="door-7")
    assert again.created and again.replaced is not None and reason in again.replaced
    assert again.fingerprint != first.fingerprint
    tls.load_certificate(again.cert, again.key)  # usable again
    assert stat.S_IMODE(again.key.stat().st_mode) == 0o600
    lines = tls_lines(again)
    assert "could not be used" in lines[0] and reason in lines[0]
    assert lines[-1] == f"TLS certificate SHA-256 fingerprint: {again.fingerprint}"
    assert not list(again.cert.parent.glob(".*"))  # no temporary files left behind


def test_an_expired_certificate_is_refused(tmp_path: Path) -> None:
    files = tls.ensure_certificate(tmp_path, hostname="door-7")
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3700)
    with pytest.raises(tls.CertificateError, match="valid only from"):
        tls.load_certificate(files.cert, files.key, now=later)


def test_what_is_printed_at_start(tmp_path: Path) -> None:
    made = tls.ensure_certificate(tmp_path, hostname="door-7")
    assert any("made a new self-signed TLS certificate" in line for line in tls_lines(made))
    kept = tls.ensure_certificate(tmp_path, hostname="door-7")
    assert tls_lines(kept) == [f"TLS certificate SHA-256 fingerprint: {kept.fingerprint}"]


@pytest.mark.parametrize(("host", "bind"), [("0.0.0.0", "0.0.0.0:8443"), ("::1", "[::1]:8443")])
def test_gunicorn_runs_one_threaded_worker_with_the_certificate(
    tmp_path: Path, host: str, bind: str
) -> None:
    config = load_config(write_config(tmp_path))
    files = tls.ensure_certificate(config.data_dir, hostname="door-7")
    cfg = _gunicorn(lambda: None, files, host, 8443).cfg
    assert cfg.bind == [bind] and cfg.workers == 1 and cfg.threads == 8
    assert cfg.worker_class_str == "gthread" and cfg.is_ssl
    assert cfg.certfile == str(files.cert) and cfg.keyfile == str(files.key)


@pytest.fixture
def box(tmp_path: Path) -> tuple[Path, Config]:
    """A box after ``doorward init``, with an admin account so /login shows its form."""
    toml = write_config(tmp_path)
    subprocess.run(
        doorward_cmd("--config", str(toml), "init"), capture_output=True, timeout=60, check=True
    )
    config = load_config(toml)
    with Store(config.db_path) as store:
        hashed = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1).hash("pw-pw-pw-pw")
        store.users.add("admin", hashed, "admin", actor="test", first=True)
    return toml, config


def test_web_tls_serves_https_with_secure_cookies(box: tuple[Path, Config]) -> None:
    toml, config = box
    port = free_port()
    # readiness from gunicorn's own log, no polling
    args = ("--config", str(toml), "web", "--tls", "--port", str(port))
    proc, out = start_process(*args, ready="Listening at: https://")
    try:
        cert = config.data_dir / "tls" / "cert.pem"
        assert f"admin page at https://127.0.0.1:{port}/" in out
        printed = re.search(r"SHA-256 fingerprint: (\S+)", out)
        assert printed, out
        context = ssl.create_default_context(cafile=str(cert))
        context.verify_flags |= ssl.VERIFY_X509_STRICT  # what newer Pythons check by default
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10)
        conn.sock = context.wrap_socket(raw, server_hostname="localhost")
        der = conn.sock.getpeercert(binary_form=True)
        assert der is not None
        assert hashlib.sha256(der).hexdigest() == printed.group(1).replace(":", "").lower()
        conn.request("GET", "/login")
        response = conn.getresponse()
        assert response.status == 200 and b"csrf_token" in response.read()
        cookie = response.getheader("Set-Cookie") or ""
        attributes = [a.strip().lower() for a in cookie.split(";")]
        assert cookie.startswith("doorward_session=") and "secure" in attributes
        assert "httponly" in attributes and "samesite=lax" in attributes
        conn.close()
        assert stat.S_IMODE((cert.parent / "key.pem").stat().st_mode) == 0o600
    finally:
        proc.terminate()
        code = proc.wait(30)
    assert code == 0
