"""`client_context` / `client_verify`: the one way every streamgov HTTP client turns a CA
bundle and a client certificate into httpx's `verify`, checked against a real TLS handshake
in memory (no sockets): the CA is trusted, the certificate reaches the server, and each kind
of unusable file is named."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from httpapi.tls import (
    ClientCertificate,
    ClientTlsError,
    TlsSettings,
    client_context,
    client_verify,
    server_context,
)
from tests.tlscerts import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("client-context"))


def handshake(client: ssl.SSLContext, server: ssl.SSLContext) -> bytes | None:
    """Run a TLS handshake between the two contexts over memory BIOs; the client certificate
    the server received (DER), or None. Raises `ssl.SSLError` when either side refuses."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    left = client.wrap_bio(c_in, c_out, server_hostname="localhost")
    right = server.wrap_bio(s_in, s_out, server_side=True)
    done = {"c": False, "s": False}
    for _ in range(20):
        for key, side in (("c", left), ("s", right)):
            if not done[key]:
                try:
                    side.do_handshake()
                    done[key] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            break
    assert all(done.values()), "the handshake did not finish"
    return right.getpeercert(binary_form=True)


def test_the_ca_is_trusted_and_the_certificate_presented(pki: Pki) -> None:
    server = server_context(TlsSettings(pki.server.cert, pki.server.key, pki.ca, "requested"))
    alice = client_context(pki.ca, ClientCertificate(pki.alice.cert, pki.alice.key))
    seen = handshake(alice, server)
    assert seen is not None
    assert ssl.DER_cert_to_PEM_cert(seen).strip() == pki.alice.cert.read_text().strip()
    assert handshake(client_context(pki.ca), server) is None  # no certificate: none sent


def test_without_the_ca_the_server_is_not_trusted(pki: Pki) -> None:
    server = server_context(TlsSettings(pki.server.cert, pki.server.key))
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(client_context(None, ClientCertificate(pki.alice.cert, pki.alice.key)), server)


def test_client_verify_takes_what_httpx_would(pki: Pki) -> None:
    assert client_verify(True) is True and client_verify(False) is False
    given = ssl.create_default_context()
    assert client_verify(given) is given
    with pytest.raises(ValueError, match="in the SSL context"):
        client_verify(given, ClientCertificate(pki.alice.cert, pki.alice.key))
    by_path = client_verify(str(pki.ca))
    assert isinstance(by_path, ssl.SSLContext) and by_path.verify_mode == ssl.CERT_REQUIRED
    unverified = client_verify(False, ClientCertificate(pki.alice.cert, pki.alice.key))
    assert isinstance(unverified, ssl.SSLContext)
    assert unverified.verify_mode == ssl.CERT_NONE and not unverified.check_hostname
    assert by_path.minimum_version == ssl.TLSVersion.TLSv1_2


def test_each_unusable_file_is_named_with_what_it_is(pki: Pki, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN NOTHING-----\n")
    missing = tmp_path / "missing.pem"
    cases = [
        (lambda: client_context(missing), "ca", f"cannot read the TLS CA file {missing}"),
        (lambda: client_context(garbage), "ca", f"the TLS CA file {garbage} holds no PEM"),
        (
            lambda: client_context(None, ClientCertificate(missing, pki.alice.key)),
            "cert",
            f"cannot read the TLS certificate {missing}",
        ),
        (
            lambda: client_context(None, ClientCertificate(garbage, pki.alice.key)),
            "cert",
            f"the TLS certificate {garbage} holds no PEM certificate",
        ),
        (
            lambda: client_context(None, ClientCertificate(pki.alice.cert, garbage)),
            "key",
            f"the TLS private key {garbage} holds no usable PEM private key",
        ),
        (
            lambda: client_context(None, ClientCertificate(pki.alice.cert, pki.bob.key)),
            "key",
            f"the TLS private key {pki.bob.key} does not match the certificate {pki.alice.cert}",
        ),
    ]
    for make, which, message in cases:
        with pytest.raises(ClientTlsError) as error:
            make()
        assert error.value.which == which
        assert str(error.value).startswith(message), str(error.value)
