"""The Kafka listener with authentication and ACLs, end to end with confluent-kafka over
SASL/PLAIN and SASL/SCRAM-SHA-256/512: allowed and refused produce, consume, group join and
admin calls; Metadata hides what the principal may not describe."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
)

from acl.model import Acl, Operation, PatternType, Permission
from acl.model import ResourceType as Kind
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
from tests.engine.listener.conftest import wait_until

MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass
class Secured:
    listener: KafkaListener
    access: AccessControl


def allow(kind: Kind, name: str, principal: str, op: Operation) -> Acl:
    return Acl(kind, name, PatternType.LITERAL, principal, "*", op, Permission.ALLOW)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secured]:
    directory: Path = tmp_path_factory.mktemp("secured")
    cluster = EmbeddedCluster(directory, maintenance_interval_s=None)
    access = AccessControl(cluster).start()
    access.add_user("alice", "alice-pw")
    access.add_user("bob", "bob-pw")
    access.add_user("admin", "admin-pw")
    access.configure(["User:admin"])
    for topic in ("open", "secret", "hosted"):
        cluster.create_topic(topic, 1)
    access.add(
        [
            allow(Kind.TOPIC, "open", "User:alice", Operation.WRITE),
            allow(Kind.TOPIC, "open", "User:alice", Operation.READ),
            allow(Kind.GROUP, "alice-group", "User:alice", Operation.READ),
        ]
    )
    listener = KafkaListener(
        cluster, "127.0.0.1", 0, authorizer=access, authenticator=access.authenticator()
    )
    listener.broker.acl_admin = access
    listener.start()
    try:
        yield Secured(listener, access)
    finally:
        listener.stop()
        access.close()
        cluster.close()


def config(secured: Secured, mechanism: str, user: str, password: str) -> dict[str, Any]:
    return {
        "bootstrap.servers": secured.listener.bootstrap,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": mechanism,
        "sasl.username": user,
        "sasl.password": password,
    }


def produce(conf: dict[str, Any], topic: str) -> KafkaError | None:
    errors: list[KafkaError | None] = []
    producer = Producer({**conf, "message.timeout.ms": 10000, "retries": 0})
    producer.produce(topic, b"v", callback=lambda err, _msg: errors.append(err))
    producer.flush(15)
    assert len(errors) == 1
    return errors[0]


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_produce_allowed_and_refused(secured: Secured, mechanism: str) -> None:
    conf = config(secured, mechanism, "alice", "alice-pw")
    assert produce(conf, "open") is None
    refused = produce(conf, "secret")
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_wrong_password_fails_authentication(secured: Secured, mechanism: str) -> None:
    admin = AdminClient(config(secured, mechanism, "alice", "not-her-password"))
    with pytest.raises(KafkaException) as raised:
        admin.list_topics(timeout=10)
    assert raised.value.args[0].code() in (
        KafkaError._AUTHENTICATION,
        KafkaError.SASL_AUTHENTICATION_FAILED,
        KafkaError._TRANSPORT,
    )


def test_host_acls_apply_to_the_client_address(secured: Secured) -> None:
    elsewhere = Acl(Kind.TOPIC, "hosted", PatternType.LITERAL, "User:bob", "10.9.9.9",
                    Operation.WRITE, Permission.ALLOW)  # fmt: skip
    here = Acl(Kind.TOPIC, "hosted", PatternType.LITERAL, "User:bob", "127.0.0.1",
               Operation.WRITE, Permission.ALLOW)  # fmt: skip
    secured.access.add([elsewhere])
    conf = config(secured, "PLAIN", "bob", "bob-pw")
    refused = produce(conf, "hosted")
    assert refused is not None and refused.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
    secured.access.add([here])
    assert produce(conf, "hosted") is None


def test_unauthenticated_clients_get_nothing(secured: Secured) -> None:
    admin = AdminClient({"bootstrap.servers": secured.listener.bootstrap})
    with pytest.raises(KafkaException):
        admin.list_topics(timeout=3)


def test_metadata_hides_topics_the_principal_may_not_describe(secured: Secured) -> None:
    alice = AdminClient(config(secured, "SCRAM-SHA-256", "alice", "alice-pw"))
    assert set(alice.list_topics(timeout=10).topics) == {"open"}
    admin = AdminClient(config(secured, "SCRAM-SHA-512", "admin", "admin-pw"))
    assert {"open", "secret"} <= set(admin.list_topics(timeout=10).topics)


def consume_one(conf: dict[str, Any], group: str, topic: str) -> KafkaError | bytes:
    consumer = Consumer(
        {**conf, "group.id": group, "auto.offset.reset": "earliest", "enable.auto.commit": False}
    )
    consumer.subscribe([topic])
    found: list[KafkaError | bytes] = []

    def got_something() -> bool:
        msg = consumer.poll(0.5)
        if msg is None:
            return False
        error = msg.error()
        if error is not None and error.code() == KafkaError._PARTITION_EOF:
            return False
        found.append(error if error is not None else bytes(msg.value() or b""))
        return True

    try:
        wait_until(got_something, 30, "a record or an error")
    finally:
        consumer.close()
    return found[0]


def test_consume_with_an_allowed_group(secured: Secured) -> None:
    conf = config(secured, "PLAIN", "alice", "alice-pw")
    assert produce(conf, "open") is None
    assert consume_one(conf, "alice-group", "open") == b"v"


def test_group_join_refused(secured: Secured) -> None:
    conf = config(secured, "PLAIN", "alice", "alice-pw")
    error = consume_one(conf, "someone-elses-group", "open")
    assert isinstance(error, KafkaError)
    assert error.code() == KafkaError.GROUP_AUTHORIZATION_FAILED


def test_consume_refused_topic(secured: Secured) -> None:
    secured.access.add([allow(Kind.GROUP, "bob-group", "User:bob", Operation.READ)])
    conf = config(secured, "SCRAM-SHA-256", "bob", "bob-pw")
    error = consume_one(conf, "bob-group", "open")
    assert isinstance(error, KafkaError)
    assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED


def test_admin_calls_and_acl_apis(secured: Secured) -> None:
    admin = AdminClient(config(secured, "SCRAM-SHA-512", "admin", "admin-pw"))
    binding = AclBinding(
        ResourceType.TOPIC,
        "from-admin-",
        ResourcePatternType.PREFIXED,
        "User:carol",
        "*",
        AclOperation.READ,
        AclPermissionType.ALLOW,
    )
    for future in admin.create_acls([binding]).values():
        future.result(timeout=10)
    assert secured.access.decide("User:carol", "READ", "TOPIC", "from-admin-x").allowed
    selector = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        "User:carol",
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    described = admin.describe_acls(selector).result(timeout=10)
    assert [(b.name, b.principal) for b in described] == [("from-admin-", "User:carol")]
    deleted = admin.delete_acls([selector])
    assert len(next(iter(deleted.values())).result(timeout=10)) == 1
    assert not secured.access.decide("User:carol", "READ", "TOPIC", "from-admin-x").allowed

    alice = AdminClient(config(secured, "PLAIN", "alice", "alice-pw"))
    with pytest.raises(KafkaException) as refused:
        for future in alice.create_acls([binding]).values():
            future.result(timeout=10)
    assert refused.value.args[0].code() == KafkaError.CLUSTER_AUTHORIZATION_FAILED
    created = alice.create_topics([NewTopic("alice-new", 1)])
    with pytest.raises(KafkaException) as no_create:
        created["alice-new"].result(timeout=10)
    assert no_create.value.args[0].code() == KafkaError.TOPIC_AUTHORIZATION_FAILED
