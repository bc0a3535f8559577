"""Fetch response sizes against the broker's `fetch.max.bytes`: a response stops at the cap
(the request's `max_bytes` cannot raise it), the first batch goes in whole even when it alone
is larger, and reading on from each response's end loses and repeats no record."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
from engine.kafka_listener.records import split_batches
from engine.types import Record
from tests.acl.test_listener_quotas import encode_request, read_frame
from tests.engine.listener.conftest import Served, unique

pytestmark = pytest.mark.kafka

CAP = 64 * 1024


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A listener whose broker caps Fetch responses at CAP bytes."""
    directory: Path = tmp_path_factory.mktemp("capped")
    cluster = EmbeddedCluster(directory, maintenance_interval_s=None)
    listener = KafkaListener(cluster, "127.0.0.1", 0, fetch_max_bytes=CAP).start()
    try:
        yield Served(listener, cluster)
    finally:
        listener.stop()
        cluster.close()


def fetch(served: Served, topic: str, offsets: dict[int, int], max_bytes: int) -> Any:
    """One Fetch v11 (no wait) for `offsets` ({partition: offset}); the decoded response."""
    from kio.serial import entity_reader

    from engine.kafka_listener.messages import response_type

    body = {
        "replica_id": -1,
        "max_wait": 0,
        "min_bytes": 0,
        "max_bytes": max_bytes,
        "isolation_level": 0,
        "session_id": 0,
        "session_epoch": -1,
        "topics": [
            {
                "topic": topic,
                "partitions": [
                    {"partition": p, "fetch_offset": o, "partition_max_bytes": 10 << 20}
                    for p, o in offsets.items()
                ],
            }
        ],
        "forgotten_topics_data": [],
        "rack_id": "",
    }
    frame, _ = encode_request(1, 11, body)
    with socket.create_connection(("127.0.0.1", served.listener.port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        data = read_frame(sock)
    return entity_reader(response_type(1, 11))(data, 4)[0]


def offsets_in(records: bytes) -> list[int]:
    """The offsets a records section holds."""
    return [
        header.base_offset + delta
        for header, _ in split_batches(records)
        for delta in range(header.count)
    ]


def test_a_response_stops_at_the_cap_whatever_the_request_allows(capped: Served) -> None:
    topic = unique("cap")
    capped.cluster.create_topic(topic, partitions=2)
    for p in (0, 1):
        capped.cluster.produce(topic, [Record(b"v" * 1000, partition=p) for _ in range(200)])
    positions = {0: 0, 1: 0}
    seen: dict[int, list[int]] = {0: [], 1: []}
    while min(positions.values()) < 200:
        reply = fetch(capped, topic, positions, 50 << 20)
        parts = reply.responses[0].partitions
        sizes = [len(part.records or b"") for part in parts]
        assert 0 < sum(sizes) <= CAP
        for part in parts:
            got = offsets_in(part.records or b"")
            seen[part.partition_index] += got
            if got:
                positions[part.partition_index] = got[-1] + 1
    assert seen == {0: list(range(200)), 1: list(range(200))}


def test_the_first_batch_goes_in_whole_even_past_the_cap(capped: Served) -> None:
    topic = unique("big")
    capped.cluster.create_topic(topic, partitions=2)
    capped.cluster.produce(topic, [Record(b"x" * (3 * CAP), partition=0)])
    capped.cluster.produce(topic, [Record(b"y" * 100, partition=1)])
    parts = fetch(capped, topic, {0: 0, 1: 0}, 1000).responses[0].partitions
    assert offsets_in(parts[0].records) == [0]
    assert len(parts[0].records) > 3 * CAP
    # Nothing more fits once the first partition took the whole budget; the partition left
    # out still tells its offsets.
    assert not parts[1].records
    assert (parts[1].high_watermark, parts[1].last_stable_offset) == (1, 1)
    assert parts[1].log_start_offset == 0
    parts = fetch(capped, topic, {1: 0}, 1000).responses[0].partitions
    assert offsets_in(parts[0].records) == [0]


def test_the_request_max_bytes_still_limits_below_the_cap(capped: Served) -> None:
    topic = unique("small")
    capped.cluster.create_topic(topic)
    capped.cluster.produce(topic, [Record(b"v" * 1000) for _ in range(50)])
    parts = fetch(capped, topic, {0: 0}, 10_000).responses[0].partitions
    got = offsets_in(parts[0].records)
    assert got == list(range(len(got)))
    assert 1 <= len(got) < 11
    assert len(parts[0].records) <= 10_000
