"""Property-based fuzzing of the whole REST API from its own `/openapi.json`: the schema
registry, the cluster admin API (`/v3`), the lag monitor (`/lag`, `/metrics`). Whatever a client
sends, the answer is never a server error; its status code, content type and body are the ones
the operation documents.

One application over one embedded cluster serves every case. The cluster holds something to
find (a registered schema, a topic with records, a consumer group with committed offsets) and
`cluster_id` is always the served cluster's. A second pass pins topic and group names to the
seeded ones, so the `/v3` and `/lag` operations get past "not found" into their real work.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, Record, TopicPartition
from streamgov.server import ServerSettings, create_app

CLUSTER = "fuzz"
TOPIC = "orders"
GROUP = "billing"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
#: operations that name a topic or a group (the second pass pins those names)
NAMED_RESOURCES = (
    r"^/(v3/clusters/\{cluster_id\}/(topics/\{topic_name\}|consumer-groups/\{consumer_group_id\})"
    r"|lag/)"
)
#: deleting the seeded topic would leave the operations after it nothing to work on
TOPIC_PATH = "/v3/clusters/{cluster_id}/topics/{topic_name}"


def fuzz_settings(examples: int) -> Any:
    """Hypothesis settings for one pass: reproducible, no deadline, `examples` per operation."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )


def seed(cluster: EmbeddedCluster, app: FastAPI) -> None:
    """Something for lookups, reads and deletes to find."""
    app.state.schema_registry.register(
        "fuzz-value", {"schema": '{"type":"record","name":"F","fields":[]}'}
    )
    cluster.create_topic(TOPIC, partitions=2)
    cluster.produce(TOPIC, [Record(b"v%d" % i, key=b"k%d" % i) for i in range(10)])
    committed = {
        TopicPartition(TOPIC, 0): OffsetAndMetadata(1),
        TopicPartition(TOPIC, 1): OffsetAndMetadata(0),
    }
    cluster.commit_offsets(GROUP, committed)


def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """A seeded application over its own cluster."""
    cluster = EmbeddedCluster(Path(tmp_path_factory.mktemp("fuzz")), name=CLUSTER)
    # Schemathesis calls the application as `testserver`.
    settings = ServerSettings(lag_interval_seconds=0.2, allowed_hosts=("testserver",))
    application = create_app(cluster, settings)
    seed(cluster, application)
    yield application
    application.state.services.close()
    cluster.close()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    yield from serve(tmp_path_factory)


@pytest.fixture(scope="module")
def other_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    """An application of its own: a pass's end runs the shutdown hook, which closes the
    components, and a later pass must not meet them closed."""
    yield from serve(tmp_path_factory)


def load(app: FastAPI, parameters: dict[str, str], coverage: bool = True) -> Any:
    phases = {"coverage": {"enabled": coverage}}
    config = SchemathesisConfig.from_dict({"parameters": parameters, "phases": phases})
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def whole_api(app: FastAPI) -> Any:
    return load(app, {"path.cluster_id": CLUSTER})


@pytest.fixture(scope="module")
def other_api(other_app: FastAPI) -> Any:
    return load(other_app, {"path.cluster_id": CLUSTER})


@pytest.fixture(scope="module")
def seeded_names(app: FastAPI) -> Any:
    pinned = {"path.topic_name": TOPIC, "path.consumer_group_id": GROUP, "path.group": GROUP}
    # The boundary cases of the coverage phase are covered by the first pass already.
    return load(app, {"path.cluster_id": CLUSTER, **pinned}, coverage=False)


def check(case: Any) -> None:
    # growing a topic to thousands of partitions takes seconds on a loaded machine
    response = case.call(timeout=120)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}"
    )
    case.validate_response(response, checks=CHECKS)


#: the registry's paths; its operations and the other components' run as separate tests, so a
#: parallel run spreads them over two workers
REGISTRY_PATHS = r"^/(subjects|schemas|config|mode|compatibility|contexts|associations)(/|$)"
whole = schemathesis.pytest.from_fixture("whole_api")
registry_operations = whole.include(path_regex=REGISTRY_PATHS)
other_operations = schemathesis.pytest.from_fixture("other_api").exclude(path_regex=REGISTRY_PATHS)
named = (
    schemathesis.pytest.from_fixture("seeded_names")
    .include(path_regex=NAMED_RESOURCES)
    .exclude(method="DELETE", path=TOPIC_PATH)
)


@pytest.mark.slow
@registry_operations.parametrize()
@fuzz_settings(20)
def test_every_registry_operation_answers_as_documented(case: Any) -> None:
    check(case)


@pytest.mark.slow
@other_operations.parametrize()
@fuzz_settings(20)
def test_every_other_operation_answers_as_documented(case: Any) -> None:
    check(case)


@pytest.mark.slow
@named.parametrize()
@fuzz_settings(20)
def test_operations_on_existing_topics_and_groups_answer_as_documented(case: Any) -> None:
    check(case)
