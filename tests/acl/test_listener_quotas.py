"""Client quotas on the Kafka listener, end to end: confluent-kafka producers and consumers
held to their byte rates, throttle times reported to the client, DescribeClientQuotas and
AlterClientQuotas (which confluent-kafka's AdminClient does not offer, so raw requests built
with kio), refusals of bad input and of principals without ALTER_CONFIGS on the cluster."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import socket
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import Consumer, Producer
from kio.serial import entity_reader, entity_writer

from acl.model import Acl, Operation, PatternType, Permission, ResourceType
from acl.quota_service import ClientQuotaService, QuotaSettings
from acl.quota_state import QuotaAlteration
from acl.quotas import CONSUMER_BYTE_RATE, PRODUCER_BYTE_RATE, QuotaEntity
from acl.service import AccessControl
from engine.auth import CLUSTER_RESOURCE
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener
from engine.kafka_listener.context import Connection
from engine.kafka_listener.messages import build, request_type, response_type
from engine.types import Record
from streamgov.cli import cli
from tests.brokers import free_port
from tests.engine.listener.conftest import unique, wait_until
from tests.engine.listener.test_protocol import read_frame
from tests.registry.registry_server import start_up

MB = 1_000_000


@dataclass
class Served:
    listener: KafkaListener
    cluster: EmbeddedCluster
    quotas: ClientQuotaService
    access: AccessControl


@contextmanager
def serve(directory: Path, settings: QuotaSettings | None = None) -> Iterator[Served]:
    cluster = EmbeddedCluster(directory, maintenance_interval_s=None)
    quotas = ClientQuotaService(cluster, settings=settings).start()
    access = AccessControl(cluster).start()
    listener = KafkaListener(cluster, "127.0.0.1", 0, quotas=quotas)
    listener.broker.quota_admin = quotas
    listener.start()
    try:
        yield Served(listener, cluster, quotas, access)
    finally:
        listener.stop()
        access.close()
        quotas.close()
        cluster.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve(tmp_path_factory.mktemp("quotas")) as s:
        yield s


def set_quota(served: Served, parts: list[tuple[str, str | None]], **values: float) -> None:
    served.quotas.alter([QuotaAlteration(QuotaEntity.from_parts(parts), values)])


# -- raw requests ---------------------------------------------------------------------------


def call(served: Served | int, api_key: int, version: int, body: dict[str, Any]) -> Any:
    """Send one request built with kio (to a listener or a port) and return the decoded
    response body."""
    frame, flexible = encode_request(api_key, version, body)
    port = served if isinstance(served, int) else served.listener.port
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(struct.pack(">i", len(frame)) + frame)
        data = read_frame(sock)
    return entity_reader(response_type(api_key, version))(data, 5 if flexible else 4)[0]


def encode_request(api_key: int, version: int, body: dict[str, Any]) -> tuple[bytes, bool]:
    """A request frame (without its size) and whether its version is flexible."""
    cls = request_type(api_key, version)
    flexible = bool(getattr(cls, "__flexible__", False))
    out = io.BytesIO()
    entity_writer(cls)(out, build(cls, body))
    header = struct.pack(">hhih", api_key, version, 7, 4) + b"test" + (b"\x00" if flexible else b"")
    return header + out.getvalue(), flexible


def alter_request(entity: list[tuple[str, str | None]], ops: list[tuple[str, float, bool]]) -> Any:
    return {
        "entries": [
            {
                "entity": [{"entity_type": t, "entity_name": n} for t, n in entity],
                "ops": [{"key": k, "value": v, "remove": r} for k, v, r in ops],
            }
        ],
        "validate_only": False,
    }


def describe(
    served: Served | int, components: list[tuple[str, int, str | None]], strict: bool
) -> Any:
    body = {
        "components": [{"entity_type": t, "match_type": m, "match": n} for t, m, n in components],
        "strict": strict,
    }
    return call(served, 48, 1, body)


def entries(reply: Any) -> dict[tuple[tuple[str, str | None], ...], dict[str, float]]:
    return {
        tuple((e.entity_type, e.entity_name) for e in entry.entity): {
            v.key: float(v.value) for v in entry.values
        }
        for entry in reply.entries
    }


# -- management -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 1])
def test_alter_then_describe_round_trips(served: Served, version: int) -> None:
    user = unique("user")
    reply = call(
        served,
        49,
        version,
        alter_request(
            [("user", user), ("client-id", None)],
            [(PRODUCER_BYTE_RATE, 2048.0, False), (CONSUMER_BYTE_RATE, 4096.0, False)],
        ),
    )
    assert [int(e.error_code) for e in reply.entries] == [0]
    found = describe(served, [("user", 0, user)], strict=False)
    assert int(found.error_code) == 0
    assert entries(found) == {
        (("user", user), ("client-id", None)): {
            PRODUCER_BYTE_RATE: 2048.0,
            CONSUMER_BYTE_RATE: 4096.0,
        }
    }
    assert entries(describe(served, [("user", 0, user)], strict=True)) == {}
    call(served, 49, version, alter_request([("user", user), ("client-id", None)],
                                            [(PRODUCER_BYTE_RATE, 0.0, True)]))  # fmt: skip
    assert entries(describe(served, [("user", 0, user)], strict=False)) == {
        (("user", user), ("client-id", None)): {CONSUMER_BYTE_RATE: 4096.0}
    }


@pytest.mark.parametrize(
    ("entity", "ops", "message"),
    [
        ([("user", "x")], [(PRODUCER_BYTE_RATE, -5.0, False)], "must be positive"),
        ([("user", "x")], [("bytes_per_fortnight", 5.0, False)], "unknown quota key"),
        ([("user", "x")], [(CONSUMER_BYTE_RATE, 1.5, False)], "whole number"),
        ([("ip", "10.0.0.1")], [(PRODUCER_BYTE_RATE, 5.0, False)], "unknown quota entity type"),
        ([], [(PRODUCER_BYTE_RATE, 5.0, False)], "names a user, a client id or both"),
    ],
)
def test_bad_alterations_are_refused_naming_the_problem(
    served: Served, entity: list[tuple[str, str | None]], ops: Any, message: str
) -> None:
    before = served.quotas.quotas()
    reply = call(served, 49, 1, alter_request(entity, ops))
    assert int(reply.entries[0].error_code) == 42
    assert message in (reply.entries[0].error_message or "")
    assert served.quotas.quotas() == before


def test_a_bad_describe_filter_is_refused(served: Served) -> None:
    reply = describe(served, [("ip", 2, None)], strict=False)
    assert int(reply.error_code) == 42
    assert "unknown quota entity type 'ip'" in (reply.error_message or "")


def _as(served: Served, principal: str, api_key: int, body: dict[str, Any]) -> Any:
    """Handle a request as `principal` with the real authorizer (no SASL round needed)."""
    listener = served.listener
    conn = Connection("127.0.0.1", 1, principal=principal, authorizer=served.access)
    frame, _ = encode_request(api_key, 1, body)
    future = asyncio.run_coroutine_threadsafe(listener.handle_frame(conn, frame), listener._loop)
    data = future.result(timeout=30)
    assert data
    return entity_reader(response_type(api_key, 1))(data[4:], 5)[0]


def test_quota_changes_need_alter_configs_and_reads_describe_configs(served: Served) -> None:
    user = unique("user")
    alice, ops = "User:alice", [(PRODUCER_BYTE_RATE, 100.0, False)]
    refused = _as(served, alice, 49, alter_request([("user", user)], ops))
    assert int(refused.entries[0].error_code) == 31
    assert "User:alice may not ALTER_CONFIGS CLUSTER" in refused.entries[0].error_message
    assert int(_as(served, alice, 48, {"components": [], "strict": False}).error_code) == 31
    served.access.add(
        [
            Acl(ResourceType.CLUSTER, CLUSTER_RESOURCE, PatternType.LITERAL, alice, "*",
                Operation.ALTER_CONFIGS, Permission.ALLOW)
        ]
    )  # fmt: skip
    allowed = _as(served, alice, 49, alter_request([("user", user)], ops))
    assert int(allowed.entries[0].error_code) == 0
    # ALTER_CONFIGS implies DESCRIBE_CONFIGS, as in Kafka
    listed = _as(served, alice, 48, {"components": [], "strict": False})
    assert (("user", user),) in entries(listed)


# -- enforcement ----------------------------------------------------------------------------


@pytest.mark.slow
def test_a_producer_with_a_one_mb_quota_gets_one_mb_per_second(served: Served) -> None:
    """Over the first 10 s the producer, able to go many times faster, has 10 MB acknowledged
    within 20% (the window counts as at least ten seconds from the first request, so the rate
    is measured from the start), and the client is told how long it was throttled."""
    topic, client_id = unique("quota-produce"), unique("producer")
    served.cluster.create_topic(topic, 1)
    set_quota(served, [("user", "ANONYMOUS"), ("client-id", client_id)], producer_byte_rate=MB)
    acked: list[tuple[float, int]] = []
    throttles: list[float] = []
    producer = Producer(
        {
            "bootstrap.servers": served.listener.bootstrap,
            "client.id": client_id,
            "batch.size": 16384,
            "linger.ms": 2,
            "throttle_cb": lambda event: throttles.append(event.throttle_time),
        }
    )

    def delivered(err: Any, msg: Any) -> None:
        if err is None:
            acked.append((time.monotonic(), len(msg.value())))

    value = os.urandom(1000)
    queued = 0
    end = time.monotonic() + 10.0
    while time.monotonic() < end:
        try:
            producer.produce(topic, value, on_delivery=delivered)
        except BufferError:
            producer.poll(0.05)
            continue
        queued += len(value)
        producer.poll(0)
    producer.purge()
    producer.flush(10)
    within = sum(size for at, size in acked if at <= end)
    assert 0.8 * 10 * MB <= within <= 1.2 * 10 * MB, within
    assert queued > 2 * within  # the client could go much faster: the server held it back
    assert throttles and max(throttles) > 0


def test_a_consumer_with_a_quota_is_held_to_it(tmp_path: Path) -> None:
    QUOTA, SECONDS = 200_000, 5.0  # noqa: N806
    """With half-second windows (the span counts as at least five seconds), a consumer held
    to 200 kB/s reads about 1 MB in its first 5 s of a topic holding 3 MB. Each fetch asks
    for one window's worth (100 kB), so two fetches a second suffice even on a loaded
    machine; as for the producer, the rate is measured over the first span."""
    with serve(tmp_path, QuotaSettings(samples=11, window_ms=500)) as served:
        topic, client_id = unique("quota-fetch"), unique("consumer")
        served.cluster.create_topic(topic, 1)
        value = os.urandom(1000)
        for _ in range(3):
            served.cluster.produce(topic, [Record(value=value) for _ in range(1000)])
        set_quota(served, [("client-id", client_id)], consumer_byte_rate=QUOTA)
        throttles: list[float] = []
        consumer = Consumer(
            {
                "bootstrap.servers": served.listener.bootstrap,
                "client.id": client_id,
                "group.id": unique("group"),
                "auto.offset.reset": "earliest",
                "enable.auto.commit": False,
                "throttle_cb": lambda event: throttles.append(event.throttle_time),
            }
        )
        consumer.subscribe([topic])
        got: list[tuple[float, int]] = []
        first: float | None = None
        try:
            while first is None or time.monotonic() < first + SECONDS:
                for msg in consumer.consume(500, 0.2):
                    if msg.error() is None:
                        now = time.monotonic()
                        first = now if first is None else first
                        got.append((now, len(msg.value())))
        finally:
            consumer.close()
        assert first is not None
        within = sum(size for at, size in got if at <= first + SECONDS)
        assert within < 3 * MB  # it could have read everything
        assert 0.8 * QUOTA * SECONDS <= within <= 1.2 * QUOTA * SECONDS, within
        assert throttles and max(throttles) > 0


def test_request_time_over_its_percentage_is_throttled_by_at_most_a_window(
    tmp_path: Path,
) -> None:
    """A client allowed 0.001% of a thread (0.1 ms of handling per 10 s) is throttled after
    a few requests; every kind of answer carries the throttle, never more than one window."""
    with serve(tmp_path) as served:
        set_quota(served, [("client-id", "test")], request_percentage=0.001)
        throttles = []
        for _ in range(200):
            reply = call(served, 3, 12, {"topics": [], "allow_auto_topic_creation": False})
            throttles.append(reply.throttle_time.total_seconds() * 1000)
            if throttles[-1] > 0:
                break
        assert 0 < throttles[-1] <= 1000
        listed = describe(served, [], strict=False)
        assert 0 < listed.throttle_time.total_seconds() * 1000 <= 1000


@pytest.mark.kafka
def test_up_serves_quotas_that_the_cli_and_kafka_clients_share(tmp_path: Path) -> None:
    """`streamgov up` measures and manages quotas: a change made through AlterClientQuotas
    is what `streamgov quotas list` reads, and one made by the CLI reaches the server."""
    port, kafka_port = free_port(), free_port()
    proc = start_up(tmp_path, port, "--kafka-port", str(kafka_port), "--lag-interval", "60")
    try:
        reply = call(
            kafka_port,
            49,
            1,
            alter_request([("user", "alice")], [(PRODUCER_BYTE_RATE, 5e5, False)]),
        )
        assert int(reply.entries[0].error_code) == 0
        env = {"STREAMGOV_HOME": str(tmp_path)}
        listed = CliRunner().invoke(cli, ["quotas", "list", "--format", "json"], env=env)
        assert json.loads(listed.stdout) == [
            {"entity": {"user": "alice"}, "values": {PRODUCER_BYTE_RATE: 500000.0}}
        ]
        result = CliRunner().invoke(
            cli, ["quotas", "set", "--client-id", "app", "--consumer-byte-rate", "7"], env=env
        )
        assert result.exit_code == 0, result.output
        wait_until(
            lambda: (("client-id", "app"),) in entries(describe(kafka_port, [], strict=False)),
            what="the CLI's quota to reach the server",
        )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_validate_only_checks_and_changes_nothing(served: Served) -> None:
    user = unique("user")
    body = alter_request([("user", user)], [(PRODUCER_BYTE_RATE, 1000.0, False)])
    checked = call(served, 49, 1, {**body, "validate_only": True})
    assert int(checked.entries[0].error_code) == 0
    assert entries(describe(served, [("user", 0, user)], strict=True)) == {}
    bad = alter_request([("user", user)], [(PRODUCER_BYTE_RATE, -1.0, False)])
    refused = call(served, 49, 1, {**bad, "validate_only": True})
    assert int(refused.entries[0].error_code) == 42
