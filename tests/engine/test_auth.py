"""The authorization hook: Kafka's mapping of operations, over the embedded engine."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from engine.auth import ANONYMOUS, AuthorizingCluster, Operation, ResourceType
from engine.embedded import EmbeddedCluster
from engine.errors import AuthorizationError
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition


class TableAuthorizer:
    """Allows exactly the (principal, operation, type, name) rows of its table; records asks."""

    def __init__(self, *rows: tuple[str, str, str, str]) -> None:
        self.rows = set(rows)
        self.asked: list[tuple[str, str, str, str]] = []

    def authorize(
        self, principal: str, operation: str, resource_type: str, name: str, host: str | None = None
    ) -> bool:
        self.asked.append((principal, operation, resource_type, name))
        return (principal, operation, resource_type, name) in self.rows


ALICE = "User:alice"


@pytest.fixture()
def setup(
    make_cluster: Callable[..., EmbeddedCluster],
) -> tuple[EmbeddedCluster, TableAuthorizer, AuthorizingCluster]:
    admin = make_cluster("c")
    admin.create_topic("open", 1)
    admin.create_topic("secret", 1)
    admin.produce("open", [Record(b"v")])
    authorizer = TableAuthorizer()
    return admin, authorizer, AuthorizingCluster(admin.engine, authorizer, ALICE)


CASES: list[tuple[str, Callable[[AuthorizingCluster], object], tuple[str, str, str]]] = [
    ("produce", lambda c: c.produce("open", [Record(b"v")]), ("WRITE", "TOPIC", "open")),
    ("fetch", lambda c: c.fetch("open", 0, 0), ("READ", "TOPIC", "open")),
    (
        "list offsets",
        lambda c: c.list_offsets("open", OffsetSpec.LATEST),
        ("DESCRIBE", "TOPIC", "open"),
    ),
    ("describe", lambda c: c.describe_topic("open"), ("DESCRIBE", "TOPIC", "open")),
    ("delete", lambda c: c.delete_topic("open"), ("DELETE", "TOPIC", "open")),
    ("add partitions", lambda c: c.add_partitions("open", 2), ("ALTER", "TOPIC", "open")),
    (
        "alter config",
        lambda c: c.alter_topic_config("open", {"retention.ms": "5"}),
        ("ALTER_CONFIGS", "TOPIC", "open"),
    ),
    ("create", lambda c: c.create_topic("new"), ("CREATE", "TOPIC", "new")),
    ("describe group", lambda c: c.describe_group("g"), ("DESCRIBE", "GROUP", "g")),
    ("committed", lambda c: c.committed_offsets("g"), ("DESCRIBE", "GROUP", "g")),
    ("delete group", lambda c: c.delete_group("g"), ("DELETE", "GROUP", "g")),
]


@pytest.mark.parametrize(("what", "call", "needed"), CASES, ids=[c[0] for c in CASES])
def test_each_operation_needs_its_acl(
    setup: tuple[EmbeddedCluster, TableAuthorizer, AuthorizingCluster],
    what: str,
    call: Callable[[AuthorizingCluster], object],
    needed: tuple[str, str, str],
) -> None:
    admin, authorizer, alice = setup
    admin.commit_offsets("g", {TopicPartition("open", 0): OffsetAndMetadata(0)})
    with pytest.raises(AuthorizationError) as caught:
        call(alice)
    assert (caught.value.operation, caught.value.resource_type, caught.value.resource) == needed
    assert ALICE in str(caught.value)
    authorizer.rows.add((ALICE, *needed))
    call(alice)


def test_create_is_allowed_by_cluster_create(
    setup: tuple[EmbeddedCluster, TableAuthorizer, AuthorizingCluster],
) -> None:
    _, authorizer, alice = setup
    authorizer.rows.add((ALICE, "CREATE", "CLUSTER", "kafka-cluster"))
    alice.create_topic("anything")
    assert ("User:alice", "CREATE", "TOPIC", "anything") not in authorizer.asked


def test_listings_are_filtered(
    setup: tuple[EmbeddedCluster, TableAuthorizer, AuthorizingCluster],
) -> None:
    admin, authorizer, alice = setup
    admin.commit_offsets("g1", {TopicPartition("open", 0): OffsetAndMetadata(0)})
    admin.commit_offsets("g2", {TopicPartition("secret", 0): OffsetAndMetadata(0)})
    authorizer.rows |= {
        (ALICE, "DESCRIBE", "TOPIC", "open"),
        (ALICE, "DESCRIBE", "GROUP", "g1"),
        (ALICE, "DESCRIBE", "GROUP", "g2"),
    }
    assert alice.list_topics() == ["open"]
    assert [g.group_id for g in alice.list_groups()] == ["g1", "g2"]
    assert alice.committed_offsets("g2") == {}  # secret is not describable
    assert alice.describe_topic("open").config == {}  # no DESCRIBE_CONFIGS
    authorizer.rows.add((ALICE, "DESCRIBE_CONFIGS", "TOPIC", "open"))
    assert alice.describe_topic("open").config["cleanup.policy"] == "delete"


def test_commit_needs_group_and_topic_read(
    setup: tuple[EmbeddedCluster, TableAuthorizer, AuthorizingCluster],
) -> None:
    _, authorizer, alice = setup
    offsets = {TopicPartition("open", 0): OffsetAndMetadata(1)}
    authorizer.rows.add((ALICE, "READ", "GROUP", "g"))
    with pytest.raises(AuthorizationError, match="READ TOPIC 'open'"):
        alice.commit_offsets("g", offsets)
    authorizer.rows.add((ALICE, "READ", "TOPIC", "open"))
    alice.commit_offsets("g", offsets)


def test_clients_are_checked(
    setup: tuple[EmbeddedCluster, TableAuthorizer, AuthorizingCluster],
) -> None:
    _, authorizer, alice = setup
    producer = alice.producer()
    with pytest.raises(AuthorizationError, match="WRITE TOPIC 'open'"):
        producer.send("open", b"v")
    authorizer.rows.add((ALICE, "WRITE", "TOPIC", "open"))
    producer.send("open", b"v")
    assert len(producer.flush()) == 1
    consumer = alice.consumer("g", auto_offset_reset="earliest")
    with pytest.raises(AuthorizationError, match="READ GROUP 'g'"):
        consumer.subscribe(["open"])
    authorizer.rows.add((ALICE, "READ", "GROUP", "g"))
    with pytest.raises(AuthorizationError, match="READ TOPIC 'open'"):
        consumer.subscribe(["open"])
    authorizer.rows.add((ALICE, "READ", "TOPIC", "open"))
    consumer.subscribe(["open"])
    assert len(consumer.poll(5)) == 2
    consumer.commit()
    authorizer.rows.discard((ALICE, "READ", "TOPIC", "open"))
    with pytest.raises(AuthorizationError):
        consumer.poll(0)
    consumer.close()


def test_embedded_cluster_takes_an_authorizer(
    make_cluster: Callable[..., EmbeddedCluster],
) -> None:
    authorizer = TableAuthorizer()
    cluster = make_cluster("guarded", authorizer=authorizer)
    assert cluster.principal == ANONYMOUS
    with pytest.raises(AuthorizationError, match="User:ANONYMOUS"):
        cluster.create_topic("t")
    bob = cluster.as_principal("User:bob")
    authorizer.rows.add(("User:bob", Operation.CREATE, ResourceType.CLUSTER, "kafka-cluster"))
    bob.create_topic("t")
    assert cluster.engine.list_topics() == ["t"]


def test_no_authorizer_allows_everything(cluster: EmbeddedCluster) -> None:
    cluster.create_topic("t")
    cluster.produce("t", [Record(b"v")])
    assert cluster.authorizer is None
