"""`streamgov up --workers N`: several processes on one address, background work once, over
TLS too (a worker forwards the principal of a client certificate to the primary).

In process: an extra worker's app forwards the lag monitor's routes to the primary and runs no
background work of its own. Across processes: a real `up --workers 2`, whose connections the
kernel spreads over both processes, hands out every id once and stops its worker with it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from engine.embedded import EmbeddedCluster
from streamgov.server import PRIMARY_ONLY, ServerSettings, create_app, serve_in_thread
from streamgov.workers import reuseport_supported, worker_settings
from tests.brokers import free_port
from tests.registry.registry_server import STREAMGOV, read_banner, start_up, stop, wait_ready
from tests.tlscerts import make_pki

pytestmark = pytest.mark.skipif(
    not reuseport_supported() or not sys.platform.startswith("linux"),
    reason="SO_REUSEPORT and /proc are needed",
)


def schema(number: int) -> dict[str, str]:
    return {"schema": json.dumps({"type": "record", "name": f"R{number}", "fields": []})}


def test_an_extra_worker_forwards_primary_only_routes(tmp_path: Path) -> None:
    with (
        EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as first,
        EmbeddedCluster(tmp_path / "c", maintenance_interval_s=None) as second,
    ):
        primary = create_app(first, ServerSettings(lag_interval_seconds=0.05))
        with serve_in_thread(primary) as primary_url:
            extra = create_app(second, worker_settings(ServerSettings(), primary_url))
            try:
                assert not hasattr(extra.state, "lag_monitor")
                assert extra.state.catalog._thread is None  # no catalog loop here
                assert primary.state.catalog._thread is not None
                with serve_in_thread(extra) as extra_url:
                    for path in ("/lag/groups", "/metrics"):
                        direct = httpx.get(primary_url + path)
                        forwarded = httpx.get(extra_url + path)
                        assert forwarded.status_code == direct.status_code == 200
                        assert forwarded.headers["content-type"] == direct.headers["content-type"]
                    missing = httpx.get(extra_url + "/lag/groups/nobody")
                    assert missing.status_code == 404 and "error_code" in missing.json()
                    # Writes through either process are read through the other.
                    one = httpx.post(extra_url + "/subjects/a/versions", json=schema(1))
                    two = httpx.post(primary_url + "/subjects/b/versions", json=schema(2))
                    assert (one.json()["id"], two.json()["id"]) == (1, 2)
                    assert httpx.get(primary_url + "/subjects").json() == ["a", "b"]
                    assert httpx.get(extra_url + "/subjects").json() == ["a", "b"]
            finally:
                extra.state.services.close()
        primary.state.services.close()
    assert set(PRIMARY_ONLY) >= {
        "lagmonitor.api:mount",
        "replicator.api:mount",
        "streamgov.kafkaport:mount",
    }


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()]


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _server_sockets(port: int, state: str) -> set[str]:
    """Inodes of the loopback TCP sockets on local `port` in `state` (0A listen, 01 open)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            found.add(fields[9])
    return found


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _listening_worker(proc: subprocess.Popen[bytes], port: int) -> int:
    """The one worker process of `up --workers 2`, once it listens on the port."""
    workers: list[int] = []

    def worker_listens() -> bool:
        workers[:] = [
            child
            for child in _children(proc.pid)
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text()
        ]
        listening = _server_sockets(port, "0A")
        return len(workers) == 1 and bool(_socket_inodes(workers[0]) & listening)

    _wait_for(worker_listens, "the worker process never listened on the port")
    return workers[0]


def test_up_with_workers_serves_from_every_process_and_stops_them(tmp_path: Path) -> None:
    port = free_port()
    proc = start_up(tmp_path, port, "--workers", "2")
    try:
        worker = _listening_worker(proc, port)
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{port}") for _ in range(24)]
        try:
            ids = [
                client.post(f"/subjects/s{n}/versions", json=schema(n)).json()["id"]
                for n, client in enumerate(clients)
            ]
            assert sorted(ids) == list(range(1, 25))
            # Each client keeps its connection open: both processes hold some of them.
            open_here = _server_sockets(port, "01")
            assert _socket_inodes(proc.pid) & open_here
            assert _socket_inodes(worker) & open_here
            for client in clients:  # every process reads what every other wrote
                assert len(client.get("/subjects").json()) == 24
        finally:
            for client in clients:
                client.close()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        assert proc.returncode == 0
        _wait_for(lambda: not Path(f"/proc/{worker}").exists(), "the worker outlived up")
    finally:
        stop(proc)


def test_workers_need_a_free_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        from click.testing import CliRunner

        from streamgov.cli import cli

        result = CliRunner().invoke(cli, ["up", "--port", str(port), "--workers", "2"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert f"cannot listen on 127.0.0.1:{port}" in result.output


def test_workers_over_tls_serve_https_and_forward_certificate_principals(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    port = free_port()
    environment = {**os.environ, "STREAMGOV_HOME": str(tmp_path)}
    environment.pop("STREAMGOV_BOOTSTRAP", None)
    proc = subprocess.Popen(
        [*STREAMGOV, "up", "--port", str(port), "--no-kafka", "--workers", "2", "--auth",
         "--super-user", "User:CN=alice,O=Acme", "--tls-cert", str(pki.server.cert),
         "--tls-key", str(pki.server.key), "--tls-ca", str(pki.ca)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        read_banner(proc)
        context = ssl.create_default_context(cafile=str(pki.ca))
        context.load_cert_chain(pki.alice.cert, pki.alice.key)
        url = f"https://127.0.0.1:{port}"
        wait_ready(url, proc, verify=context)
        worker = _listening_worker(proc, port)
        clients = [httpx.Client(base_url=url, verify=context) for _ in range(24)]
        try:
            # /lag lives in the primary: a worker forwards it with alice's principal
            answers = [client.get("/lag/groups") for client in clients]
            assert [a.status_code for a in answers] == [200] * 24
            open_here = _server_sockets(port, "01")
            assert _socket_inodes(proc.pid) & open_here
            assert _socket_inodes(worker) & open_here
        finally:
            for client in clients:
                client.close()
        with pytest.raises(httpx.TransportError):  # nobody serves plain HTTP on the port
            httpx.get(f"http://127.0.0.1:{port}/subjects", timeout=10)
        # a client cannot claim a principal by sending the forwarding headers itself
        bob = ssl.create_default_context(cafile=str(pki.ca))
        bob.load_cert_chain(pki.bob.cert, pki.bob.key)
        spoofed = httpx.post(
            f"{url}/subjects/s/versions",
            json=schema(1),
            headers={"x-streamgov-forwarded-principal": "User:CN=alice,O=Acme",
                     "x-streamgov-forward-secret": "guess"},
            verify=bob,
            timeout=10,
        )  # fmt: skip
        assert spoofed.status_code == 403
        assert spoofed.json()["message"] == "User:CN=bob,O=Acme may not WRITE SUBJECT s"
    finally:
        stop(proc)
