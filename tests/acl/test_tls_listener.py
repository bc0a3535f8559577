"""The Kafka listener over TLS, end to end with confluent-kafka: SSL with a client
certificate whose subject is the principal (checked through ACLs that allow one DN and deny
another), SASL_SSL where the SASL identity wins, a missing or untrusted client certificate
refused, and a plaintext client against the TLS port turned away without holding up others."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from acl.model import Acl, Operation, PatternType, Permission
from acl.model import ResourceType as Kind
from acl.principal import CertificatePrincipals
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
from httpapi.tls import TlsSettings, server_context
from tests.acl.test_listener_auth import produce
from tests.tlscerts import Issued, Pki, make_pki

pytestmark = pytest.mark.kafka

ALICE = "User:CN=alice,O=Acme"
BOB = "User:CN=bob,O=Acme"


@dataclass
class Served:
    pki: Pki
    listener: KafkaListener
    access: AccessControl


def allow(kind: Kind, name: str, principal: str, op: Operation, deny: bool = False) -> Acl:
    permission = Permission.DENY if deny else Permission.ALLOW
    return Acl(kind, name, PatternType.LITERAL, principal, "*", op, permission)


def start(directory: Path, pki: Pki, client_auth: str, rules: str | None) -> Served:
    cluster = EmbeddedCluster(directory / "data", maintenance_interval_s=None)
    access = AccessControl(cluster).start()
    access.add_user("carol", "carol-pw")
    tls = TlsSettings(pki.server.cert, pki.server.key, pki.ca, client_auth, rules)
    listener = KafkaListener(
        cluster,
        "127.0.0.1",
        0,
        authorizer=access,
        authenticator=access.authenticator(),
        ssl_context=server_context(tls),
        certificate_principal=CertificatePrincipals(rules).principal,
    )
    listener.broker.acl_admin = access
    return Served(pki, listener.start(), access)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("tls-listener")
    running = start(directory, make_pki(directory), "required", None)
    cluster = running.access.cluster
    for topic in ("orders", "audit-only"):
        cluster.create_topic(topic, 1)
    running.access.add(
        [
            allow(Kind.TOPIC, "orders", ALICE, Operation.ALL),
            allow(Kind.GROUP, "alice-group", ALICE, Operation.READ),
            allow(Kind.CLUSTER, "kafka-cluster", ALICE, Operation.CREATE),
            allow(Kind.TOPIC, "alice-made", ALICE, Operation.DESCRIBE),
            allow(Kind.TOPIC, "orders", BOB, Operation.ALL, deny=True),
            allow(Kind.TOPIC, "orders", "User:carol", Operation.WRITE),
        ]
    )
    try:
        yield running
    finally:
        running.listener.stop()
        running.access.close()
        cluster.close()


def ssl_config(served: Served, who: Issued | None) -> dict[str, Any]:
    conf: dict[str, Any] = {
        "bootstrap.servers": served.listener.bootstrap,
        "security.protocol": "SSL",
        "ssl.ca.location": str(served.pki.ca),
        "socket.timeout.ms": 10000,
    }
    if who is not None:
        conf |= {"ssl.certificate.location": str(who.cert), "ssl.key.location": str(who.key)}
    return conf


def test_a_client_certificate_is_the_principal_for_produce_and_consume(served: Served) -> None:
    alice = ssl_config(served, served.pki.alice)
    assert produce(alice, "orders") is None
    consumer = Consumer({**alice, "group.id": "alice-group", "auto.offset.reset": "earliest"})
    try:
        consumer.subscribe(["orders"])
        message = None
        for _ in range(30):
            message = consumer.poll(1)
            if message is not None and message.error() is None:
                break
        assert message is not None and message.error() is None and message.value() == b"v"
    finally:
        consumer.close()


def test_an_acl_denying_another_subject_refuses_it(served: Served) -> None:
    refused = produce(ssl_config(served, served.pki.bob), "orders")
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_admin_calls_are_authorized_as_the_certificate_subject(served: Served) -> None:
    alice = AdminClient(ssl_config(served, served.pki.alice))
    alice.create_topics([NewTopic("alice-made", 1)])["alice-made"].result(15)
    assert "alice-made" in alice.list_topics(timeout=10).topics
    bob = AdminClient(ssl_config(served, served.pki.bob))
    with pytest.raises(KafkaException) as refused:
        bob.create_topics([NewTopic("bob-made", 1)])["bob-made"].result(15)
    assert refused.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    assert "orders" not in bob.list_topics(timeout=10).topics  # no DESCRIBE: not listed


def test_over_sasl_ssl_the_sasl_identity_is_the_principal(served: Served) -> None:
    # carol may write "orders"; her certificate says bob, who is denied: SASL wins
    conf = ssl_config(served, served.pki.bob) | {
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-256",
        "sasl.username": "carol",
        "sasl.password": "carol-pw",
    }
    assert produce(conf, "orders") is None
    wrong = conf | {"sasl.password": "not-carols"}
    with pytest.raises(KafkaException):
        AdminClient(wrong).list_topics(timeout=10)


@pytest.mark.parametrize("who", ["nobody", "stranger"])
def test_without_a_trusted_client_certificate_the_handshake_fails(served: Served, who: str) -> None:
    issued = None if who == "nobody" else served.pki.stranger
    admin = AdminClient(ssl_config(served, issued))
    with pytest.raises(KafkaException) as failed:
        admin.list_topics(timeout=5)
    assert failed.value.args[0].code() in (KafkaError._TRANSPORT, KafkaError._SSL)


def api_versions_frame() -> bytes:
    client = b"plain"
    body = struct.pack(">hhih", 18, 0, 7, len(client)) + client
    return struct.pack(">i", len(body)) + body


def test_a_plaintext_client_is_turned_away_and_others_are_served(served: Served) -> None:
    host, port = served.listener.bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as plain:
        plain.sendall(api_versions_frame())
        # a TLS client is served while the plaintext one is still connected
        assert (
            "orders"
            in AdminClient(ssl_config(served, served.pki.alice)).list_topics(timeout=10).topics
        )
        try:
            answer = plain.recv(1024)
        except ConnectionResetError:
            answer = b""
        assert not answer.startswith(struct.pack(">i", 7))  # no Kafka answer, only TLS alerts
        while answer:  # the server closes the connection
            try:
                answer = plain.recv(1024)
            except ConnectionResetError:
                break


def test_mapping_rules_name_the_principal(tmp_path: Path) -> None:
    running = start(tmp_path, make_pki(tmp_path), "required", "RULE:^CN=(.*?),O=Acme$/$1/L")
    try:
        cluster = running.access.cluster
        cluster.create_topic("mapped", 1)
        running.access.add([allow(Kind.TOPIC, "mapped", "User:alice", Operation.WRITE)])
        assert produce(ssl_config(running, running.pki.alice), "mapped") is None
    finally:
        running.listener.stop()
        running.access.close()
        running.access.cluster.close()


def test_requested_client_auth_lets_a_client_without_a_certificate_use_sasl(
    tmp_path: Path,
) -> None:
    running = start(tmp_path, make_pki(tmp_path), "requested", None)
    try:
        running.access.cluster.create_topic("t", 1)
        running.access.add([allow(Kind.TOPIC, "t", "User:carol", Operation.WRITE)])
        sasl = ssl_config(running, None) | {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": "PLAIN",
            "sasl.username": "carol",
            "sasl.password": "carol-pw",
        }
        assert produce(sasl, "t") is None
        # without a certificate and without SASL, nothing but the handshake is answered
        with pytest.raises(KafkaException):
            AdminClient(ssl_config(running, None)).list_topics(timeout=5)
    finally:
        running.listener.stop()
        running.access.close()
        running.access.cluster.close()
