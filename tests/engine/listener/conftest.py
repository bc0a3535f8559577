"""Fixtures of the listener tests: one listener per test module over a fresh embedded cluster
(tests take unique topic and group names), and helpers to wait on conditions."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener

_STARTED = """
import sys
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
cluster = EmbeddedCluster(sys.argv[1], maintenance_interval_s=None)
listener = KafkaListener(cluster, "127.0.0.1", 0).start()
assert listener.schemas_loaded.wait(120)
{probe}
listener.stop()
cluster.close()
"""


def probe_started_listener(probe: str, directory: Path) -> str:
    """What `probe` (Python source) prints in a fresh process once a listener over a cluster
    in `directory` has started and loaded its message classes."""
    result = subprocess.run(
        [sys.executable, "-c", _STARTED.format(probe=probe), str(directory)],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    return result.stdout


@dataclass
class Served:
    """A running listener and the cluster it serves."""

    listener: KafkaListener
    cluster: EmbeddedCluster

    @property
    def bootstrap(self) -> str:
        """host:port for Kafka clients."""
        return self.listener.bootstrap


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A listener shared by the module's tests."""
    directory: Path = tmp_path_factory.mktemp("listener")
    cluster = EmbeddedCluster(directory, maintenance_interval_s=None)
    listener = KafkaListener(cluster, "127.0.0.1", 0).start()
    try:
        yield Served(listener, cluster)
    finally:
        listener.stop()
        cluster.close()


def unique(prefix: str) -> str:
    """A topic or group name no other test uses."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_until(condition: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll `condition` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)
