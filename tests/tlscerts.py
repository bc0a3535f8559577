"""Certificates for TLS tests, made with `cryptography`: a CA, a server certificate for
127.0.0.1 and localhost, client certificates, and a second CA nobody trusts."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM files."""

    cert: Path
    key: Path


@dataclass(frozen=True)
class Pki:
    """Everything a TLS test needs."""

    ca: Path
    server: Issued
    alice: Issued  # CN=alice,O=Acme
    bob: Issued  # CN=bob,O=Acme
    stranger: Issued  # CN=alice,O=Acme, issued by a CA the server does not trust


def name(*attributes: x509.NameAttribute) -> x509.Name:
    """A name from attributes, most general first (as they are encoded)."""
    return x509.Name(list(attributes))


def _key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())


def certificate(
    subject: x509.Name,
    key: Key,
    issuer: x509.Name,
    issuer_key: Key,
    *,
    ca: bool = False,
    server: bool = False,
) -> x509.Certificate:
    """A certificate for `subject` signed by `issuer_key`, valid from a day ago for a year."""
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
        )
    elif server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    else:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def write(
    directory: Path, stem: str, cert: x509.Certificate, key: Key, password: bytes | None = None
) -> Issued:
    """The certificate and key as `stem.pem` and `stem-key.pem` (encrypted with `password`)."""
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    return Issued(cert_path, key_path)


def client(
    directory: Path, stem: str, subject: x509.Name, issuer: x509.Name, issuer_key: Key
) -> Issued:
    """A client certificate for `subject`."""
    key = _key()
    return write(directory, stem, certificate(subject, key, issuer, issuer_key), key)


def make_pki(directory: Path) -> Pki:
    """A fresh PKI in `directory`."""
    ca_key, other_key = _key(), _key()
    ca_name = name(x509.NameAttribute(NameOID.COMMON_NAME, "streamgov test CA"))
    other_name = name(x509.NameAttribute(NameOID.COMMON_NAME, "another CA"))
    ca = certificate(ca_name, ca_key, ca_name, ca_key, ca=True)
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server_key = _key()
    server_cert = certificate(
        name(x509.NameAttribute(NameOID.COMMON_NAME, "localhost")),
        server_key,
        ca_name,
        ca_key,
        server=True,
    )

    def person(common_name: str) -> x509.Name:
        return name(
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        )

    return Pki(
        ca=directory / "ca.pem",
        server=write(directory, "server", server_cert, server_key),
        alice=client(directory, "alice", person("alice"), ca_name, ca_key),
        bob=client(directory, "bob", person("bob"), ca_name, ca_key),
        stranger=client(directory, "stranger", person("alice"), other_name, other_key),
    )
