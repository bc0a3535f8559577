"""`streamgov up` serves Kafka clients: it prints the bootstrap address, records produced
through Kafka reach the engine's readers, and a SIGKILL of the server loses no record that
was acknowledged with acks=all; after a restart the same producer carries on, and what it
retries is not written twice."""

from __future__ import annotations

import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import confluent_kafka
import pytest
from confluent_kafka.admin import AdminClient, NewTopic

from engine.embedded import EmbeddedCluster
from tests.brokers import free_port
from tests.engine.listener.conftest import wait_until
from tests.registry.registry_server import start_up

pytestmark = pytest.mark.kafka


def start(home: Path, port: int, kafka_port: int) -> subprocess.Popen[bytes]:
    """`streamgov up` with its Kafka listener on `kafka_port`."""
    return start_up(home, port, "--kafka-port", str(kafka_port), "--lag-interval", "60")


def test_up_prints_the_bootstrap_and_a_sigkill_loses_no_acknowledged_record(
    tmp_path: Path,
) -> None:
    port, kafka_port = free_port(), free_port()
    proc = start(tmp_path, port, kafka_port)
    bootstrap = f"127.0.0.1:{kafka_port}"
    assert proc.stdout is not None
    banner = b""
    while b"Kafka bootstrap" not in banner:
        banner += proc.stdout.readline()
    assert f"Kafka bootstrap: {bootstrap}".encode() in banner

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("crash", 2, 1)])["crash"].result(20)
    acked: list[bytes] = []
    failed: list[Any] = []
    producer = confluent_kafka.Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 1,
            "message.timeout.ms": 120_000,
            "reconnect.backoff.max.ms": 200,
        }
    )

    def report(err: Any, msg: Any) -> None:
        (failed if err else acked).append(err or msg.value())

    stop = threading.Event()

    def keep_producing() -> None:
        i = 0
        while not stop.is_set():
            try:
                producer.produce("crash", b"%08d" % i, b"k%d" % (i % 50), on_delivery=report)
                i += 1
            except BufferError:
                pass
            producer.poll(0.001)

    writer = threading.Thread(target=keep_producing)
    writer.start()
    try:
        wait_until(lambda: len(acked) > 2_000, what="acknowledged records before the kill")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        before_restart = len(acked)
        proc = start(tmp_path, port, kafka_port)
        wait_until(lambda: len(acked) > before_restart + 2_000, what="the producer to resume")
    finally:
        stop.set()
        writer.join()
        assert producer.flush(60) == 0
        proc.terminate()
        proc.wait(timeout=30)
    assert failed == []
    cluster = EmbeddedCluster(tmp_path / "clusters" / "default", maintenance_interval_s=None)
    try:
        stored = [
            r.value
            for p in (0, 1)
            for r in cluster.fetch("crash", p, 0, max_records=10**7, max_bytes=1 << 30)
        ]
    finally:
        cluster.close()
    assert set(acked) <= set(stored)
    # The idempotent producer's batches retried across the restart were not written twice.
    assert len(stored) == len(set(stored))
