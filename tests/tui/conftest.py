"""Fixtures of the terminal UI tests: a real streamgov server over a temporary embedded cluster
holding fixed data (topics, records with fixed timestamps, schemas, consumer-group offsets)."""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterator
from pathlib import Path

import fastavro
import httpx
import pytest
from fastapi import FastAPI

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.service import AccessControl
from engine.embedded import EmbeddedCluster
from engine.types import OffsetAndMetadata, Record, TopicPartition
from streamgov.server import ServerSettings, create_app, serve_in_thread

ORDER_V1 = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]}
ORDER_V2 = {
    "type": "record",
    "name": "Order",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "note", "type": "string", "default": ""},
    ],
}
PAYMENT = {"type": "object", "properties": {"amount": {"type": "number"}}}
BASE_TS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def avro_record(schema_id: int, schema: dict[str, object], value: dict[str, object]) -> bytes:
    """A value in the Confluent wire format: magic 0, schema id, Avro body."""
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(schema), value)
    return struct.pack(">bI", 0, schema_id) + body.getvalue()


def populate(cluster: EmbeddedCluster, app: FastAPI) -> None:
    """Fixed data: three topics, a few records, two subjects, one lagging group."""
    cluster.create_topic("orders", 3)
    cluster.create_topic("payments", 1, {"cleanup.policy": "compact"})
    cluster.create_topic("audit.log", 2, {"retention.ms": "86400000"})
    transport = httpx.ASGITransport(app=app)
    import asyncio

    async def register() -> list[int]:
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as http:
            ids = []
            for subject, schema, kind in (
                ("orders-value", ORDER_V1, "AVRO"),
                ("orders-value", ORDER_V2, "AVRO"),
                ("payments-value", PAYMENT, "JSON"),
            ):
                payload: dict[str, object] = {"schema": json.dumps(schema)}
                if kind != "AVRO":
                    payload["schemaType"] = kind
                response = await http.post(f"/subjects/{subject}/versions", json=payload)
                response.raise_for_status()
                ids.append(int(response.json()["id"]))
            return ids

    _, v2_id, _ = asyncio.run(register())
    cluster.produce(
        "orders",
        [
            Record(
                value=avro_record(v2_id, ORDER_V2, {"id": i, "note": f"n{i}"}),
                key=f"order-{i}".encode(),
                partition=i % 3,
                timestamp_ms=BASE_TS + 1000 * i,
            )
            for i in range(12)
        ],
    )
    cluster.produce(
        "payments",
        [
            Record(
                value=json.dumps({"amount": 10 * i}).encode(),
                key=f"p{i}".encode(),
                timestamp_ms=BASE_TS + 500 * i,
            )
            for i in range(3)
        ],
    )
    cluster.commit_offsets(
        "billing",
        {
            TopicPartition("orders", 0): OffsetAndMetadata(1),
            TopicPartition("orders", 1): OffsetAndMetadata(4),
            TopicPartition("orders", 2): OffsetAndMetadata(4),
        },
    )


def add_users(cluster: EmbeddedCluster, *viewer_may: Operation) -> None:
    """Users for a server with `--auth`: `viewer` (password `viewer-pw`), allowed only
    `viewer_may` on every topic, and `admin` (`admin-pw`), to be made a super user."""
    access = AccessControl(cluster).start()
    access.add_user("viewer", "viewer-pw")
    access.add_user("admin", "admin-pw")
    access.add(
        [
            Acl(
                ResourceType.TOPIC,
                "*",
                PatternType.LITERAL,
                "User:viewer",
                "*",
                op,
                Permission.ALLOW,
            )
            for op in viewer_may
        ]
    )
    access.close()


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    """A temporary embedded cluster (no background maintenance)."""
    with EmbeddedCluster(tmp_path / "cluster", name="local", maintenance_interval_s=None) as c:
        yield c


@pytest.fixture()
def app(cluster: EmbeddedCluster) -> Iterator[FastAPI]:
    """The streamgov application over the cluster, populated with the fixed data."""
    # `populate` calls the app as http://t, a name the host check must accept
    settings = ServerSettings(lag_interval_seconds=0.2, allowed_hosts=("t",))
    application = create_app(cluster, settings)
    populate(cluster, application)
    yield application
    application.state.services.close()


@pytest.fixture()
def server_url(app: FastAPI) -> Iterator[str]:
    """The application served over HTTP on a loopback port (a uvicorn thread)."""
    with serve_in_thread(app) as url:
        yield url


@pytest.fixture()
def anyio_backend() -> str:
    """Async tests run on asyncio (Textual's loop)."""
    return "asyncio"
