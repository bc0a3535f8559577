"""SIGKILL the server while a client registers in a loop: after a restart, every registration
that was acknowledged is there, with the id it was acknowledged with."""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.brokers import free_port
from tests.registry.registry_server import start_up, stop


def schema_text(i: int) -> str:
    return json.dumps({"type": "record", "name": f"Crash{i}", "fields": []})


@pytest.mark.slow
def test_acknowledged_registrations_survive_sigkill(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = start_up(tmp_path, port)
    httpx.put(f"{url}/config", json={"compatibility": "NONE"}).raise_for_status()
    acknowledged: dict[int, int] = {}
    stop_loop = threading.Event()

    def loop() -> None:
        with httpx.Client(timeout=5) as client:
            i = 0
            while not stop_loop.is_set():
                try:
                    response = client.post(
                        f"{url}/subjects/crash-{i % 5}/versions", json={"schema": schema_text(i)}
                    )
                except httpx.HTTPError:
                    return  # the server is gone
                if response.status_code == 200:
                    acknowledged[i] = int(response.json()["id"])
                i += 1

    worker = threading.Thread(target=loop)
    worker.start()
    deadline = time.monotonic() + 20
    while len(acknowledged) < 50 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    stop_loop.set()
    worker.join(timeout=10)
    stop(proc)
    assert len(acknowledged) >= 50

    restarted = start_up(tmp_path, port)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for i, schema_id in acknowledged.items():
                found = client.post(f"/subjects/crash-{i % 5}", json={"schema": schema_text(i)})
                assert found.status_code == 200, (i, found.text)
                assert found.json()["id"] == schema_id
                by_id = client.get(f"/schemas/ids/{schema_id}").json()
                assert json.loads(by_id["schema"]) == json.loads(schema_text(i))
            # the registry keeps working after the crash and hands out fresh ids
            after = client.post(
                "/subjects/crash-after/versions", json={"schema": schema_text(10**6)}
            )
            assert after.status_code == 200
            assert after.json()["id"] not in set(acknowledged.values())
    finally:
        stop(restarted)
