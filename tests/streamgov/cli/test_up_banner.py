"""What `streamgov up` says it serves and what to do next."""

from __future__ import annotations

from pathlib import Path

from streamgov.cli.up import banner
from tests.brokers import free_port
from tests.registry.registry_server import read_banner, start_up, stop


def test_the_banner_names_everything_served_and_the_next_steps() -> None:
    lines = banner(
        cluster_label="cluster 'default'",
        url="http://127.0.0.1:8081",
        kafka_bootstrap="127.0.0.1:9092",
        data_dir=Path("/data/clusters/default"),
        engine="C fast path: active",
    )
    assert lines[1:5] == [
        "  REST API and schema registry: http://127.0.0.1:8081",
        "  Kafka bootstrap: 127.0.0.1:9092",
        "  Metrics: http://127.0.0.1:8081/metrics",
        "  Data directory: /data/clusters/default",
    ]
    assert "`streamgov tui`" in lines[-2] and "STREAMGOV_URL=http://127.0.0.1:8081" in lines[-2]
    assert lines[-1] == "Press Ctrl-C to stop."


def test_on_kafka_or_another_port_the_banner_says_so() -> None:
    lines = banner(
        cluster_label="Kafka cluster b:9092",
        url="http://0.0.0.0:9000",
        kafka_bootstrap=None,
        data_dir=None,
        engine="",
    )
    assert not any("Kafka bootstrap" in line or "Data directory" in line for line in lines)
    assert "`streamgov tui --url http://0.0.0.0:9000`" in lines[-2]


def test_a_real_up_prints_the_banner(tmp_path: Path) -> None:
    port = free_port()
    proc = start_up(tmp_path, port)
    try:
        seen = read_banner(proc)
        assert f"  REST API and schema registry: http://127.0.0.1:{port}" in seen
        assert f"  Data directory: {tmp_path / 'clusters' / 'default'}" in seen
        assert not any("Kafka bootstrap" in line for line in seen)  # started with --no-kafka
    finally:
        stop(proc)
