"""A `cluster` fixture for the lag monitor's end-to-end tests: once per backend."""

from __future__ import annotations

import time
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


class ManualClock:
    """The lag monitor's clock in tests: time passes only when the test says so."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds


@pytest.fixture()
def clock() -> ManualClock:
    """A manual clock starting now (record timestamps are real, so time lags stay sane)."""
    return ManualClock()
