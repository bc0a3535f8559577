"""`streamgov up --tls-*`: one clear line and a non-zero exit for every file that cannot be
used (naming it) and for options that need others; the key's password never printed; a real
`up` over TLS says https and the Kafka security protocol, and serves both."""

from __future__ import annotations

import os
import ssl
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from confluent_kafka.admin import AdminClient
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from streamgov.cli import cli
from streamgov.cli.tlsoptions import KEY_PASSWORD_ENV
from tests.brokers import free_port
from tests.registry.registry_server import STREAMGOV, read_banner, stop, wait_ready
from tests.tlscerts import Pki, make_pki, write

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("up-tls"))


def up(home: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    environment = {"STREAMGOV_HOME": str(home), **(env or {})}
    return CliRunner().invoke(
        cli, ["up", "--no-kafka", "--port", str(free_port()), *args], env=environment
    )


def fails(result: Result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    last = result.output.strip().splitlines()[-1]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in last, result.output
    return result.output


BAD_FILES = [
    # (what --tls-cert, --tls-key and --tls-ca are: a pki file, "missing" or "junk"; message)
    (("missing", "server.key", None), "cannot read the TLS certificate {missing}"),
    (("server.cert", "missing", None), "cannot read the TLS private key {missing}"),
    (("server.cert", "server.key", "missing"), "cannot read the TLS CA file {missing}"),
    (("junk", "server.key", None), "the TLS certificate {junk} holds no PEM certificate"),
    (("server.cert", "junk", None), "the TLS private key {junk} holds no usable PEM private key"),
    (("server.cert", "server.key", "junk"), "the TLS CA file {junk} holds no PEM certificate"),
    (
        ("server.cert", "alice.key", None),
        "the TLS private key {alice.key} does not match the certificate {server.cert}",
    ),
]


@pytest.mark.parametrize(("files", "message"), BAD_FILES)
def test_a_file_that_cannot_be_used_is_named(
    pki: Pki, tmp_path: Path, files: tuple[str, str, str | None], message: str
) -> None:
    junk = tmp_path / "junk.pem"
    junk.write_text("not PEM at all\n")
    paths = {
        "missing": str(tmp_path / "nope.pem"),
        "junk": str(junk),
        "server.cert": str(pki.server.cert),
        "server.key": str(pki.server.key),
        "alice.key": str(pki.alice.key),
    }
    cert, key, ca = files
    args = ["--tls-cert", paths[cert], "--tls-key", paths[key]]
    args += ["--tls-ca", paths[ca]] if ca is not None else []
    fails(
        up(tmp_path, *args), message.format_map({**paths, "alice": pki.alice, "server": pki.server})
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tls-ca", "ca.pem"], "--tls-ca needs both --tls-cert and --tls-key"),
        (["--tls-cert", "c.pem"], "--tls-cert needs both --tls-cert and --tls-key"),
        (["--tls-key", "k.pem"], "--tls-key needs both --tls-cert and --tls-key"),
    ],
)
def test_options_that_need_others(tmp_path: Path, args: list[str], message: str) -> None:
    fails(up(tmp_path, *args), message)


def test_client_auth_and_mapping_need_a_ca(pki: Pki, tmp_path: Path) -> None:
    args = ["--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key)]
    fails(up(tmp_path, *args, "--tls-client-auth", "requested"), "--tls-client-auth needs --tls-ca")
    fails(up(tmp_path, *args, "--tls-principal-mapping", "DEFAULT"),
          "--tls-principal-mapping needs --tls-ca")  # fmt: skip
    fails(up(tmp_path, *args, "--tls-ca", str(pki.ca), "--tls-principal-mapping", "RULE:x"),
          "invalid principal mapping rule: 'RULE:x'")  # fmt: skip


def test_an_encrypted_key_needs_its_password_which_is_never_shown(pki: Pki, tmp_path: Path) -> None:
    locked = write(tmp_path, "locked", *_loaded(pki), password=PASSWORD.encode())
    args = ["--tls-cert", str(locked.cert), "--tls-key", str(locked.key)]
    output = fails(up(tmp_path, *args), f"cannot decrypt the TLS private key {locked.key}")
    wrong = fails(up(tmp_path, *args, env={KEY_PASSWORD_ENV: "wrong " + PASSWORD}), "decrypt")
    password_file = tmp_path / "password"
    password_file.write_text("also " + PASSWORD + "\n")
    by_file = fails(up(tmp_path, *args, "--tls-key-password-file", str(password_file)), "decrypt")
    for text in (output, wrong, by_file):
        assert PASSWORD not in text


def test_non_loopback_needs_auth_even_with_client_certificates(pki: Pki, tmp_path: Path) -> None:
    args = ["--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key)]
    result = up(tmp_path, "--host", "0.0.0.0", *args, "--tls-ca", str(pki.ca))
    fails(result, "without authentication")


def test_a_real_up_over_tls_serves_https_and_ssl(pki: Pki, tmp_path: Path) -> None:
    port, kafka_port = free_port(), free_port()
    locked = write(tmp_path, "server", *_loaded(pki), password=PASSWORD.encode())
    environment = {**os.environ, "STREAMGOV_HOME": str(tmp_path), KEY_PASSWORD_ENV: PASSWORD}
    environment.pop("STREAMGOV_BOOTSTRAP", None)
    proc = subprocess.Popen(
        [*STREAMGOV, "up", "--port", str(port), "--kafka-port", str(kafka_port), "--auth",
         "--super-user", "User:CN=alice,O=Acme", "--tls-cert", str(locked.cert),
         "--tls-key", str(locked.key), "--tls-ca", str(pki.ca)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        seen = read_banner(proc)
        url = f"https://127.0.0.1:{port}"
        assert f"  REST API and schema registry: {url}" in seen
        assert (
            f"  Kafka bootstrap: 127.0.0.1:{kafka_port} (security.protocol=SSL with a client "
            "certificate, or SASL_SSL)" in seen
        )
        assert not any(PASSWORD in line for line in seen)
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(pki.alice.cert, pki.alice.key)
        wait_ready(url, proc, verify=context)
        admin = AdminClient(
            {
                "bootstrap.servers": f"127.0.0.1:{kafka_port}",
                "security.protocol": "SSL",
                "ssl.ca.location": str(pki.ca),
                "ssl.certificate.location": str(pki.alice.cert),
                "ssl.key.location": str(pki.alice.key),
            }
        )
        assert "_schemas" in admin.list_topics(timeout=15).topics  # alice is a super user
    finally:
        stop(proc)


def _loaded(pki: Pki) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(pki.server.cert.read_bytes())
    key = serialization.load_pem_private_key(pki.server.key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return cert, key
