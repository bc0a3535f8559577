"""Fixtures shared by the whole suite: data directories and the real Kafka-protocol broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.brokers import kafka_bootstrap as _kafka_bootstrap

# Hypothesis's per-example deadline is a wall-clock assertion: on a loaded machine it fails
# examples that are correct, so the suite judges behaviour only.
settings.register_profile("streamgov", deadline=None, print_blob=True)
settings.load_profile("streamgov")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real Kafka-protocol broker shared by the session."""
    with _kafka_bootstrap() as bootstrap:
        yield bootstrap


@pytest.fixture()
def streamgov_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty STREAMGOV_HOME for one test."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("STREAMGOV_HOME", str(home))
    monkeypatch.delenv("STREAMGOV_BOOTSTRAP", raising=False)
    return home
