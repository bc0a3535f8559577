"""Schema registry benchmarks, each side by side with its anchor in one run.

1. HTTP: `GET /schemas/ids/{id}` and `POST /subjects/{s}/versions` requests/s on the embedded
   engine, against a bare FastAPI/uvicorn endpoint returning a constant JSON body (the ceiling
   of the stack). Each server runs alone in its own process; one load generator (raw HTTP/1.1
   keep-alive connections on asyncio) drives it over loopback.
2. Serdes: our Avro serializer/deserializer against confluent-kafka's, same schema and records.
3. Concurrent registrations: 16 clients registering new schemas on the embedded engine (goal
   3,000/s), with the server's CPU per registration, beside the bare FastAPI ceiling.
4. Registration latency on Kafka: sequential registrations over HTTP through a registry on the
   tansu broker (goal p50 < 10 ms), beside the broker's own produce + fetch of one record.
5. Reference graphs: registering a schema whose references fan out 6 wide and 10 deep (goal
   well under a second), beside registering a schema without references.
6. Restart: 100,000 schemas (1,000 subjects x 100 versions of a 20-field record) loaded from a
   snapshot (goal < 2 s, < 300 MiB resident), beside replaying the whole log.

Run: python benchmarks/registry.py [--seconds 4] [--connections 32] [--records 50000]
     [--only http|serdes|concurrent|kafka|graph|restart]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import multiprocessing
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SCHEMA = json.dumps(
    {
        "type": "record",
        "name": "Payment",
        "namespace": "com.example",
        "fields": [
            {"name": "id", "type": "long"},
            {"name": "account", "type": "string"},
            {"name": "amount", "type": "double"},
            {
                "name": "currency",
                "type": {"type": "enum", "name": "Ccy", "symbols": ["EUR", "USD"]},
            },
            {"name": "memo", "type": ["null", "string"], "default": None},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
        ],
    }
)


# -- servers ---------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(kind: str, port: int, home: str, bootstrap: str = "") -> None:
    import uvicorn

    if kind == "ceiling":
        from fastapi import FastAPI

        app = FastAPI()
        body = {"schema": SCHEMA}

        @app.get("/constant", response_model=None)
        async def constant() -> dict[str, str]:
            return body

        target: Any = app
    elif kind in ("registry", "kafka-registry"):
        # the registry alone, as the server mounts it (no other component's background work)
        from fastapi import FastAPI

        from engine.embedded import EmbeddedCluster
        from engine.kafka import KafkaCluster
        from httpapi import ServerSettings
        from registry.api import mount

        target = FastAPI()
        cluster: Any = (
            KafkaCluster(bootstrap)
            if kind == "kafka-registry"
            else EmbeddedCluster(Path(home), name="bench")
        )
        mount(target, cluster, ServerSettings())
    elif kind == "server":  # everything `streamgov up` serves
        from engine.embedded import EmbeddedCluster
        from streamgov.server import create_app

        target = create_app(EmbeddedCluster(Path(home), name="bench"))
    elif kind.startswith("workers-"):  # `streamgov up --workers N` (no Kafka listener)
        from httpapi import ServerSettings
        from streamgov.config import ClusterSettings
        from streamgov.server import create_app
        from streamgov.workers import serve_with_workers

        os.environ["STREAMGOV_HOME"] = home
        chosen = ClusterSettings(cluster="bench")
        settings = ServerSettings()
        app = create_app(chosen.open(), settings)
        extra = int(kind.removeprefix("workers-")) - 1
        serve_with_workers(app, extra, chosen, settings, "127.0.0.1", port, "error")
        return
    else:
        raise ValueError(f"unknown server kind {kind!r}")
    uvicorn.run(target, host="127.0.0.1", port=port, log_level="error", access_log=False)


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and of its descendants still running."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(_tree_cpu_seconds(int(child)) for child in children)


class Server:
    """One server in its own process (with its worker processes, for `workers-N`)."""

    def __init__(self, kind: str, home: str, bootstrap: str = "") -> None:
        self.port = _free_port()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(  # a daemonic process cannot start workers
            target=_serve,
            args=(kind, self.port, home, bootstrap),
            daemon=not kind.startswith("workers-"),
        )

    def cpu_seconds(self) -> float:
        """CPU time the server process and its worker processes have used so far (user +
        system)."""
        return _tree_cpu_seconds(int(self.process.pid or 0))

    def __enter__(self) -> Server:
        self.process.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"server did not start on port {self.port}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join(10)


# -- load generator --------------------------------------------------------------------------------
async def _one_connection(
    port: int, make_request: Callable[[int], bytes], deadline: float, counter: list[int], start: int
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = start
    try:
        while time.monotonic() < deadline:
            writer.write(make_request(i))
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"unexpected status {status}")
            counter[0] += 1
    finally:
        writer.close()


def offset_request(index: int, offset: int) -> bytes:
    """A registration request numbered `index + offset`, so rounds never repeat a schema."""
    return register_request(index + offset)


def load(
    port: int, make_request: Callable[[int], bytes], seconds: float, connections: int
) -> float:
    """Requests/s that `connections` keep-alive connections complete in `seconds`."""
    return load_side_by_side([(port, make_request)], seconds, connections)[0]


def load_side_by_side(
    targets: list[tuple[int, Callable[[int], bytes]]], seconds: float, connections: int
) -> list[float]:
    """Drive every target at the same time (`connections` each) and return each one's
    requests/s: all of them see the same machine, however busy it is."""
    counters = [[0] for _ in targets]

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(
                _one_connection(port, make_request, deadline, counter, n * 1_000_000)
                for (port, make_request), counter in zip(targets, counters, strict=True)
                for n in range(connections)
            )
        )

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    return [counter[0] / elapsed for counter in counters]


def get_request(path: str) -> Callable[[int], bytes]:
    data = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".encode()
    return lambda _i: data


def register_request(i: int) -> bytes:
    schema = json.dumps(
        {"type": "record", "name": f"R{i}", "fields": [{"name": "a", "type": "int"}]}
    )
    body = json.dumps({"schema": schema}).encode()
    head = (
        f"POST /subjects/bench-{i % 64}-value/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/vnd.schemaregistry.v1+json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body


def bench_http(seconds: float, connections: int, rounds: int = 3) -> None:
    """Reads: the registry and the ceiling are driven at the same time, so a busy machine
    slows both alike and the ratio holds. Writes: the registry alone, best of `rounds`."""
    import httpx

    window = seconds / rounds
    with (
        tempfile.TemporaryDirectory() as home,
        Server("ceiling", home) as ceiling,
        Server("server", home) as registry,
    ):
        url = f"http://127.0.0.1:{registry.port}"
        httpx.put(f"{url}/config", json={"compatibility": "NONE"}).raise_for_status()
        schema_id = httpx.post(
            f"{url}/subjects/payments-value/versions", json={"schema": SCHEMA}
        ).json()["id"]
        pair = [
            (ceiling.port, get_request("/constant")),
            (registry.port, get_request(f"/schemas/ids/{schema_id}")),
        ]
        load_side_by_side(pair, 0.5, connections // 2)  # warm up
        top, reads = load_side_by_side(pair, seconds, connections // 2)
        writes = max(
            load(
                registry.port,
                functools.partial(offset_request, offset=round_number * 10_000_000),
                window,
                connections,
            )
            for round_number in range(rounds)
        )
    print(f"bare FastAPI constant JSON (ceiling): {top:10,.0f} req/s")
    print(
        f"GET /schemas/ids/{{id}}:               {reads:10,.0f} req/s  ({reads / top:.2f}x ceiling)"
    )
    print(f"POST /subjects/{{s}}/versions (new):    {writes:10,.0f} req/s  (goal > 1,000/s)")


# -- serdes ----------------------------------------------------------------------------------------
def records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "account": f"acct-{i % 997}",
            "amount": i * 0.25,
            "currency": "EUR" if i % 2 else "USD",
            "memo": None if i % 3 else f"memo {i}",
            "tags": ["a", "b"][: i % 3],
        }
        for i in range(n)
    ]


def _rate(func: Callable[[Any], Any], items: list[Any]) -> float:
    started = time.perf_counter()
    for item in items:
        func(item)
    return len(items) / (time.perf_counter() - started)


def bench_serdes(n: int) -> None:
    import uvicorn  # noqa: F401  (server below)
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer as CfDeserializer
    from confluent_kafka.schema_registry.avro import AvroSerializer as CfSerializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    from registry.client import RegistryClient
    from registry.serde import AvroDeserializer, AvroSerializer

    values = records(n)
    with tempfile.TemporaryDirectory() as home, Server("registry", home) as server:
        url = f"http://127.0.0.1:{server.port}"
        theirs_client = SchemaRegistryClient({"url": url})
        ours_client = RegistryClient(url)
        ctx = SerializationContext("payments", MessageField.VALUE)
        theirs_ser, theirs_de = CfSerializer(theirs_client, SCHEMA), CfDeserializer(theirs_client)
        ours_ser, ours_de = AvroSerializer(ours_client, SCHEMA), AvroDeserializer(ours_client)
        # warm both caches (registration, schema fetch) and check they agree byte for byte
        sample_theirs = theirs_ser(values[0], ctx)
        sample_ours = ours_ser(values[0], "payments")
        assert sample_theirs == sample_ours
        theirs_de(sample_theirs, ctx)
        ours_de(sample_ours)
        framed = [ours_ser(v, "payments") for v in values]
        results: dict[str, float] = {}
        for _ in range(2):  # best of two
            for name, func, items in (
                ("ser-theirs", lambda v: theirs_ser(v, ctx), values),
                ("ser-ours", lambda v: ours_ser(v, "payments"), values),
                ("de-theirs", lambda b: theirs_de(b, ctx), framed),
                ("de-ours", lambda b: ours_de(b), framed),
            ):
                results[name] = max(results.get(name, 0.0), _rate(func, items))
        theirs_client.close()
        ours_client.close()
    ser, de = results["ser-ours"] / results["ser-theirs"], results["de-ours"] / results["de-theirs"]
    print(f"Avro serialize   confluent-kafka: {results['ser-theirs']:10,.0f} rec/s")
    print(f"Avro serialize   streamgov:       {results['ser-ours']:10,.0f} rec/s  ({ser:.2f}x)")
    print(f"Avro deserialize confluent-kafka: {results['de-theirs']:10,.0f} rec/s")
    print(f"Avro deserialize streamgov:       {results['de-ours']:10,.0f} rec/s  ({de:.2f}x)")


# -- concurrent registrations ----------------------------------------------------------------------
REGISTRATION_GOAL = 3_000


def _registrations(kind: str, seconds: float, clients: int, rounds: int) -> tuple[float, float]:
    """Best registrations/s of `rounds` on a fresh server of `kind`, and the server's CPU
    (all its processes) per registration in that round, in ms."""
    import httpx

    with tempfile.TemporaryDirectory() as home, Server(kind, home) as registry:
        url = f"http://127.0.0.1:{registry.port}"
        httpx.put(f"{url}/config", json={"compatibility": "NONE"}).raise_for_status()
        load(registry.port, functools.partial(offset_request, offset=0), 0.5, clients)
        best, cpu_ms = 0.0, 0.0
        for round_number in range(1, rounds + 1):
            cpu = registry.cpu_seconds()
            started = time.monotonic()
            rate = load(
                registry.port,
                functools.partial(offset_request, offset=round_number * 10_000_000),
                seconds / rounds,
                clients,
            )
            used = registry.cpu_seconds() - cpu
            if rate > best:
                best, cpu_ms = rate, used / (rate * (time.monotonic() - started)) * 1000
    return best, cpu_ms


def bench_concurrent(seconds: float, clients: int = 16, rounds: int = 3) -> None:
    """Registrations/s with `clients` keep-alive connections (best of `rounds`), the server's
    CPU per registration, for the registry alone in one process and for `streamgov up
    --workers 2`, and the bare FastAPI ceiling driven the same way."""
    results = {
        kind: _registrations(kind, seconds, clients, rounds) for kind in ("registry", "workers-2")
    }
    with tempfile.TemporaryDirectory() as home, Server("ceiling", home) as ceiling:
        load(ceiling.port, get_request("/constant"), 0.5, clients)
        top = max(
            load(ceiling.port, get_request("/constant"), seconds / rounds, clients)
            for _ in range(rounds)
        )
    print(f"bare FastAPI constant JSON (ceiling, 1 process): {top:10,.0f} req/s")
    for kind, label in (("registry", "1 process"), ("workers-2", "up --workers 2")):
        best, cpu_ms = results[kind]
        print(
            f"POST new schema, {clients} clients, {label + ':':16} {best:10,.0f} reg/s  "
            f"({best / top:.2f}x ceiling, {best / REGISTRATION_GOAL:.2f}x goal of "
            f"{REGISTRATION_GOAL:,}/s; server CPU {cpu_ms:.3f} ms per registration)"
        )


# -- registration latency on Kafka -----------------------------------------------------------------
LATENCY_GOAL_MS = 10.0


def _median_ms(samples: list[float]) -> float:
    return sorted(samples)[len(samples) // 2] * 1000


def bench_kafka_latency(count: int) -> None:
    """p50 of sequential registrations over HTTP to a registry on tansu, beside the p50 of
    the broker's own produce + fetch of one record of the same size (the write's floor)."""
    import httpx

    from engine.kafka import KafkaCluster
    from engine.types import Record
    from tests.brokers import tansu_broker

    with (
        tansu_broker() as bootstrap,
        tempfile.TemporaryDirectory() as home,
        Server("kafka-registry", home, bootstrap) as registry,
        httpx.Client(base_url=f"http://127.0.0.1:{registry.port}") as client,
    ):
        client.put("/config", json={"compatibility": "NONE"}).raise_for_status()
        latencies = []
        for i in range(count + 20):
            schema = json.dumps(
                {"type": "record", "name": f"R{i}", "fields": [{"name": "a", "type": "int"}]}
            )
            started = time.perf_counter()
            client.post(f"/subjects/lat-{i % 16}/versions", json={"schema": schema})
            if i >= 20:  # the first ones warm the connections up
                latencies.append(time.perf_counter() - started)
        cluster = KafkaCluster(bootstrap)
        cluster.create_topic("_floor", 1, {"retention.ms": "-1"})
        floor = []
        value = json.dumps({"op": "register", "schema": schema}).encode()
        for _ in range(count):
            started = time.perf_counter()
            (meta,) = cluster.produce("_floor", [Record(value, partition=0)])
            cluster.fetch("_floor", 0, meta.offset, 500)
            floor.append(time.perf_counter() - started)
        cluster.close()
    ours, anchor = _median_ms(latencies), _median_ms(floor)
    p90 = sorted(latencies)[len(latencies) * 9 // 10] * 1000
    print(f"tansu produce + fetch of one record (floor): p50 {anchor:6.1f} ms")
    print(
        f"registration over HTTP on tansu:             p50 {ours:6.1f} ms  "
        f"({ours / anchor:.2f}x floor, {ours / LATENCY_GOAL_MS:.2f}x goal of "
        f"{LATENCY_GOAL_MS:.0f} ms); p90 {p90:.1f} ms"
    )


# -- reference graphs ------------------------------------------------------------------------------
GRAPH_GOAL_S = 1.0


def bench_graph(width: int = 6, depth: int = 10) -> None:
    """Time to register the root of a `width` x `depth` graph of shared references."""
    from engine.embedded import EmbeddedCluster
    from registry.service import SchemaRegistry

    with (
        tempfile.TemporaryDirectory() as home,
        EmbeddedCluster(Path(home), name="bench") as cluster,
    ):
        registry = SchemaRegistry(cluster).start()
        below: list[dict[str, Any]] = []
        for layer in range(depth):
            current = []
            for j in range(width):
                name = f"L{layer}_{j}"
                fields = [{"name": f"f{i}", "type": r["name"]} for i, r in enumerate(below)]
                schema = {"type": "record", "name": name, "fields": fields}
                registry.register(name, {"schema": json.dumps(schema), "references": below})
                current.append({"name": name, "subject": name, "version": 1})
            below = current
        root = {"type": "record", "name": "Root", "fields": [{"name": "r", "type": "L9_0"}]}
        started = time.perf_counter()
        registry.register("root", {"schema": json.dumps(root), "references": below})
        graph_s = time.perf_counter() - started
        plain = {"type": "record", "name": "Plain", "fields": [{"name": "a", "type": "int"}]}
        started = time.perf_counter()
        registry.register("plain", {"schema": json.dumps(plain)})
        plain_s = time.perf_counter() - started
        registry.close()
    print(f"register a schema without references (anchor): {plain_s * 1000:8.1f} ms")
    print(
        f"register the root of a {width}x{depth} reference graph: {graph_s * 1000:8.1f} ms  "
        f"({graph_s / plain_s:.1f}x anchor, {graph_s / GRAPH_GOAL_S:.3f}x goal of "
        f"{GRAPH_GOAL_S:.0f} s)"
    )


# -- restart ---------------------------------------------------------------------------------------
RESTART_GOAL_S = 2.0
RESTART_GOAL_MIB = 300


def restart_schema(subject: int, version: int) -> str:
    """Version `version` of a 20-field record, written as the registry stores it."""
    fields = [{"name": f"f{i}", "type": "long" if i % 2 else "string"} for i in range(19)]
    fields.append({"name": f"v{version}", "type": "int"})
    return json.dumps(
        {"type": "record", "name": f"S{subject}", "namespace": "bench", "fields": fields},
        separators=(",", ":"),
    )


def _fill(home: str, subjects: int, versions: int) -> None:
    """Write the registrations straight into the registry's log, as it would have."""
    from engine.embedded import EmbeddedCluster
    from engine.statelog import TOPIC_CONFIG, encode
    from engine.types import Record
    from registry.formats.base import SchemaType
    from registry.service import SCHEMAS_TOPIC
    from registry.store import register_command, set_config_command

    with EmbeddedCluster(Path(home), name="bench") as cluster:
        cluster.create_topic(SCHEMAS_TOPIC, 1, TOPIC_CONFIG)
        batch = [Record(encode(set_config_command(None, "NONE", None)), partition=0)]
        for version in range(1, versions + 1):
            for subject in range(subjects):
                text = restart_schema(subject, version)
                command = register_command(f"s{subject}-value", SchemaType.AVRO, text)
                batch.append(Record(encode(command), partition=0))
            cluster.produce(SCHEMAS_TOPIC, batch)
            batch = []


def _start_registry(home: str, queue: Any) -> None:
    import resource

    from engine.embedded import EmbeddedCluster
    from registry.service import SchemaRegistry

    started = time.perf_counter()
    cluster = EmbeddedCluster(Path(home), name="bench")
    registry = SchemaRegistry(cluster).start()
    registry.get_version("s0-value", "latest")
    ready = time.perf_counter() - started
    snapshot = registry._log.snapshot_offset
    registry.close()
    cluster.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((ready, peak, snapshot))


def _timed_start(home: str) -> tuple[float, float, int]:
    """(seconds until ready, peak resident MiB, snapshot offset) of a registry started in a
    fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_start_registry, args=(home, queue))
    process.start()
    ready, peak, offset = queue.get(timeout=600)
    process.join(60)
    return float(ready), float(peak), int(offset)


def bench_restart(subjects: int, versions: int) -> None:
    """Ready time and peak memory of a restart from a snapshot, beside a full replay."""
    with tempfile.TemporaryDirectory() as home:
        _fill(home, subjects, versions)
        replay_s, replay_mib, _ = _timed_start(home)  # no snapshot yet: replays, writes one
        ready_s, ready_mib, offset = _timed_start(home)
    total = subjects * versions
    print(
        f"full replay of {total:,} schemas (anchor): {replay_s:6.2f} s  {replay_mib:6.0f} MiB peak"
    )
    print(
        f"restart from the snapshot at {offset:,}:    {ready_s:6.2f} s  {ready_mib:6.0f} MiB peak  "
        f"({ready_s / replay_s:.2f}x replay; {ready_s / RESTART_GOAL_S:.2f}x goal of "
        f"{RESTART_GOAL_S:.0f} s, {ready_mib / RESTART_GOAL_MIB:.2f}x goal of "
        f"{RESTART_GOAL_MIB} MiB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument(
        "--only",
        choices=["http", "serdes", "concurrent", "kafka", "graph", "restart"],
        default=None,
    )
    parser.add_argument("--subjects", type=int, default=1_000)
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--latency-samples", type=int, default=300)
    args = parser.parse_args()
    os.environ.pop("STREAMGOV_BOOTSTRAP", None)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.only in (None, "http"):
        print(f"== registry HTTP ({args.connections} connections, {args.seconds:.0f}s each) ==")
        bench_http(args.seconds, args.connections)
    if args.only in (None, "serdes"):
        print(f"== Avro serdes ({args.records:,} records) ==")
        bench_serdes(args.records)
    if args.only in (None, "concurrent"):
        print(f"== concurrent registrations (embedded, {args.seconds:.0f}s) ==")
        bench_concurrent(args.seconds)
    if args.only in (None, "kafka"):
        print(f"== registration latency on Kafka (tansu, {args.latency_samples} samples) ==")
        bench_kafka_latency(args.latency_samples)
    if args.only in (None, "graph"):
        print("== reference graphs (embedded) ==")
        bench_graph()
    if args.only in (None, "restart"):
        print(f"== restart ({args.subjects:,} subjects x {args.versions} versions) ==")
        bench_restart(args.subjects, args.versions)


if __name__ == "__main__":
    main()
