"""Flows from `streamgov.yaml` running inside the server: `/replication`, `/metrics`, and
strict file:line errors for a bad `replication:` section."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from engine.types import Record
from registry.check.yamlfile import ConfigFileError
from streamgov.config import embedded_cluster_path
from streamgov.replication import project_flows
from streamgov.server import ServerSettings, create_app


def test_flows_run_inside_the_server_and_report(streamgov_home: Path, tmp_path: Path) -> None:
    east = EmbeddedCluster(embedded_cluster_path("east"), name="east")
    east.create_topic("orders", 2)
    east.produce("orders", [Record(b"v", partition=i % 2) for i in range(30)])
    config = tmp_path / "streamgov.yaml"
    config.write_text(
        "replication:\n"
        "  flows:\n"
        "    - source: east\n"
        "      target: west\n"
        "      topics: orders\n"
        "      refresh_interval: 1\n"
    )
    home = EmbeddedCluster(embedded_cluster_path("home"), name="home")
    app = create_app(home, ServerSettings(replication=project_flows(config)))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        deadline = time.monotonic() + 30
        while True:
            body = client.get("/replication").json()
            assert "flows" in body, body
            if body["flows"][0]["records"] == 30:
                break
            assert time.monotonic() < deadline, body
            time.sleep(0.02)
        flow = client.get("/replication/flows/east->west").json()
        assert flow["state"] == "running" and flow["lag_records"] == 0
        assert {(p["remote_topic"], p["exact"]) for p in flow["partitions"]} == {
            ("east.orders", True)
        }
        missing = client.get("/replication/flows/nope->west")
        assert missing.status_code == 404 and missing.json()["error_code"] == 40401
        metrics = client.get("/metrics").text
        assert (
            'kafka_connect_mirror_source_connector_record_count{source="east",target="west",'
            'topic="east.orders",partition="0"} 15' in metrics
        )
        assert "streamgov_replication_lag_records" in metrics
    home.close()
    east.close()


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("replication:\n  flows:\n    - source: east\n", 3, "needs source and target"),
        (
            "replication:\n  flows:\n    - source: a\n      target: b\n      topic: x\n",
            5,
            "unknown key",
        ),
        ("replication:\n  flows:\n    - {source: a, target: a}\n", 3, "same cluster"),
        ("replication:\n  flows:\n    - {source: a, target: b, topics: '('}\n", 3, "regex"),
        ("replication:\n  flow: []\n", 2, "unknown key"),
    ],
)
def test_bad_sections_name_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    config = tmp_path / "streamgov.yaml"
    config.write_text(text)
    with pytest.raises(ConfigFileError) as caught:
        project_flows(config)
    assert f"streamgov.yaml:{line}:" in str(caught.value) and message in str(caught.value)
