"""The REST client against a real server: decoding, errors, unreachable servers, credentials."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest

from tui.client import (
    ApiError,
    Credentials,
    ServerUnreachableError,
    StreamgovClient,
    streamgov_answers,
)

pytestmark = pytest.mark.anyio


async def test_reads_topics_partitions_configs_and_groups(server_url: str) -> None:
    client = StreamgovClient(server_url)
    try:
        assert await client.cluster_id() == "local"
        names = [t["topic_name"] for t in await client.topics() if not t["is_internal"]]
        assert names == ["audit.log", "orders", "payments"]
        partitions = await client.partitions("orders")
        assert [p["latest_offset"] for p in partitions] == [4, 4, 4]
        assert (await client.configs("payments"))["cleanup.policy"] == "compact"
        groups = [g["consumer_group_id"] for g in await client.consumer_groups()]
        assert "billing" in groups
        lags = await client.group_lags("billing")
        assert sum(lag["lag"] for lag in lags) == 3
    finally:
        await client.close()


async def test_changes_round_trip(server_url: str) -> None:
    client = StreamgovClient(server_url)
    try:
        await client.create_topic("fresh", 2, {"retention.ms": "60000"})
        assert (await client.configs("fresh"))["retention.ms"] == "60000"
        await client.alter_configs("fresh", {"retention.ms": None, "cleanup.policy": "compact"})
        configs = await client.configs("fresh")
        assert (configs["retention.ms"], configs["cleanup.policy"]) == ("604800000", "compact")
        produced = await client.produce("fresh", "hello", key="k", partition=1)
        assert (produced["partition_id"], produced["offset"]) == (1, 0)
        page = await client.records("fresh", 1, position="earliest")
        assert [r["offset"] for r in page["data"]] == [0]
        await client.delete_topic("fresh")
        assert "fresh" not in [t["topic_name"] for t in await client.topics()]
    finally:
        await client.close()


async def test_registry_calls(server_url: str) -> None:
    client = StreamgovClient(server_url)
    try:
        assert await client.subjects() == ["orders-value", "payments-value"]
        assert await client.versions("orders-value") == [1, 2]
        latest = await client.schema_version("orders-value", "latest")
        assert latest["version"] == 2
        assert "note" in (await client.schema_by_id(latest["id"]))["schema"]
        assert await client.compatibility_level("orders-value") == "BACKWARD"
        await client.set_compatibility_level("orders-value", "FULL")
        assert await client.compatibility_level("orders-value") == "FULL"
        ok, _ = await client.test_compatibility("orders-value", latest["schema"])
        assert ok is True
        breaking = latest["schema"].replace('"long"', '"string"')
        ok, messages = await client.test_compatibility("orders-value", breaking)
        assert ok is False and messages
    finally:
        await client.close()


async def test_api_errors_carry_code_and_message(server_url: str) -> None:
    client = StreamgovClient(server_url)
    try:
        with pytest.raises(ApiError) as missing:
            await client.partitions("nope")
        assert (missing.value.status, missing.value.error_code) == (404, 40403)
        assert "nope" in missing.value.message
        with pytest.raises(ApiError) as subject:
            await client.versions("no-subject")
        assert subject.value.error_code == 40401
        with pytest.raises(ApiError) as exists:
            await client.create_topic("orders", 1)
        assert exists.value.status == 400
    finally:
        await client.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_unreachable_server_is_a_clear_error() -> None:
    client = StreamgovClient(f"http://127.0.0.1:{_free_port()}", timeout=2)
    try:
        with pytest.raises(ServerUnreachableError, match=r"cannot reach http://127\.0\.0\.1:"):
            await client.topics()
    finally:
        await client.close()


def test_credentials_never_show() -> None:
    token = Credentials(token="s3cr3t-token")
    basic = Credentials(user="ann", password="hunter2")
    assert token.headers() == {"Authorization": "Bearer s3cr3t-token"}
    assert token.auth() is None
    assert isinstance(basic.auth(), httpx.BasicAuth)
    assert Credentials().headers() == {}
    for creds in (token, basic):
        shown = repr(creds) + str(creds)
        assert "s3cr3t" not in shown and "hunter2" not in shown and "ann" not in shown
    assert "s3cr3t" not in repr(StreamgovClient("http://x", token))


async def test_credentials_are_sent_on_requests() -> None:
    seen: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(200, json={"data": [{"cluster_id": "c"}]})

    transport = httpx.MockTransport(answer)
    for creds, expected in (
        (Credentials(token="tok"), "Bearer tok"),
        (Credentials(user="u", password="p"), "Basic dTpw"),
    ):
        client = StreamgovClient("http://x", creds, transport=transport)
        await client.cluster_id()
        await client.close()
        assert seen[-1] == expected


def test_a_running_streamgov_server_is_recognised(server_url: str) -> None:
    assert streamgov_answers(server_url, Credentials())
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert not streamgov_answers(closed, Credentials())  # nothing listening


def test_another_http_server_is_not_taken_for_streamgov() -> None:
    class Other(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"detail": "Not Found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Other)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert not streamgov_answers(f"http://127.0.0.1:{server.server_port}", Credentials())
    finally:
        server.shutdown()
        server.server_close()


def test_tui_without_url_uses_the_server_at_the_default_address(
    server_url: str, streamgov_home: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    import streamgov.cli.tui as tui_command
    from streamgov.cli import cli
    from tui.app import StreamgovApp

    used: list[str] = []
    monkeypatch.setattr(tui_command, "DEFAULT_URL", server_url)
    monkeypatch.delenv("STREAMGOV_URL", raising=False)
    monkeypatch.setattr(StreamgovApp, "run", lambda self: used.append(self.client.url))
    result = CliRunner().invoke(cli, ["tui"])
    assert result.exit_code == 0, result.output
    assert used == [server_url]  # not an in-process monitor with no history
