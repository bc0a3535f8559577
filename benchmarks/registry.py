"""Schema registry benchmarks, each side by side with its anchor in one run.

1. HTTP: `GET /schemas/ids/{id}` and `POST /subjects/{s}/versions` requests/s on the embedded
   engine, against a bare FastAPI/uvicorn endpoint returning a constant JSON body (the ceiling
   of the stack). Each server runs alone in its own process; one load generator (raw HTTP/1.1
   keep-alive connections on asyncio) drives it over loopback.
2. Serdes: our Avro serializer/deserializer against confluent-kafka's, same schema and records.

Run: python benchmarks/registry.py [--seconds 4] [--connections 32] [--records 50000]
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


def _serve(kind: str, port: int, home: str) -> None:
    import uvicorn

    if kind == "ceiling":
        from fastapi import FastAPI

        app = FastAPI()
        body = {"schema": SCHEMA}

        @app.get("/constant", response_model=None)
        async def constant() -> dict[str, str]:
            return body

        target: Any = app
    elif kind == "registry":
        # the registry alone, as the server mounts it (no other component's background work)
        from fastapi import FastAPI

        from engine.embedded import EmbeddedCluster
        from httpapi import ServerSettings
        from registry.api import mount

        target = FastAPI()
        mount(target, EmbeddedCluster(Path(home), name="bench"), ServerSettings())
    else:  # "server": everything `streamgov up` serves
        from engine.embedded import EmbeddedCluster
        from streamgov.server import create_app

        target = create_app(EmbeddedCluster(Path(home), name="bench"))
    uvicorn.run(target, host="127.0.0.1", port=port, log_level="error", access_log=False)


class Server:
    """One server in its own process."""

    def __init__(self, kind: str, home: str) -> None:
        self.port = _free_port()
        context = multiprocessing.get_context("spawn")
        self.process = context.Process(target=_serve, args=(kind, self.port, home), daemon=True)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--only", choices=["http", "serdes"], default=None)
    args = parser.parse_args()
    os.environ.pop("STREAMGOV_BOOTSTRAP", None)
    if args.only in (None, "http"):
        print(f"== registry HTTP ({args.connections} connections, {args.seconds:.0f}s each) ==")
        bench_http(args.seconds, args.connections)
    if args.only in (None, "serdes"):
        print(f"== Avro serdes ({args.records:,} records) ==")
        bench_serdes(args.records)


if __name__ == "__main__":
    main()
