"""Two registry servers on one cluster serve one registry: concurrent registrations through
either never give one schema two ids or two schemas one id, and both answer alike."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.brokers import free_port
from tests.registry.registry_server import start_up, stop

SCHEMAS = 24
SUBJECTS = 4


def schema_text(i: int) -> str:
    return json.dumps(
        {"type": "record", "name": f"R{i}", "fields": [{"name": "f", "type": "string"}]}
    )


def register(url: str, subject: str, schema: str) -> int:
    response = httpx.post(f"{url}/subjects/{subject}/versions", json={"schema": schema}, timeout=30)
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def snapshot(url: str, prefix: str) -> dict[str, object]:
    """Everything a client can see about the subjects under `prefix`."""
    subjects = httpx.get(f"{url}/subjects", params={"subjectPrefix": prefix}).json()
    view: dict[str, object] = {"subjects": subjects}
    for name in subjects:
        for version in httpx.get(f"{url}/subjects/{name}/versions").json():
            body = httpx.get(f"{url}/subjects/{name}/versions/{version}").json()
            view[f"{name}/{version}"] = body
            view[f"id/{body['id']}"] = httpx.get(f"{url}/schemas/ids/{body['id']}").json()
    return view


def race(urls: list[str], prefix: str) -> None:
    """Register the same schemas through every server at once, then compare answers."""
    for s in range(SUBJECTS):  # per subject: the cluster may be shared with other tests
        httpx.put(
            f"{urls[0]}/config/{prefix}-{s}", json={"compatibility": "NONE"}
        ).raise_for_status()
    jobs = [
        (url, f"{prefix}-{i % SUBJECTS}", schema_text(i)) for i in range(SCHEMAS) for url in urls
    ]
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda job: register(*job), jobs))
    by_schema: dict[str, set[int]] = {}
    for (_, _, schema), schema_id in zip(jobs, ids, strict=True):
        by_schema.setdefault(schema, set()).add(schema_id)
    assert all(len(found) == 1 for found in by_schema.values()), "one schema got two ids"
    distinct = [next(iter(found)) for found in by_schema.values()]
    assert len(set(distinct)) == len(distinct), "two schemas got one id"
    views = [snapshot(url, prefix) for url in urls]
    assert views[0] == views[1]
    total_versions = sum(
        len(httpx.get(f"{urls[0]}/subjects/{prefix}-{s}/versions").json()) for s in range(SUBJECTS)
    )
    assert total_versions == SCHEMAS, "each schema registered exactly once per subject"
    # a write through one is read back through the other at once
    fresh = register(urls[0], f"{prefix}-late", schema_text(999))
    latest = httpx.get(f"{urls[1]}/subjects/{prefix}-late/versions/latest").json()
    assert latest["id"] == fresh


@pytest.fixture()
def two_servers_one_directory(tmp_path: Path) -> Iterator[list[str]]:
    ports = [free_port(), free_port()]
    procs = [start_up(tmp_path, port) for port in ports]
    try:
        yield [f"http://127.0.0.1:{port}" for port in ports]
    finally:
        for proc in procs:
            stop(proc)


@pytest.mark.slow
def test_two_servers_on_one_data_directory(two_servers_one_directory: list[str]) -> None:
    race(two_servers_one_directory, f"dir{uuid.uuid4().hex[:6]}")


@pytest.mark.kafka
@pytest.mark.slow
def test_two_servers_on_kafka(kafka_bootstrap: str, tmp_path: Path) -> None:
    ports = [free_port(), free_port()]
    procs = [start_up(tmp_path, port, "--bootstrap", kafka_bootstrap) for port in ports]
    try:
        race([f"http://127.0.0.1:{port}" for port in ports], f"kafka{uuid.uuid4().hex[:6]}")
    finally:
        for proc in procs:
            stop(proc)
