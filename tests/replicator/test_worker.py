"""The worker between two embedded clusters: exact copies, resume without duplicates,
following topics, checkpoints and group offset sync."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, OffsetSpec, Record, TopicPartition
from replicator.codec import provenance
from replicator.flow import Flow
from replicator.worker import Replicator


@pytest.fixture()
def pair(tmp_path: Path) -> Iterator[tuple[EmbeddedCluster, EmbeddedCluster]]:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    west = EmbeddedCluster(tmp_path / "west", name="west")
    yield east, west
    east.close()
    west.close()


def fill(cluster: EmbeddedCluster, topic: str, count: int, partitions: int = 3) -> None:
    if topic not in cluster.list_topics():
        cluster.create_topic(topic, partitions)
    cluster.produce(
        topic,
        [
            Record(
                f"v{i}".encode(),
                f"k{i}".encode(),
                headers=(("h", str(i).encode()),),
                timestamp_ms=1_700_000_000_000 + i,
                partition=i % partitions,
            )
            for i in range(count)
        ],
    )


def everything(cluster: EmbeddedCluster, topic: str) -> list[tuple[int, int, object, ...]]:
    out = []
    for p in range(len(cluster.describe_topic(topic).partitions)):
        for r in cluster.fetch(topic, p, 0, max_records=100_000):
            headers = tuple(h for h in r.headers if h[0] != "streamgov.replication")
            out.append((p, r.offset, r.key, r.value, headers, r.timestamp_ms))
    return out


def test_exact_copy_keeps_partitions_offsets_keys_values_headers_timestamps(pair) -> None:
    east, west = pair
    fill(east, "orders", 300)
    replicator = Replicator(Flow("east", "west"), east, west)
    assert replicator.run_once() == 300
    assert everything(west, "east.orders") == everything(east, "orders")
    assert all(row["exact"] for row in replicator.status())
    record = west.fetch("east.orders", 1, 5, max_records=1)[0]
    prov = provenance(record.headers)
    assert prov is not None and (prov.origin, prov.source, prov.offset) == ("east", "east", 5)


def test_restart_resumes_without_duplicates_or_loss(pair) -> None:
    east, west = pair
    fill(east, "orders", 100)
    Replicator(Flow("east", "west"), east, west).run_once()
    fill(east, "orders", 50)
    again = Replicator(Flow("east", "west"), east, west)
    assert again.run_once() == 50
    assert everything(west, "east.orders") == everything(east, "orders")
    assert all(row["exact"] for row in again.status())


def test_foreign_writes_end_exact_mode_and_translation_never_overshoots(pair) -> None:
    east, west = pair
    east.create_topic("orders", 1)
    west.create_topic("east.orders", 1)
    west.produce("east.orders", [Record(b"foreign")] * 7)
    fill(east, "orders", 250, partitions=1)
    east.commit_offsets("billing", {TopicPartition("orders", 0): OffsetAndMetadata(120, "m")})
    east.commit_offsets("done", {TopicPartition("orders", 0): OffsetAndMetadata(250)})
    flow = Flow("east", "west", groups="billing|done", offset_lag_max=50)
    replicator = Replicator(flow, east, west)
    replicator.run_once()
    assert not replicator.status()[0]["exact"]
    committed = west.committed_offsets("billing")
    offset = committed[TopicPartition("east.orders", 0)].offset
    # the source record at 120 landed at 127: the group may re-read (more, the further it is
    # behind the newest sync), never skip it
    assert 7 <= offset <= 127
    assert west.committed_offsets("billing")[TopicPartition("east.orders", 0)].metadata == "m"
    # a group that read everything needs no re-delivery at all
    assert west.committed_offsets("done") == {
        TopicPartition("east.orders", 0): OffsetAndMetadata(257)
    }


def test_exact_checkpoint_is_the_group_offset_and_live_groups_are_left_alone(pair) -> None:
    east, west = pair
    fill(east, "orders", 90)
    east.commit_offsets(
        "billing",
        {TopicPartition("orders", p): OffsetAndMetadata(10 + p) for p in range(3)},
    )
    Replicator(Flow("east", "west", groups="bill.*"), east, west).run_once()
    assert west.committed_offsets("billing") == {
        TopicPartition("east.orders", p): OffsetAndMetadata(10 + p) for p in range(3)
    }


def test_new_topics_partitions_and_configs_follow(pair) -> None:
    east, west = pair
    fill(east, "orders", 10)
    replicator = Replicator(Flow("east", "west", topics="orders|payments"), east, west)
    replicator.run_once()
    fill(east, "payments", 10, partitions=2)
    east.add_partitions("orders", 5)
    east.alter_topic_config("orders", {"retention.ms": "3600000"})
    fill(east, "orders", 10, partitions=5)
    fill(east, "ignored", 5)
    replicator.run_once()
    assert "east.payments" in west.list_topics() and "east.ignored" not in west.list_topics()
    described = west.describe_topic("east.orders")
    assert len(described.partitions) == 5
    assert described.config["retention.ms"] == "3600000"
    assert everything(west, "east.orders") == everything(east, "orders")
    east.alter_topic_config("orders", {"retention.ms": None})
    replicator.run_once()
    assert (
        west.describe_topic("east.orders").config["retention.ms"]
        == east.describe_topic("orders").config["retention.ms"]
    )


def test_deleted_source_topic_leaves_the_target_unless_asked(pair) -> None:
    east, west = pair
    fill(east, "keep", 5)
    fill(east, "drop", 5)
    Replicator(Flow("east", "west"), east, west).run_once()
    east.delete_topic("keep")
    Replicator(Flow("east", "west"), east, west).run_once()
    assert "east.keep" in west.list_topics()
    east.delete_topic("drop")
    Replicator(Flow("east", "west", delete_with_source=True), east, west).run_once()
    assert "east.drop" not in west.list_topics()


def test_active_active_never_loops(pair) -> None:
    east, west = pair
    fill(east, "orders", 20)
    fill(west, "orders", 30)
    for _ in range(2):
        Replicator(Flow("east", "west", policy="identity"), east, west).run_once()
        Replicator(Flow("west", "east", policy="identity"), west, east).run_once()
    assert sum(len(east.fetch("orders", p, 0, 1000)) for p in range(3)) == 50
    assert sum(len(west.fetch("orders", p, 0, 1000)) for p in range(3)) == 50


def test_default_policy_skips_topics_that_came_from_the_target(pair) -> None:
    east, west = pair
    fill(east, "orders", 5)
    Replicator(Flow("east", "west"), east, west).run_once()
    Replicator(Flow("west", "east"), west, east).run_once()
    assert "west.east.orders" not in east.list_topics()
    assert west.list_offsets("east.orders", OffsetSpec.LATEST) == east.list_offsets(
        "orders", OffsetSpec.LATEST
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_following_picks_up_new_topics_partitions_configs_and_groups(pair) -> None:
    east, west = pair
    fill(east, "orders", 10)
    flow = Flow("east", "west", groups="billing", refresh_interval_s=0.2, checkpoint_interval_s=0.2)
    replicator = Replicator(flow, east, west)
    stop = threading.Event()
    runner = threading.Thread(target=replicator.run, args=(stop,))
    runner.start()
    try:
        wait_for(lambda: "east.orders" in west.list_topics())
        fill(east, "fresh", 25, partitions=2)
        wait_for(lambda: "east.fresh" in west.list_topics())
        wait_for(lambda: everything(west, "east.fresh") == everything(east, "fresh"))
        east.add_partitions("orders", 4)
        east.alter_topic_config("orders", {"cleanup.policy": "compact,delete"})
        wait_for(lambda: len(west.describe_topic("east.orders").partitions) == 4)
        wait_for(
            lambda: west.describe_topic("east.orders").config["cleanup.policy"] == "compact,delete"
        )
        fill(east, "orders", 8, partitions=4)
        wait_for(lambda: everything(west, "east.orders") == everything(east, "orders"))
        east.commit_offsets("billing", {TopicPartition("fresh", 1): OffsetAndMetadata(5)})
        wait_for(
            lambda: (
                west.committed_offsets("billing").get(TopicPartition("east.fresh", 1))
                == OffsetAndMetadata(5)
            )
        )
    finally:
        stop.set()
        runner.join()


def test_a_refused_produce_loses_nothing(pair) -> None:
    """The target refuses a batch (its records are too large there): the error is counted,
    the positions stay, and once the target takes them every record is copied, once."""
    east, west = pair
    fill(east, "orders", 30)
    west.create_topic("east.orders", 3, {"max.message.bytes": "10"})
    replicator = Replicator(Flow("east", "west", sync_configs=False), east, west)
    assert replicator.run_once() == 0
    assert replicator.metrics.errors >= 1
    assert "max.message.bytes" in replicator.metrics.last_error
    assert all(state.position == 0 for state in replicator.partitions.values())
    west.alter_topic_config("east.orders", {"max.message.bytes": None})
    assert replicator.run_once() == 30
    assert everything(west, "east.orders") == everything(east, "orders")
