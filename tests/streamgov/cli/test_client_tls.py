"""Commands and the TUI client reach an https `streamgov up --auth --tls-ca` that requires
client certificates, trusting `STREAMGOV_TLS_CA` and presenting `STREAMGOV_TLS_CERT` /
`STREAMGOV_TLS_KEY`: the certificate's subject is the principal ACLs decide for; a file that
cannot be used is one line naming its variable and path; the key's password never shows."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from httpapi.tls import ClientCertificate, ClientTlsError, client_context
from registry.client import RegistryClient, RegistryClientError
from streamgov.access import ServerAccess
from streamgov.cli import cli
from streamgov.config import ConfigError
from tests.acl.test_tls_rest import AVRO
from tests.brokers import free_port
from tests.registry.registry_server import start_up, stop
from tests.tlscerts import Issued, Pki, make_pki, write
from tui.client import ApiError, Credentials, ServerUnreachableError, StreamgovClient

PASSWORD = "key pass phrase"


@dataclass
class Server:
    """The https server, its PKI and alice's certificate with an encrypted key (PASSWORD)."""

    url: str
    pki: Pki
    locked: Issued


def _encrypted(pki: Pki, directory: Path) -> Issued:
    cert = x509.load_pem_x509_certificate(pki.alice.cert.read_bytes())
    key = serialization.load_pem_private_key(pki.alice.key.read_bytes(), None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return write(directory, "alice-locked", cert, key, password=PASSWORD.encode())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("client-tls")
    pki = make_pki(home)
    added = CliRunner().invoke(
        cli,
        ["acl", "add", "--allow-principal", "User:CN=alice,O=Acme", "--operation", "All",
         "--subject", "orders-", "--resource-pattern-type", "prefixed"],
        env={"STREAMGOV_HOME": str(home)},
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    port = free_port()
    alice = client_context(pki.ca, ClientCertificate(*_pair(pki.alice)))
    tls = ["--tls-cert", str(pki.server.cert), "--tls-key", str(pki.server.key)]
    proc = start_up(home, port, "--auth", *tls, "--tls-ca", str(pki.ca), verify=alice)
    try:
        yield Server(f"https://127.0.0.1:{port}", pki, _encrypted(pki, home))
    finally:
        stop(proc)


def _pair(who: Issued) -> tuple[Path, Path]:
    return who.cert, who.key


def tls_env(server: Server, who: Issued | None, **extra: str) -> dict[str, str]:
    env = {"STREAMGOV_URL": server.url, "STREAMGOV_TLS_CA": str(server.pki.ca)}
    if who is not None:
        env |= {"STREAMGOV_TLS_CERT": str(who.cert), "STREAMGOV_TLS_KEY": str(who.key)}
    return env | extra


def run(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    clean = {name: None for name in os.environ if name.startswith("STREAMGOV_")}
    return CliRunner().invoke(cli, list(args), env={**clean, **env}, input=stdin)


def test_a_command_authenticates_as_the_certificates_subject(server: Server) -> None:
    alice = tls_env(server, server.pki.alice)
    registered = run(alice, "registry", "register", "orders-value", "-", stdin=AVRO)
    assert registered.exit_code == 0, registered.output
    listed = run(alice, "registry", "subjects")
    assert listed.exit_code == 0, listed.output
    assert "orders-value" in listed.output.split()

    refused = run(tls_env(server, server.pki.bob), "registry", "register", "orders-value", "-",
                  stdin=AVRO)  # fmt: skip
    assert refused.exit_code == 1
    assert "User:CN=bob,O=Acme may not WRITE SUBJECT orders-value" in refused.output
    assert "Traceback" not in refused.output


def test_an_encrypted_key_reads_its_password_from_the_environment_or_a_file(
    server: Server, tmp_path: Path
) -> None:
    locked = tls_env(server, server.locked)
    by_value = run(locked | {"STREAMGOV_TLS_KEY_PASSWORD": PASSWORD}, "registry", "subjects")
    assert by_value.exit_code == 0, by_value.output
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    by_file = run(locked | {"STREAMGOV_TLS_KEY_PASSWORD_FILE": str(secret)}, "registry", "subjects")
    assert by_file.exit_code == 0, by_file.output
    wrong = run(locked | {"STREAMGOV_TLS_KEY_PASSWORD": "not it"}, "registry", "subjects")
    assert wrong.exit_code == 1
    assert wrong.output.strip() == (
        f"Error: STREAMGOV_TLS_KEY: cannot decrypt the TLS private key {server.locked.key}: "
        "wrong or missing password"
    )
    access = ServerAccess.from_env(env=locked | {"STREAMGOV_TLS_KEY_PASSWORD": PASSWORD})
    assert PASSWORD not in repr(access) and PASSWORD not in str(access)


def test_without_a_certificate_or_a_trusted_ca_nothing_is_served(server: Server) -> None:
    none = run(tls_env(server, None), "registry", "subjects")
    stranger = run(tls_env(server, server.pki.stranger), "registry", "subjects")
    untrusted = run(
        {"STREAMGOV_URL": server.url, "STREAMGOV_TLS_CERT": str(server.pki.alice.cert),
         "STREAMGOV_TLS_KEY": str(server.pki.alice.key)},
        "registry", "subjects",
    )  # fmt: skip
    for result in (none, stranger, untrusted):
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and len(result.output.splitlines()) == 1
    for refused in (none, stranger):  # the server hung up on the certificate
        assert "requires a client certificate" in refused.output
    assert "CERTIFICATE_VERIFY_FAILED" in untrusted.output  # we did not trust the server


def test_check_against_the_registry_presents_the_certificate(
    server: Server, tmp_path: Path
) -> None:
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "orders-value.avsc").write_text(AVRO)
    alice = tls_env(server, server.pki.alice)
    assert run(alice, "registry", "register", "orders-value", "-", stdin=AVRO).exit_code == 0
    old_cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        checked = run(alice, "check", "--against", "registry:")
        refused = run(tls_env(server, None), "check", "--against", "registry:")
    finally:
        os.chdir(old_cwd)
    assert checked.exit_code == 0, checked.output
    assert refused.exit_code == 2 and "Traceback" not in refused.output


def test_registry_client_alone_takes_verify_and_cert(server: Server) -> None:
    pki = server.pki
    alice, bob = ClientCertificate(*_pair(pki.alice)), ClientCertificate(*_pair(pki.bob))
    with RegistryClient(server.url, verify=pki.ca, cert=alice) as ok:
        assert ok.register("orders-client-value", AVRO) > 0
        assert "orders-client-value" in ok.subjects()
    with (
        RegistryClient(server.url, verify=pki.ca, cert=bob) as refusing,
        pytest.raises(RegistryClientError) as refused,
    ):
        refusing.register("orders-client-value", AVRO)
    assert refused.value.status == 403
    with pytest.raises(ClientTlsError, match="does not match"):
        RegistryClient(
            server.url, verify=pki.ca, cert=ClientCertificate(pki.alice.cert, pki.bob.key)
        )
    with (
        RegistryClient(server.url, verify=True, cert=alice) as untrusting,  # no private CA
        pytest.raises(RegistryClientError) as unverified,
    ):
        untrusting.subjects()
    assert unverified.value.status == 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_tui_client_presents_the_certificate(server: Server) -> None:
    alice = ServerAccess.from_env(env=tls_env(server, server.pki.alice))
    client = StreamgovClient(server.url, Credentials(), verify=alice.verify())
    try:
        await client.set_compatibility_level("orders-tui-value", "FULL")
        assert await client.compatibility_level("orders-tui-value") == "FULL"
    finally:
        await client.close()
    bob = ServerAccess.from_env(env=tls_env(server, server.pki.bob))
    client = StreamgovClient(server.url, Credentials(), verify=bob.verify())
    try:
        with pytest.raises(ApiError) as refused:
            await client.set_compatibility_level("orders-tui-value", "NONE")
        assert refused.value.status == 403
        assert "User:CN=bob,O=Acme" in refused.value.message
    finally:
        await client.close()
    anonymous = ServerAccess.from_env(env=tls_env(server, None))
    client = StreamgovClient(server.url, Credentials(), verify=anonymous.verify())
    try:
        with pytest.raises(ServerUnreachableError, match="requires a client certificate"):
            await client.subjects()
    finally:
        await client.close()


def _env_error(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as error:
        ServerAccess.from_env(env=env)
    return str(error.value)


def test_files_that_cannot_be_used_name_their_variable_and_path(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    missing = tmp_path / "missing.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    pair = {"STREAMGOV_TLS_CERT": str(pki.alice.cert), "STREAMGOV_TLS_KEY": str(pki.alice.key)}
    cases = {
        "STREAMGOV_TLS_CA": ({"STREAMGOV_TLS_CA": str(missing)}, str(missing)),
        "STREAMGOV_TLS_CA ": ({"STREAMGOV_TLS_CA": str(garbage)}, "holds no PEM certificate"),
        "STREAMGOV_TLS_CERT": (pair | {"STREAMGOV_TLS_CERT": str(missing)}, str(missing)),
        "STREAMGOV_TLS_CERT ": (pair | {"STREAMGOV_TLS_CERT": str(garbage)}, str(garbage)),
        "STREAMGOV_TLS_KEY": (pair | {"STREAMGOV_TLS_KEY": str(missing)}, str(missing)),
        "STREAMGOV_TLS_KEY ": (pair | {"STREAMGOV_TLS_KEY": str(garbage)}, str(garbage)),
        "STREAMGOV_TLS_KEY  ": (
            pair | {"STREAMGOV_TLS_KEY": str(pki.bob.key)},
            f"the TLS private key {pki.bob.key} does not match the certificate {pki.alice.cert}",
        ),
        "STREAMGOV_TLS_KEY_PASSWORD_FILE": (
            pair | {"STREAMGOV_TLS_KEY_PASSWORD_FILE": str(missing)},
            str(missing),
        ),
    }
    for variable, (env, needle) in cases.items():
        said = _env_error(env)
        assert variable.strip() in said.split(":")[0], said
        assert needle in said and "\n" not in said, said
    only_cert = _env_error({"STREAMGOV_TLS_CERT": str(pki.alice.cert)})
    assert only_cert == (
        "STREAMGOV_TLS_CERT is set but STREAMGOV_TLS_KEY is not: a client certificate needs both"
    )
    result = run({"STREAMGOV_TLS_KEY": str(pki.alice.key)}, "registry", "subjects")
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: STREAMGOV_TLS_KEY is set but STREAMGOV_TLS_CERT is not: a client certificate "
        "needs both"
    )


def test_without_tls_variables_httpx_default_trust_is_kept() -> None:
    assert ServerAccess.from_env(env={}).verify() is True


@pytest.mark.anyio
async def test_the_tui_knows_the_user_by_the_certificate_without_a_login(server: Server) -> None:
    from tests.tui.test_app import rows, until
    from tui.app import StreamgovApp
    from tui.screens.schemas import SchemasScreen

    alice = ServerAccess.from_env(env=tls_env(server, server.pki.alice))
    await _register_as(alice, server.url)
    client = StreamgovClient(server.url, Credentials(), verify=alice.verify())
    app = StreamgovApp(client, refresh_seconds=60, start="schemas")
    async with app.run_test(size=(110, 30)) as pilot:
        await until(pilot, lambda: app.permissions.principal is not None)
        assert app.permissions.principal == "User:CN=alice,O=Acme"
        await until(pilot, lambda: isinstance(app.screen, SchemasScreen) and bool(rows(app.screen)))
        assert "orders-pilot-value" in [row[0] for row in rows(app.screen)]
        assert not app._notifications  # no login dialog, no error


async def _register_as(access: ServerAccess, url: str) -> None:
    """A subject alice may see, registered as her."""
    client = StreamgovClient(url, Credentials(), verify=access.verify())
    try:
        await client.request(
            "POST",
            "/subjects/orders-pilot-value/versions",
            json={"schema": AVRO},
            content_type="application/vnd.schemaregistry.v1+json",
        )
    finally:
        await client.close()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_streamgov_tui_reads_the_tls_variables(server: Server, tmp_path: Path) -> None:
    from tests.streamgov.test_cli_tui import run_in_terminal

    alice = tls_env(server, server.pki.alice)
    asyncio.run(_register_as(ServerAccess.from_env(env=alice), server.url))
    code, text = run_in_terminal(
        ["--screen", "schemas"], tmp_path, alice, shown="orders-pilot-value"
    )
    assert code == 0 and "Traceback" not in text
    refused = run({"STREAMGOV_TLS_CA": str(tmp_path / "nope.pem")}, "tui", "--url", server.url)
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: STREAMGOV_TLS_CA: cannot read the TLS CA file ")
    assert len(refused.output.splitlines()) == 1
