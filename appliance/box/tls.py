"""The admin page's TLS certificate: self-signed, made on first use, kept in ``data_dir/tls``.

The box has no internet and no CA, so it makes its own certificate once and keeps it: an admin
checks the SHA-256 fingerprint printed at start against the browser's, and trusts it once.
"""

from __future__ import annotations

import datetime
import ipaddress
import logging
import os
import socket
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from appliance.files import write_atomic

LOG = logging.getLogger(__name__)
TLS_DIR = "tls"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
VALID_DAYS = 3650
MAX_PEM_BYTES = 64 * 1024  # a P-256 certificate is about 1 KB: anything this big is not ours
_CN_MAX = 64  # X.509's limit on a common name
_FALLBACK_NAME = "doorward"
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class TlsFiles:
    """The certificate and key to serve, and what happened to them at this start."""

    cert: Path
    key: Path
    fingerprint: str  # SHA-256 of the certificate, colon-separated hex, as browsers show it
    created: bool  # made at this start (browsers will ask to trust it)
    replaced: str | None = None  # why an existing certificate was replaced, if it was


class CertificateError(Exception):
    """The stored certificate or key cannot be used (the reason is the message)."""


def local_ipv4_addresses(hostname: str) -> list[ipaddress.IPv4Address]:
    """This host's non-loopback IPv4 addresses that its own name resolves to (no network used)."""
    try:
        infos = socket.getaddrinfo(hostname, None, socket.AF_INET)
    except (OSError, UnicodeError):  # an unresolvable name is normal on an isolated box
        return []
    found: list[ipaddress.IPv4Address] = []
    for info in infos:
        try:
            address = ipaddress.IPv4Address(info[4][0])
        except ValueError:
            continue
        if not address.is_loopback and not address.is_unspecified and address not in found:
            found.append(address)
    return found


def _dns_name(hostname: str) -> str | None:
    """``hostname`` if it can go into a certificate as a DNS name."""
    labels = hostname.split(".")
    ok = (
        0 < len(hostname) <= 253
        and hostname.isascii()
        and all(0 < len(label) <= 63 for label in labels)
        and all(c.isalnum() or c == "-" for label in labels for c in label)
    )
    return hostname.lower() if ok else None


def _addresses(hostname: str, extra: Iterable[str]) -> list[Address]:
    found: list[Address] = [ipaddress.IPv4Address("127.0.0.1")]
    found += [a for a in local_ipv4_addresses(hostname) if a not in found]
    for text in extra:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue  # a name, not an address: the DNS names cover what the box can know
        if not address.is_unspecified and address not in found:
            found.append(address)
    return found


def key_usage(*, ca: bool = False) -> x509.KeyUsage:
    """A certificate's key usage: signatures, and a CA's (``ca``) also certificates and CRLs."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def make_certificate(
    hostname: str, addresses: Iterable[Address], *, now: datetime.datetime | None = None
) -> tuple[bytes, bytes]:
    """A new self-signed ECDSA P-256 certificate and key for ``hostname`` (PEM cert, PEM key)."""
    name = _dns_name(hostname)
    common_name = name if name and len(name) <= _CN_MAX else _FALLBACK_NAME
    dns = [name] if name else []
    dns += [d for d in ("localhost",) if d not in dns]
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    start = (now or datetime.datetime.now(datetime.UTC)) - datetime.timedelta(days=1)
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
    sans += [x509.IPAddress(a) for a in addresses]
    public = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)  # a day early: the box's clock may lag the browser's
        .not_valid_after(start + datetime.timedelta(days=VALID_DAYS + 1))
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def fingerprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-256 fingerprint as browsers show it (``AB:CD:...``)."""
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _read_pem(path: Path) -> bytes:
    with open(path, "rb") as f:
        data = f.read(MAX_PEM_BYTES + 1)
    if len(data) > MAX_PEM_BYTES:
        raise CertificateError(f"{path} is larger than {MAX_PEM_BYTES} bytes")
    return data


def load_certificate(
    cert_path: Path, key_path: Path, *, now: datetime.datetime | None = None
) -> x509.Certificate:
    """The stored certificate, checked: readable, its key matches, and it is in date."""
    try:
        cert = x509.load_pem_x509_certificate(_read_pem(cert_path))
    except FileNotFoundError:
        raise CertificateError(f"{cert_path} is missing") from None
    except (OSError, ValueError) as exc:
        raise CertificateError(f"{cert_path} is not a PEM certificate ({exc})") from None
    try:
        key = serialization.load_pem_private_key(_read_pem(key_path), password=None)
    except FileNotFoundError:
        raise CertificateError(f"{key_path} is missing") from None
    except (OSError, ValueError, TypeError) as exc:
        raise CertificateError(f"{key_path} is not an unencrypted PEM key ({exc})") from None
    if key.public_key() != cert.public_key():
        raise CertificateError(f"{key_path} is not the key of {cert_path}")
    moment = now or datetime.datetime.now(datetime.UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise CertificateError(
            f"{cert_path} is valid only from {cert.not_valid_before_utc:%Y-%m-%d} "
            f"to {cert.not_valid_after_utc:%Y-%m-%d}"
        )
    return cert


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if stat.S_IMODE(path.stat().st_mode) != 0o700:
        os.chmod(path, 0o700)


def ensure_certificate(
    data_dir: Path, *, hostname: str | None = None, extra_addresses: Iterable[str] = ()
) -> TlsFiles:
    """The box's certificate in ``data_dir/tls``: reused if usable, else made anew.

    ``extra_addresses`` (e.g. the address given to ``--host``) go into a new certificate's
    SubjectAltName beside 127.0.0.1 and the host's own IPv4 addresses.
    """
    folder = Path(data_dir) / TLS_DIR
    _private_dir(folder)
    cert_path, key_path = folder / CERT_FILE, folder / KEY_FILE
    replaced: str | None = None
    if cert_path.exists() or key_path.exists():
        try:
            cert = load_certificate(cert_path, key_path)
        except CertificateError as exc:
            replaced = str(exc)
            LOG.warning("the TLS certificate cannot be used: %s; making a new one", exc)
        else:
            if stat.S_IMODE(key_path.stat().st_mode) != 0o600:
                os.chmod(key_path, 0o600)  # the key is a secret: only the service user reads it
            return TlsFiles(cert_path, key_path, fingerprint(cert), created=False)
    host = hostname if hostname is not None else socket.gethostname()
    cert_pem, key_pem = make_certificate(host, _addresses(host, extra_addresses))
    # The key first: a certificate without its key would be replaced again at the next start.
    write_atomic(key_path, key_pem, 0o600)
    write_atomic(cert_path, cert_pem, 0o644)
    cert = x509.load_pem_x509_certificate(cert_pem)
    LOG.info("made a TLS certificate for %s in %s", host, folder)
    return TlsFiles(cert_path, key_path, fingerprint(cert), created=True, replaced=replaced)


def certificate_names(cert_path: Path) -> list[str]:
    """The DNS names a PEM certificate on disk is made for; none if it is missing or unreadable."""
    try:
        cert = x509.load_pem_x509_certificate(_read_pem(cert_path))
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, CertificateError, x509.ExtensionNotFound):
        return []
    return list(names.get_values_for_type(x509.DNSName))
