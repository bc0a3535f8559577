"""REST listings with `--auth` leave out what the principal may not DESCRIBE (as Kafka's
Metadata leaves out topics), never answering 403; a super user sees everything, and a
listing's left-out items are not audited as denials."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acl.audit import AUTHORIZATION, AuditLog
from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.rest_rules import filter_listing, listing_of
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, TopicPartition
from streamgov.server import ServerSettings, create_app, serve_in_thread
from tests.acl.http import http

SCHEMA = json.dumps("string")
VIEWER = ("viewer", "viewer-pw")
ADMIN = ("admin", "admin-pw")


def allow(kind: ResourceType, name: str, operation: Operation, prefixed: bool = False) -> Acl:
    pattern = PatternType.PREFIXED if prefixed else PatternType.LITERAL
    return Acl(kind, name, pattern, "User:viewer", "*", operation, Permission.ALLOW)


@dataclass
class Server:
    url: str
    cluster: EmbeddedCluster


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    directory: Path = tmp_path_factory.mktemp("rest-listings")
    cluster = EmbeddedCluster(directory, name="listed")
    for topic in ("visible-orders", "hidden-payments"):
        cluster.create_topic(topic, 1)
    for group, topic in (("g-visible", "visible-orders"), ("g-hidden", "hidden-payments")):
        cluster.commit_offsets(group, {TopicPartition(topic, 0): OffsetAndMetadata(0)})
    # one group committed on both topics: its lags list only the describable one
    cluster.commit_offsets(
        "g-visible",
        {
            TopicPartition("visible-orders", 0): OffsetAndMetadata(0),
            TopicPartition("hidden-payments", 0): OffsetAndMetadata(0),
        },
    )
    setup = AccessControl(cluster).start()
    setup.add_user(*VIEWER)
    setup.add_user(*ADMIN)
    setup.add(
        [
            allow(ResourceType.TOPIC, "visible-", Operation.DESCRIBE, prefixed=True),
            allow(ResourceType.GROUP, "g-visible", Operation.READ),
            allow(ResourceType.SUBJECT, "visible-orders-value", Operation.READ),
        ]
    )
    setup.close()
    app = create_app(cluster, ServerSettings(auth=True, super_users=("User:admin",)))
    try:
        with serve_in_thread(app) as url:
            for subject in ("visible-orders-value", "hidden-payments-value"):
                registered = http.post(
                    f"{url}/subjects/{subject}/versions", json={"schema": SCHEMA}, auth=ADMIN
                )
                assert registered.status_code == 200, registered.text
            yield Server(url, cluster)
    finally:
        app.state.services.close()
        cluster.close()


def get(server: Server, path: str, auth: tuple[str, str]) -> object:
    response = http.get(f"{server.url}{path}", auth=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_registry_listings_name_only_describable_subjects(server: Server) -> None:
    assert get(server, "/subjects", VIEWER) == ["visible-orders-value"]
    assert set(get(server, "/subjects", ADMIN)) == {"visible-orders-value", "hidden-payments-value"}
    assert get(server, "/schemas/ids/1/subjects", VIEWER) == ["visible-orders-value"]
    assert get(server, "/schemas/ids/1/versions", VIEWER) == [
        {"subject": "visible-orders-value", "version": 1}
    ]
    schemas = get(server, "/schemas", VIEWER)
    assert isinstance(schemas, list)
    assert [s["subject"] for s in schemas] == ["visible-orders-value"]


def test_v3_listings_name_only_describable_topics_and_groups(server: Server) -> None:
    base = "/v3/clusters/listed"
    topics = get(server, f"{base}/topics", VIEWER)
    assert isinstance(topics, dict)
    assert [t["topic_name"] for t in topics["data"]] == ["visible-orders"]
    every = get(server, f"{base}/topics", ADMIN)
    assert isinstance(every, dict)
    assert {"visible-orders", "hidden-payments"} <= {t["topic_name"] for t in every["data"]}
    groups = get(server, f"{base}/consumer-groups", VIEWER)
    assert isinstance(groups, dict)
    assert [g["consumer_group_id"] for g in groups["data"]] == ["g-visible"]
    lags = get(server, f"{base}/consumer-groups/g-visible/lags", VIEWER)
    assert isinstance(lags, dict)
    assert {lag["topic_name"] for lag in lags["data"]} == {"visible-orders"}


def test_catalog_search_names_only_describable_topics(server: Server) -> None:
    hits = get(server, "/catalog/search?q=payments", VIEWER)
    assert hits == []
    admin_hits = get(server, "/catalog/search?q=payments", ADMIN)
    assert isinstance(admin_hits, list)
    assert [h["topic"] for h in admin_hits] == ["hidden-payments"]


def test_left_out_items_are_not_audited_as_denials(server: Server) -> None:
    for _ in range(3):
        get(server, "/subjects", VIEWER)
    denials = [
        e
        for e in AuditLog(server.cluster).read()
        if e["type"] == AUTHORIZATION
        and e["data"]["authenticationInfo"]["principal"] == "User:viewer"
    ]
    assert denials == []


def test_only_get_listings_are_filtered() -> None:
    assert listing_of("GET", "/subjects") is not None
    assert listing_of("HEAD", "/subjects") is None
    assert listing_of("POST", "/subjects/x/versions") is None
    assert listing_of("GET", "/subjects/x/versions") is None
    assert listing_of("GET", "/v3/clusters/c/topics/t/partitions") is None


NAMES = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=12)


@settings(deadline=None)  # a loaded machine must not fail a rule that holds
@given(NAMES, st.sets(st.sampled_from(["a", "b", "c", "d", "e"])))
def test_filtering_keeps_exactly_the_describable_items_in_order(
    names: list[str], allowed: set[str]
) -> None:
    entry = listing_of("GET", "/v3/clusters/c/topics")
    assert entry is not None
    body = {
        "kind": "KafkaTopicList",
        "data": [{"topic_name": n, "i": i} for i, n in enumerate(names)],
    }
    kept = filter_listing(body, entry, allowed.__contains__)
    assert kept["kind"] == "KafkaTopicList"
    assert kept["data"] == [item for item in body["data"] if item["topic_name"] in allowed]


@settings(deadline=None)
@given(st.lists(NAMES, max_size=4), st.sets(st.sampled_from(["a", "b", "c", "d", "e"])))
def test_nested_listings_filter_every_flow(flows: list[list[str]], allowed: set[str]) -> None:
    entry = listing_of("GET", "/replication")
    assert entry is not None
    body = {
        "flows": [
            {"name": str(i), "partitions": [{"topic": n} for n in f]} for i, f in enumerate(flows)
        ]
    }
    kept = filter_listing(body, entry, allowed.__contains__)
    assert [flow["name"] for flow in kept["flows"]] == [str(i) for i in range(len(flows))]
    for flow, names in zip(kept["flows"], flows, strict=True):
        assert [p["topic"] for p in flow["partitions"]] == [n for n in names if n in allowed]
