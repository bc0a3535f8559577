"""Consumer groups of Kafka clients on the listener: members in several processes rebalance
on join, leave and SIGKILL; groups are one namespace with the engine's own consumers, and
the two kinds of members are never mixed in one live group."""

from __future__ import annotations

import io
import signal
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator

import confluent_kafka
import pytest
from confluent_kafka.admin import AdminClient
from kio.index import load_response_schema
from kio.schema.offset_delete.v0.request import (
    OffsetDeleteRequest,
    OffsetDeleteRequestPartition,
    OffsetDeleteRequestTopic,
)
from kio.serial import entity_reader, entity_writer

from engine.errors import GroupNotEmptyError, InconsistentGroupProtocolError
from engine.types import GroupState, OffsetAndMetadata, TopicPartition
from tests.engine.listener.conftest import Served, unique, wait_until

pytestmark = pytest.mark.kafka


class Member:
    """A member process and the last assignment it printed."""

    def __init__(self, served: Served, group: str, topic: str, assignor: str) -> None:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.engine.listener.group_member",
                served.bootstrap,
                group,
                topic,
                assignor,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.assignment: list[int] | None = None
        self.closed = False
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            line = line.strip()
            if line == "closed":
                self.closed = True
            else:
                self.assignment = [int(p) for p in line.split(",") if p]

    def owns(self, count: int) -> bool:
        """Whether the member currently reports `count` partitions."""
        return self.assignment is not None and len(self.assignment) == count

    def stop(self) -> None:
        """Leave cleanly (SIGTERM: the member closes its consumer)."""
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no LeaveGroup, only the session timeout removes the member."""
        self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture()
def members() -> Iterator[list[Member]]:
    started: list[Member] = []
    yield started
    for member in started:
        if member.proc.poll() is None:
            member.kill()


@pytest.mark.parametrize("assignor", ["range", "cooperative-sticky"])
def test_members_in_several_processes_rebalance_on_join_leave_and_kill(
    served: Served, members: list[Member], assignor: str
) -> None:
    topic, group = unique("rebalance"), unique("rebalance-group")
    served.cluster.create_topic(topic, partitions=4)
    first = Member(served, group, topic, assignor)
    members.append(first)
    wait_until(lambda: first.owns(4), what="the first member to own every partition")

    second = Member(served, group, topic, assignor)
    members.append(second)
    wait_until(lambda: first.owns(2) and second.owns(2), what="a split after the join")
    assert first.assignment is not None and second.assignment is not None
    assert sorted(first.assignment + second.assignment) == [0, 1, 2, 3]

    second.stop()
    assert second.closed
    wait_until(lambda: first.owns(4), what="the survivor to take over after a leave")

    third = Member(served, group, topic, assignor)
    members.append(third)
    wait_until(lambda: first.owns(2) and third.owns(2), what="a split after the second join")
    third.kill()
    wait_until(lambda: first.owns(4), what="the survivor to take over after SIGKILL")


def test_kafka_groups_are_described_listed_and_their_offsets_shared(served: Served) -> None:
    topic, group = unique("described"), unique("described-group")
    served.cluster.create_topic(topic, partitions=2)
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": served.bootstrap,
            "group.id": group,
            "client.id": "describer",
            "partition.assignment.strategy": "roundrobin",
        }
    )
    admin = AdminClient({"bootstrap.servers": served.bootstrap})
    try:
        consumer.subscribe([topic])
        wait_until(lambda: (consumer.poll(0.05), len(consumer.assignment()) == 2)[1])
        described = admin.describe_consumer_groups([group])[group].result(10)
        assert described.state == confluent_kafka.ConsumerGroupState.STABLE
        assert described.partition_assignor == "roundrobin"
        [member] = described.members
        assert member.client_id == "describer"
        assert {(tp.topic, tp.partition) for tp in member.assignment.topic_partitions} == {
            (topic, 0),
            (topic, 1),
        }
        listed = admin.list_consumer_groups().result(10)
        assert group in {g.group_id for g in listed.valid}
        consumer.commit(
            offsets=[confluent_kafka.TopicPartition(topic, 1, 0, metadata="m")],
            asynchronous=False,
        )
        committed = served.cluster.committed_offsets(group)
        assert committed[TopicPartition(topic, 1)].offset == 0
        # librdkafka sends the metadata with its C string terminator; it is kept as sent.
        assert committed[TopicPartition(topic, 1)].metadata.rstrip("\x00") == "m"
    finally:
        consumer.close()
    futures = admin.delete_consumer_groups([group])
    futures[group].result(10)
    assert served.cluster.committed_offsets(group) == {}


def test_a_kafka_member_cannot_join_a_group_of_engine_members(served: Served) -> None:
    topic, group = unique("mixed"), unique("mixed-group")
    served.cluster.create_topic(topic)
    native = served.cluster.consumer(group, session_timeout_ms=6_000, heartbeat_interval_ms=500)
    native.subscribe([topic])
    wait_until(
        lambda: (
            (native.poll(0.05), served.cluster.describe_group(group).state)[1] == GroupState.STABLE
        )
    )
    consumer = confluent_kafka.Consumer({"bootstrap.servers": served.bootstrap, "group.id": group})
    try:
        consumer.subscribe([topic])
        seen: list[int] = []

        def refused() -> bool:
            native.poll(0.01)
            msg = consumer.poll(0.05)
            if msg is not None and msg.error() is not None:
                seen.append(msg.error().code())
            return confluent_kafka.KafkaError.INCONSISTENT_GROUP_PROTOCOL in seen

        wait_until(refused, what="INCONSISTENT_GROUP_PROTOCOL for the Kafka member")
        assert consumer.assignment() == []
        assert [m.member_id for m in served.cluster.describe_group(group).members] != []
    finally:
        consumer.close()
        native.close()


def test_an_engine_member_cannot_join_a_group_of_kafka_members(served: Served) -> None:
    topic, group = unique("mixed2"), unique("mixed2-group")
    served.cluster.create_topic(topic)
    consumer = confluent_kafka.Consumer({"bootstrap.servers": served.bootstrap, "group.id": group})
    native = served.cluster.consumer(group, session_timeout_ms=6_000)
    try:
        consumer.subscribe([topic])
        wait_until(lambda: (consumer.poll(0.05), len(consumer.assignment()) == 1)[1])
        with pytest.raises(InconsistentGroupProtocolError, match="Kafka"):
            native.subscribe([topic])
            native.poll(1.0)
    finally:
        native.close()
        consumer.close()


def call(served: Served, api_key: int, version: int, body: object) -> object:
    """Send one request (kio-encoded, header v1) and decode its response."""
    out = io.BytesIO()
    entity_writer(type(body))(out, body)
    frame = struct.pack(">hhih", api_key, version, 1, 4) + b"test" + out.getvalue()
    with socket.create_connection(("127.0.0.1", served.listener.port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack_from(">i", data)[0]:
            chunk = sock.recv(65536)
            assert chunk, "the broker closed the connection"
            data += chunk
    return entity_reader(load_response_schema(api_key, version))(data, 8)[0]


def test_offset_delete_drops_offsets_but_not_those_of_a_live_subscription(served: Served) -> None:
    kept, dropped, group = unique("od-kept"), unique("od-dropped"), unique("od-group")
    served.cluster.create_topic(kept)
    served.cluster.create_topic(dropped)
    served.cluster.commit_offsets(
        group,
        {
            TopicPartition(kept, 0): OffsetAndMetadata(0),
            TopicPartition(dropped, 0): OffsetAndMetadata(0),
        },
    )
    consumer = confluent_kafka.Consumer({"bootstrap.servers": served.bootstrap, "group.id": group})
    try:
        consumer.subscribe([kept])
        wait_until(lambda: (consumer.poll(0.05), len(consumer.assignment()) == 1)[1])
        request = OffsetDeleteRequest(
            group_id=group,
            topics=tuple(
                OffsetDeleteRequestTopic(
                    name=t, partitions=(OffsetDeleteRequestPartition(partition_index=0),)
                )
                for t in (kept, dropped)
            ),
        )
        reply = call(served, 47, 0, request)
    finally:
        consumer.close()
    codes = {t.name: t.partitions[0].error_code.value for t in reply.topics}  # type: ignore[attr-defined]
    assert codes == {kept: 86, dropped: 0}  # GROUP_SUBSCRIBED_TO_TOPIC for the live one
    assert set(served.cluster.committed_offsets(group)) == {TopicPartition(kept, 0)}


def test_the_engine_sees_kafka_groups_with_their_members(served: Served) -> None:
    """streamgov groups, /v3, the TUI and the lag monitor read groups through the engine."""
    topic, group = unique("seen"), unique("seen-group")
    served.cluster.create_topic(topic, partitions=3)
    consumer = confluent_kafka.Consumer(
        {"bootstrap.servers": served.bootstrap, "group.id": group, "client.id": "seen-client"}
    )
    try:
        consumer.subscribe([topic])
        wait_until(lambda: (consumer.poll(0.05), len(consumer.assignment()) == 3)[1])
        wait_until(
            lambda: (
                len(served.cluster.describe_group(group).members) == 1
                and len(served.cluster.describe_group(group).members[0].assignment) == 3
            ),
            what="the engine to describe the Kafka member",
        )
        described = served.cluster.describe_group(group)
        assert described.state == GroupState.STABLE
        [member] = described.members
        assert member.client_id == "seen-client"
        assert set(member.assignment) == {TopicPartition(topic, p) for p in range(3)}
        assert (group, GroupState.STABLE) in {
            (g.group_id, g.state) for g in served.cluster.list_groups()
        }
        with pytest.raises(GroupNotEmptyError):
            served.cluster.delete_group(group)
    finally:
        consumer.close()
    wait_until(
        lambda: served.cluster.describe_group(group).members == (),
        what="the engine to see the group empty after the member left",
    )
