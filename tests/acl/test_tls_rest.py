"""REST over TLS with `--auth`: the real confluent-kafka SchemaRegistryClient over https
(`ssl.ca.location`), authenticated by a client certificate (`ssl.certificate.location`,
`ssl.key.location`) as its subject's principal or by HTTP Basic as before; no certificate when
one is required is refused in the handshake, and a requested one that is missing is a 401."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from httpapi.tls import TlsSettings
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.tlscerts import Issued, Pki, make_pki

AVRO = json.dumps({"type": "record", "name": "Order", "fields": [{"name": "a", "type": "int"}]})
ALICE = "User:CN=alice,O=Acme"


@dataclass
class Server:
    url: str
    pki: Pki


@contextmanager
def serve(directory: Path, client_auth: str, rules: str | None = None) -> Iterator[Server]:
    pki = make_pki(directory)
    cluster = EmbeddedCluster(directory / "data", name="tls")
    setup = AccessControl(cluster).start()
    setup.add_user("carol", "carol-pw")
    setup.add(
        [
            Acl(ResourceType.SUBJECT, "orders-", PatternType.PREFIXED, principal, "*",
                Operation.ALL, Permission.ALLOW)
            for principal in (ALICE, "User:carol", "User:alice")
        ]
    )  # fmt: skip
    setup.close()
    tls = TlsSettings(pki.server.cert, pki.server.key, pki.ca, client_auth, rules)
    app = create_app(cluster, ServerSettings(auth=True, tls=tls))
    try:
        with serve_in_thread(app, tls=tls) as url:
            yield Server(url, pki)
    finally:
        app.state.services.close()
        cluster.close()


@pytest.fixture(scope="module")
def required(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("tls-rest-required"), "required") as server:
        yield server


@pytest.fixture(scope="module")
def requested(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(tmp_path_factory.mktemp("tls-rest-requested"), "requested") as server:
        yield server


def registry(server: Server, who: Issued | None, **extra: str) -> SchemaRegistryClient:
    conf: dict[str, Any] = {"url": server.url, "ssl.ca.location": str(server.pki.ca)}
    if who is not None:
        conf |= {"ssl.certificate.location": str(who.cert), "ssl.key.location": str(who.key)}
    return SchemaRegistryClient(conf | extra)


def test_a_client_certificate_authenticates_the_registry_client(required: Server) -> None:
    assert required.url.startswith("https://")
    alice = registry(required, required.pki.alice)
    schema_id = alice.register_schema("orders-value", Schema(AVRO, "AVRO"))
    assert alice.get_latest_version("orders-value").schema_id == schema_id
    with pytest.raises(SchemaRegistryError) as refused:
        alice.register_schema("payments-value", Schema(AVRO, "AVRO"))
    assert refused.value.http_status_code == 403
    assert refused.value.error_message == f"{ALICE} may not WRITE SUBJECT payments-value"


def test_basic_auth_still_works_over_tls_and_wins_over_the_certificate(required: Server) -> None:
    # bob's certificate opens the connection; the Basic credentials say who is asking
    carol = registry(required, required.pki.bob, **{"basic.auth.user.info": "carol:carol-pw"})
    carol.register_schema("orders-key", Schema(AVRO, "AVRO"))
    wrong = registry(required, required.pki.alice, **{"basic.auth.user.info": "carol:nope"})
    with pytest.raises(SchemaRegistryError) as refused:
        wrong.get_subjects()
    assert refused.value.http_status_code == 401  # a certificate does not make up for it


@pytest.mark.parametrize("who", ["nobody", "stranger"])
def test_without_a_trusted_certificate_the_connection_is_refused(
    required: Server, who: str
) -> None:
    context = ssl.create_default_context(cafile=str(required.pki.ca))
    if who == "stranger":
        context.load_cert_chain(required.pki.stranger.cert, required.pki.stranger.key)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{required.url}/subjects", verify=context, timeout=10)
    # the server goes on serving others
    assert registry(required, required.pki.alice).get_subjects() is not None


def test_plain_http_against_the_tls_port_fails_cleanly(required: Server) -> None:
    plain = required.url.replace("https://", "http://")
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{plain}/subjects", timeout=10)
    assert registry(required, required.pki.alice).get_subjects() is not None


def test_a_requested_certificate_that_is_missing_is_a_401(requested: Server) -> None:
    answer = httpx.get(
        f"{requested.url}/subjects",
        verify=ssl.create_default_context(cafile=str(requested.pki.ca)),
        timeout=10,
    )
    assert answer.status_code == 401
    assert answer.json() == {
        "error_code": 40101,
        "message": "authentication required: HTTP Basic or a bearer token or a client certificate",
    }
    assert (
        registry(requested, None, **{"basic.auth.user.info": "carol:carol-pw"}).get_subjects() == []
    )
    assert registry(requested, requested.pki.alice).get_subjects() == []


def test_mapping_rules_apply_to_rest_principals(tmp_path: Path) -> None:
    with serve(tmp_path, "required", "RULE:^CN=(.*?),O=Acme$/$1/") as server:
        bob = registry(server, server.pki.bob)
        with pytest.raises(SchemaRegistryError) as refused:
            bob.register_schema("orders-value", Schema(AVRO, "AVRO"))
        assert refused.value.error_message == "User:bob may not WRITE SUBJECT orders-value"
        registry(server, server.pki.alice).register_schema("orders-value", Schema(AVRO, "AVRO"))


def test_the_cli_trusts_a_private_ca_through_ssl_cert_file(requested: Server) -> None:
    from click.testing import CliRunner

    from streamgov.cli import cli

    env = {"STREAMGOV_USER": "carol", "STREAMGOV_PASSWORD": "carol-pw"}
    args = ["registry", "--url", requested.url, "subjects"]
    untrusted = CliRunner().invoke(cli, args, env=env)
    assert untrusted.exit_code != 0 and "Traceback" not in untrusted.output
    trusted = CliRunner().invoke(cli, args, env=env | {"SSL_CERT_FILE": str(requested.pki.ca)})
    assert trusted.exit_code == 0, trusted.output
