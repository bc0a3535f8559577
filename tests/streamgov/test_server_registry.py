"""The server's composition root mounts the registry; `streamgov up` and `streamgov registry`
work end to end."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from engine.embedded import EmbeddedCluster
from registry.service import SchemaRegistry
from streamgov.cli import cli
from streamgov.config import ClusterSettings
from streamgov.server import create_app
from tests.brokers import free_port
from tests.registry.registry_server import serve_in_thread, start_up, stop

AVRO = json.dumps({"type": "record", "name": "Cli", "fields": [{"name": "a", "type": "int"}]})
#: how the registry answers AVRO: its canonical string
AVRO_CANONICAL = '{"type":"record","name":"Cli","fields":[{"name":"a","type":"int"}]}'
AVRO_V2_BAD = json.dumps(
    {
        "type": "record",
        "name": "Cli",
        "fields": [{"name": "a", "type": "int"}, {"name": "b", "type": "string"}],
    }
)


def test_create_app_mounts_the_registry_and_closes_it(tmp_path: Path) -> None:
    cluster = EmbeddedCluster(tmp_path, name="srv")
    app = create_app(cluster)
    with TestClient(app, base_url="http://localhost") as client:
        assert client.get("/schemas/types").status_code == 200
        assert "/subjects/{subject}/versions" in client.get("/openapi.json").json()["paths"]
    assert app.state.services.closers == []
    cluster.close()


@pytest.fixture()
def registry_url(tmp_path: Path) -> Iterator[str]:
    cluster = EmbeddedCluster(tmp_path, name="cli")
    app = create_app(cluster)
    with serve_in_thread(app) as url:
        yield url
    app.state.services.close()
    cluster.close()


def run(url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["registry", "--url", url, *args])
    return result.exit_code, result.output


def test_registry_cli_round_trip(registry_url: str, tmp_path: Path) -> None:
    schema_file = tmp_path / "v1.avsc"
    schema_file.write_text(AVRO)
    bad_file = tmp_path / "v2.avsc"
    bad_file.write_text(AVRO_V2_BAD)
    code, out = run(registry_url, "register", "cli-value", str(schema_file))
    assert code == 0 and out.strip() == "1"
    assert run(registry_url, "subjects") == (0, "cli-value\n")
    assert run(registry_url, "versions", "cli-value") == (0, "1\n")
    code, out = run(registry_url, "get", "cli-value")
    assert code == 0 and json.loads(out)["schema"] == AVRO_CANONICAL
    code, out = run(registry_url, "get", "--id", "1", "--schema-only")
    assert out.strip() == AVRO_CANONICAL
    code, out = run(registry_url, "compat", "cli-value", str(bad_file))
    assert code == 1 and "incompatible" in out and "b" in out
    code, out = run(registry_url, "register", "cli-value", str(bad_file))
    assert code == 1 and "incompatible" in out and "Traceback" not in out
    assert run(registry_url, "config", "cli-value", "--set", "none")[0] == 0
    assert run(registry_url, "compat", "cli-value", str(bad_file)) == (0, "compatible\n")
    shown = json.loads(run(registry_url, "config", "cli-value", "--format", "json")[1])
    assert (shown["compatibilityLevel"], shown["compatibilityLevelSource"]) == ("NONE", "subject")
    assert run(registry_url, "mode") == (0, "READWRITE\n")
    assert run(registry_url, "mode", "cli-value", "--set", "readonly") == (0, "READONLY\n")
    assert run(registry_url, "mode", "cli-value", "--delete") == (0, "READONLY\n")
    assert run(registry_url, "delete", "cli-value") == (0, "1\n")
    assert run(registry_url, "delete", "cli-value", "--permanent") == (0, "1\n")
    code, out = run(registry_url, "versions", "cli-value")
    assert code == 1 and "not found" in out


def test_registry_cli_reports_unreachable_registry_in_one_line() -> None:
    code, out = run(f"http://127.0.0.1:{free_port()}", "subjects")
    assert code == 1 and "cannot reach" in out and "Traceback" not in out


def test_up_serves_with_nothing_to_configure_and_refuses_a_busy_port(tmp_path: Path) -> None:
    port = free_port()
    proc = start_up(tmp_path, port)
    try:
        assert (tmp_path / "clusters" / "default").is_dir()
        result = CliRunner().invoke(cli, ["up", "--port", str(port)])
        assert result.exit_code == 1
        assert "cannot listen" in result.output
    finally:
        stop(proc)


def test_up_keeps_the_registry_on_the_schemas_topic_it_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    proc = start_up(tmp_path, port, "--schemas-topic", "_schemas_streamgov")
    try:
        url = f"http://127.0.0.1:{port}"
        answer = httpx.post(f"{url}/subjects/kept-value/versions", json={"schema": AVRO})
        assert answer.json() == {"id": 1}
    finally:
        stop(proc)
    monkeypatch.setenv("STREAMGOV_HOME", str(tmp_path))
    monkeypatch.delenv("STREAMGOV_BOOTSTRAP", raising=False)
    cluster = ClusterSettings.resolve(None, None).open()
    try:
        assert "_schemas_streamgov" in cluster.list_topics(include_internal=True)
        on_default = SchemaRegistry(cluster).start()
        on_given = SchemaRegistry(cluster, "_schemas_streamgov").start()
        try:
            assert on_default.subjects() == []
            assert on_given.subjects() == ["kept-value"]
        finally:
            on_default.close()
            on_given.close()
    finally:
        cluster.close()


def test_up_refuses_an_illegal_schemas_topic_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["up", "--schemas-topic", "no spaces"])
    assert result.exit_code == 2
    assert "--schemas-topic" in result.output and "illegal" in result.output
    assert "Traceback" not in result.output


def test_up_on_every_address_without_auth_is_refused_unless_insecure() -> None:
    result = CliRunner().invoke(cli, ["up", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "without authentication" in result.output and "--auth" in result.output
    assert "Traceback" not in result.output


def test_up_insecure_on_every_address_warns_and_serves_only_known_host_names(
    tmp_path: Path,
) -> None:
    port = free_port()
    proc = start_up(
        tmp_path, port, "--host", "0.0.0.0", "--insecure", "--allowed-host", "registry.example"
    )
    try:
        url = f"http://127.0.0.1:{port}/subjects"
        assert httpx.get(url, headers={"Host": "registry.example"}).status_code == 200
        refused = httpx.get(url, headers={"Host": "rebound.attacker.example"})
        assert refused.status_code == 400 and "--allowed-host" in refused.json()["message"]
    finally:
        output = stopped_output(proc)
    assert "warning: listening on 0.0.0.0 without authentication" in output


def test_up_on_loopback_does_not_warn(tmp_path: Path) -> None:
    assert "warning" not in stopped_output(start_up(tmp_path, free_port()))


def stopped_output(proc: subprocess.Popen[bytes]) -> str:
    """Everything a server process printed, once it has stopped."""
    proc.terminate()
    output, _ = proc.communicate(timeout=30)
    return output.decode(errors="replace")
