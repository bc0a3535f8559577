"""The catalog service end to end on both backends: the deprecation workflow with two
instances (the owner is told exactly once, by event and webhook), retire, observed consumers,
producers and the single-writer violation."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from catalog.model import ConflictError
from catalog.service import Catalog, CatalogSettings
from engine.cluster import Cluster
from engine.types import OffsetAndMetadata, Record, TopicPartition
from tests.brokers import open_backend

BACKENDS = ["embedded", pytest.param("kafka", marks=pytest.mark.kafka)]


class Receiver:
    """A real HTTP server that records the JSON bodies POSTed to it."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, object]] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture(params=BACKENDS)
def clusters(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Cluster, Cluster]]:
    """Two handles on one cluster of the backend under test, as two servers would have."""
    first = open_backend(request, request.param, tmp_path / "cluster", "catalog")
    second = open_backend(request, request.param, tmp_path / "cluster", "catalog")
    yield first, second
    second.close()
    first.close()


def _settings(suffix: str) -> CatalogSettings:
    return CatalogSettings(topic=f"_catalog-{suffix}", events_topic=f"_catalog_events-{suffix}")


def _events(catalog: Catalog, kind: str) -> list[dict[str, object]]:
    return [event for event in catalog.events.read() if event["type"] == kind]


def test_the_owner_is_told_exactly_once_when_the_last_consumer_leaves(
    clusters: tuple[Cluster, Cluster], receiver: Receiver
) -> None:
    first, second = clusters
    suffix = uuid.uuid4().hex[:8]
    old, new, group = f"old-{suffix}", f"new-{suffix}", f"reader-{suffix}"
    first.create_topic(old, 2)
    first.create_topic(new, 2)
    first.produce(old, [Record(b"v", key=b"k")])
    first.commit_offsets(group, {TopicPartition(old, 0): OffsetAndMetadata(1)})

    one = Catalog(first, _settings(suffix)).start()
    two = Catalog(second, _settings(suffix)).start()
    try:
        one.set_settings(webhook_url=receiver.url)
        one.tag(old, owner="orders-team")
        one.deprecate(old, replacement=new, sunset="2030-01-01")

        (status,) = two.deprecations()
        assert status.counting == [group] and not status.safe_to_delete
        with pytest.raises(ConflictError, match=f"still has consumers \\({group}\\)"):
            two.retire(old)

        first.delete_group(group)
        barrier = threading.Barrier(2)

        def evaluate(catalog: Catalog) -> None:
            barrier.wait()
            catalog.deprecations()

        threads = [threading.Thread(target=evaluate, args=(c,)) for c in (one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        one.deprecations()  # a later evaluation tells nobody again

        events = _events(two, "no_consumers_left")
        assert [(e["topic"], e["owner"]) for e in events] == [(old, "orders-team")]
        assert [(b["type"], b["topic"]) for b in receiver.bodies] == [("no_consumers_left", old)]
        (status,) = one.deprecations()
        assert status.safe_to_delete

        outcome = two.retire(old)
        assert outcome["broken_consumers"] == []
        assert old not in first.list_topics()
        assert one.stream(old).lifecycle.value == "retired"
    finally:
        two.close()
        one.close()


def test_deprecating_again_after_undeprecating_tells_the_owner_again(
    clusters: tuple[Cluster, Cluster],
) -> None:
    cluster, _ = clusters
    suffix = uuid.uuid4().hex[:8]
    topic = f"old-{suffix}"
    cluster.create_topic(topic, 1)
    catalog = Catalog(cluster, _settings(suffix)).start()
    try:
        catalog.deprecate(topic)
        catalog.deprecations()
        catalog.undeprecate(topic)
        catalog.deprecate(topic)
        catalog.deprecations()
        catalog.deprecations()
        assert len(_events(catalog, "no_consumers_left")) == 2
    finally:
        catalog.close()


def test_an_idle_group_counts_until_the_horizon_then_the_stream_is_safe(
    clusters: tuple[Cluster, Cluster],
) -> None:
    cluster, _ = clusters
    suffix = uuid.uuid4().hex[:8]
    topic, group = f"old-{suffix}", f"idle-{suffix}"
    cluster.create_topic(topic, 1)
    cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(0)})
    now = [1_000_000.0]
    catalog = Catalog(cluster, _settings(suffix), clock=lambda: now[0]).start()
    try:
        catalog.set_settings(consumer_horizon_seconds=3600)
        catalog.deprecate(topic)
        assert catalog.deprecations()[0].counting == [group]
        now[0] += 3599
        assert catalog.deprecations()[0].counting == [group]
        now[0] += 2
        (status,) = catalog.deprecations()
        assert status.safe_to_delete
        assert [e["topic"] for e in _events(catalog, "no_consumers_left")] == [topic]
    finally:
        catalog.close()


def test_a_producer_that_is_not_the_owner_is_a_single_writer_violation(
    clusters: tuple[Cluster, Cluster],
) -> None:
    cluster, _ = clusters
    suffix = uuid.uuid4().hex[:8]
    topic = f"orders-{suffix}"
    cluster.create_topic(topic, 1)
    catalog = Catalog(cluster, _settings(suffix)).start()
    try:
        catalog.put_service("checkout", principals=["User:checkout-app"])
        catalog.tag(topic, owner="checkout")
        catalog.record_produce(topic, "User:checkout-app", "checkout-1")
        catalog.record_produce(topic, "User:mallory", "rogue")
        catalog.record_produce(topic, "User:mallory", "rogue")
        violations = _events(catalog, "single_writer_violation")
        assert [(e["topic"], e["principal"], e["owner"]) for e in violations] == [
            (topic, "User:mallory", "checkout")
        ]
        detail = catalog.describe(topic).to_dict()
        assert [(p["principal"], p["owner"]) for p in detail["producers"]] == [
            ("User:checkout-app", True),
            ("User:mallory", False),
        ]
        assert [d["kind"] for d in detail["drift"]] == ["single_writer_violation"]
    finally:
        catalog.close()


def test_describe_reports_declared_and_observed_consumers_as_drift(
    clusters: tuple[Cluster, Cluster],
) -> None:
    cluster, _ = clusters
    suffix = uuid.uuid4().hex[:8]
    topic, seen_group = f"orders-{suffix}", f"analytics-{suffix}"
    cluster.create_topic(topic, 1)
    for value in (b"1", b"2", b"3"):  # one per call: tansu misreports the end after a batch
        cluster.produce(topic, [Record(value)])
    cluster.commit_offsets(seen_group, {TopicPartition(topic, 0): OffsetAndMetadata(1)})
    catalog = Catalog(cluster, _settings(suffix)).start()
    try:
        catalog.put_service(f"billing-{suffix}", inputs=[topic])
        detail = catalog.describe(topic).to_dict()
        by_group = {c["group"]: c for c in detail["consumer_details"]}
        assert by_group[seen_group]["lag"] == 2 and not by_group[seen_group]["declared"]
        assert (
            by_group[f"billing-{suffix}"]["declared"]
            and not by_group[f"billing-{suffix}"]["observed"]
        )
        assert sorted(d["kind"] for d in detail["drift"]) == [
            "declared_not_seen",
            "seen_not_declared",
        ]
        assert sorted(detail["consumers"]) == sorted([seen_group, f"billing-{suffix}"])
    finally:
        catalog.close()
