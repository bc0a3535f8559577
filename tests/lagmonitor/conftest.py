"""A `cluster` fixture for the lag monitor's end-to-end tests: once per backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cluster import Cluster
from tests.brokers import open_backend


@pytest.fixture(params=["embedded", pytest.param("kafka", marks=pytest.mark.kafka)])
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    """An embedded cluster in a fresh directory, or a Kafka cluster on the test broker."""
    opened = open_backend(request, request.param, tmp_path / "cluster", "lag")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture()
def unique() -> str:
    """A suffix that keeps topic and group names apart on the shared broker."""
    return uuid.uuid4().hex[:8]
