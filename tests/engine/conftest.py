"""Fixtures of the engine tests: embedded clusters in temporary directories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster


@pytest.fixture()
def make_cluster(tmp_path: Path) -> Iterator[Callable[..., EmbeddedCluster]]:
    """Open embedded clusters under the test's directory; all are closed afterwards."""
    opened: list[EmbeddedCluster] = []

    def make(name: str = "default", **options: object) -> EmbeddedCluster:
        options.setdefault("maintenance_interval_s", None)
        cluster = EmbeddedCluster(tmp_path / name, name, **options)  # type: ignore[arg-type]
        opened.append(cluster)
        return cluster

    yield make
    for cluster in opened:
        cluster.close()


@pytest.fixture()
def cluster(make_cluster: Callable[..., EmbeddedCluster]) -> EmbeddedCluster:
    """One embedded cluster without background maintenance."""
    return make_cluster()
