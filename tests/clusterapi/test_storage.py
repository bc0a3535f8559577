"""Storage failures over HTTP: a damaged topic file takes down only that topic; a full disk is a
507 in the error shape naming the data directory, on `/v3` and on the registry alike."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from engine.types import Record
from streamgov.cli import cli
from streamgov.server import ServerSettings, create_app
from tests.engine.embedded.test_storage import damage, fill, small_disk, topic_file

__all__ = ["small_disk"]  # a fixture, used by name

BASE = "/v3/clusters/default"
JSON = {"Content-Type": "application/json"}


@contextlib.contextmanager
def served(data: Path) -> Iterator[TestClient]:
    cluster = EmbeddedCluster(data, name="default", maintenance_interval_s=None)
    app = create_app(cluster, ServerSettings(lag_interval_seconds=3600))
    try:
        with TestClient(app, base_url="http://localhost") as client:
            yield client
    finally:
        app.state.services.close()
        cluster.close()


def test_a_damaged_topic_is_listed_as_damaged_and_only_its_endpoints_fail(
    tmp_path: Path, streamgov_home: Path
) -> None:
    data = streamgov_home / "clusters" / "default"
    with EmbeddedCluster(data, name="default", maintenance_interval_s=None) as cluster:
        cluster.create_topic("good")
        cluster.create_topic("bad", 2)
        cluster.produce("bad", [Record(b"b" * 1000, partition=0)] * 50)
        bad_file = topic_file(cluster, "bad")
    for suffix in ("-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{bad_file}{suffix}")
    damage(bad_file)
    with served(data) as client:
        listed = client.get(f"{BASE}/topics")
        assert listed.status_code == 200, listed.text
        by_name = {t["topic_name"]: t for t in listed.json()["data"]}
        assert by_name["good"]["damaged"] is None and by_name["good"]["partitions_count"] == 1
        assert str(bad_file) in by_name["bad"]["damaged"]
        for method, path in (
            ("GET", f"{BASE}/topics/bad"),
            ("GET", f"{BASE}/topics/bad/partitions"),
            ("GET", f"{BASE}/topics/bad/partitions/0/records"),
            ("POST", f"{BASE}/topics/bad/records"),
        ):
            body = {"value": {"type": "STRING", "data": "x"}} if method == "POST" else None
            answer = client.request(method, path, json=body)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error_code"] == 50303
            assert str(bad_file) in answer.json()["message"]
        produced = client.post(
            f"{BASE}/topics/good/records", json={"value": {"type": "STRING", "data": "g"}}
        )
        assert produced.status_code == 200, produced.text
        assert client.post("/subjects/s-value/versions", json={"schema": '"int"'}).json() == {
            "id": 1
        }
    described = CliRunner().invoke(cli, ["topics", "describe", "bad"])
    assert described.exit_code == 1
    assert described.output.count("\n") == 1 and str(bad_file) in described.output


def test_a_full_disk_is_507_in_the_error_shape_and_heals(small_disk: Path) -> None:
    data = small_disk / "cluster"
    with served(data) as client:
        assert client.post(f"{BASE}/topics", json={"topic_name": "t"}).status_code == 201
        registered = client.post("/subjects/a-value/versions", json={"schema": '"int"'})
        assert registered.json() == {"id": 1}
        filler = fill(small_disk)
        big = {"value": {"type": "BINARY", "data": "A" * 200_000}}
        answers = [client.post(f"{BASE}/topics/t/records", json=big) for _ in range(20)]
        full = [a for a in answers if a.status_code != 200]
        assert full, "the disk never filled"
        assert full[0].status_code == 507, full[0].text
        assert full[0].json()["error_code"] == 50701
        assert str(data) in full[0].json()["message"]
        symbols = [f"S{i}" for i in range(5000)]
        schema = json.dumps({"type": "enum", "name": "E", "symbols": symbols})
        refused = client.post("/subjects/b-value/versions", json={"schema": schema})
        assert refused.status_code == 507, refused.text
        assert refused.headers["content-type"].startswith("application/vnd.schemaregistry")
        assert str(data) in refused.json()["message"]
        created = client.post(f"{BASE}/topics", json={"topic_name": "u"})
        assert created.status_code == 507
        filler.unlink()
        assert client.post("/subjects/b-value/versions", json={"schema": schema}).json() == {
            "id": 2
        }
        assert client.post(f"{BASE}/topics", json={"topic_name": "u"}).status_code == 201


def test_a_full_disk_is_one_cli_line_naming_the_data_directory(
    small_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STREAMGOV_HOME", str(small_disk / "home"))
    monkeypatch.delenv("STREAMGOV_BOOTSTRAP", raising=False)
    runner = CliRunner()
    assert runner.invoke(cli, ["topics", "create", "t"]).exit_code == 0
    filler = fill(small_disk)
    payload = "".join(f"{'x' * 5000}-{i}\n" for i in range(400))
    produced = runner.invoke(cli, ["produce", "t"], input=payload)
    assert produced.exit_code == 1
    last = produced.output.strip().splitlines()[-1]
    assert "no space left" in last and str(small_disk / "home") in last
    assert "Traceback" not in produced.output
    created = runner.invoke(cli, ["topics", "create", "u"])
    assert created.exit_code == 1 and created.output.count("\n") == 1
    filler.unlink()
    assert runner.invoke(cli, ["topics", "create", "u"]).exit_code == 0
