"""The `cluster` fixture: every contract test runs once per backend.

`embedded` is an `EmbeddedCluster` in a fresh directory; `kafka` is a `KafkaCluster` on the
session's real broker (tansu); `listener` is a `KafkaCluster` on streamgov's own Kafka
listener serving an `EmbeddedCluster`. Both brokers are shared by every test, so each test
takes unique topic and group names from the `names` fixture. Where tansu lacks a Kafka
feature, a test marks itself with `broker_lacks(...)`, naming the missing feature; the mark
is strict (and applies to tansu only), so a broker that gains the feature turns the test red
until the mark is removed.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.cluster import Cluster
from tests.brokers import listener_broker, open_backend

BACKENDS = [
    "embedded",
    pytest.param("kafka", marks=pytest.mark.kafka),
    pytest.param("listener", marks=pytest.mark.kafka),
]


@pytest.fixture(scope="session")
def listener_bootstrap() -> Iterator[str]:
    """Bootstrap address of streamgov's own Kafka listener, shared by the session."""
    with listener_broker() as bootstrap:
        yield bootstrap


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Which backend this run of the test uses."""
    return str(request.param)


@pytest.fixture()
def cluster(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[Cluster]:
    """A cluster of the backend under test."""
    opened = open_backend(request, backend, tmp_path / "cluster", "contract")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture()
def open_cluster(
    request: pytest.FixtureRequest, backend: str, tmp_path: Path
) -> Iterator[Callable[[], Cluster]]:
    """Opens further clients of the same cluster (as a second process would)."""
    opened: list[Cluster] = []

    def make() -> Cluster:
        handle = open_backend(request, backend, tmp_path / "cluster", "contract")
        opened.append(handle)
        return handle

    yield make
    for handle in opened:
        handle.close()


class Names:
    """Topic and group names unique to one test (the Kafka broker is shared)."""

    def __init__(self, test_name: str) -> None:
        stem = re.sub(r"[^A-Za-z0-9]+", "-", test_name).strip("-")[:60]
        self._prefix = f"{stem}-{uuid.uuid4().hex[:8]}"

    def topic(self, suffix: str = "t") -> str:
        """A topic name no other test uses."""
        return f"{self._prefix}-{suffix}"

    def group(self, suffix: str = "g") -> str:
        """A consumer group id no other test uses."""
        return f"{self._prefix}-group-{suffix}"


@pytest.fixture()
def names(request: pytest.FixtureRequest) -> Names:
    """Unique names for this test."""
    return Names(request.node.name)


def on_tansu(backend: str) -> bool:
    """Whether the backend under test is the suite's own tansu broker."""
    return backend == "kafka" and not os.environ.get("KAFKA_BOOTSTRAP")


@pytest.fixture()
def broker_lacks(request: pytest.FixtureRequest, backend: str) -> Callable[[str], None]:
    """Call with the precise reason to mark this test as failing on tansu for that reason."""

    def mark(reason: str) -> None:
        if on_tansu(backend):
            request.applymarker(pytest.mark.xfail(reason=f"tansu 0.6: {reason}", strict=True))

    return mark
