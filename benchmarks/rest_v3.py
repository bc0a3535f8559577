"""`/v3` record pages: pages of 100 records per second under 100 concurrent readers, with
`GET /schemas/ids/{id}` on the same server as the anchor, measured in the same run.

The server runs `create_app` (everything `streamgov up` serves) in its own process over an
embedded cluster holding one topic; with `--workers 2` it is `streamgov up --workers 2` (two
processes on one port). The load generator keeps `--readers` HTTP/1.1 keep-alive connections
busy over loopback and records each request's latency. Rounds alternate the anchor and the
pages so both see the same machine; the best round of each is printed (rate, p50, p99) with the
ratio, the server's CPU time per page, and the load average before and after.

Run: python benchmarks/rest_v3.py [--seconds 3] [--readers 100] [--records 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.registry import SCHEMA, Server, get_request

CLUSTER = "bench"
TOPIC = "pages"
PAGE = 100
GOAL = 2_000.0


async def _reader(
    port: int,
    make_request: Callable[[int], bytes],
    deadline: float,
    latencies: list[float],
    seed: int,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = seed
    try:
        while time.monotonic() < deadline:
            sent = time.monotonic()
            writer.write(make_request(i))
            i += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(
                int(line[15:])
                for line in head.split(b"\r\n")
                if line[:15].lower() == b"content-length:"
            )
            await reader.readexactly(length)
            if status != 200:
                raise RuntimeError(f"unexpected status {status}")
            latencies.append(time.monotonic() - sent)
    finally:
        writer.close()


def drive(
    port: int, make_request: Callable[[int], bytes], seconds: float, readers: int
) -> tuple[float, float, float]:
    """Requests/s, median and 99th-percentile latency (ms) of `readers` connections over
    `seconds`."""
    latencies: list[float] = []

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(_reader(port, make_request, deadline, latencies, n * 7919) for n in range(readers))
        )

    started = time.monotonic()
    asyncio.run(main())
    elapsed = time.monotonic() - started
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def page_request(records: int) -> Callable[[int], bytes]:
    """Requests for pages of 100 records at offsets spread over the partition."""
    path = f"/v3/clusters/{CLUSTER}/topics/{TOPIC}/partitions/0/records"
    span = max(1, records - PAGE)

    def make(i: int) -> bytes:
        offset = (i * 104_729) % span
        return (
            f"GET {path}?offset={offset}&limit={PAGE} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Accept: application/json\r\n\r\n"
        ).encode()

    return make


def seed(home: str, records: int) -> None:
    """One topic of `records` records (a 16-byte key, a 120-byte JSON value, one header)."""
    from engine.embedded import EmbeddedCluster
    from engine.types import Record

    rng = random.Random(7)
    with EmbeddedCluster(Path(home), name=CLUSTER) as cluster:
        cluster.create_topic(TOPIC)
        batch = []
        for i in range(records):
            account, amount = rng.randrange(1_000_000), round(rng.random() * 1000, 2)
            fields = {"id": i, "account": f"acct-{account:06d}", "amount": amount, "memo": "x" * 40}
            value = json.dumps(fields).encode()
            batch.append(Record(value, key=os.urandom(8).hex().encode(), headers=(("h", b"1"),)))
            if len(batch) == 5000:
                cluster.produce(TOPIC, batch)
                batch = []
        if batch:
            cluster.produce(TOPIC, batch)


def main() -> None:
    """Print pages/s and p50 beside the anchor, best of the rounds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--readers", type=int, default=100)
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (2: `up --workers 2`)"
    )
    args = parser.parse_args()
    import httpx

    kind = "server" if args.workers == 1 else f"workers-{args.workers}"
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as home:
        # Where `up` (STREAMGOV_HOME=home) keeps the cluster; the one-process server opens it.
        data = str(Path(home) / "clusters" / CLUSTER)
        seed(data, args.records)
        with Server(kind, data if args.workers == 1 else home) as server:
            url = f"http://127.0.0.1:{server.port}"
            answer = httpx.post(f"{url}/subjects/payments-value/versions", json={"schema": SCHEMA})
            anchor_request = get_request(f"/schemas/ids/{answer.json()['id']}")
            pages_request = page_request(args.records)
            drive(server.port, pages_request, 0.5, args.readers)  # warm up
            anchors, pages = [], []
            for _ in range(args.rounds):
                anchors.append(drive(server.port, anchor_request, args.seconds, args.readers))
                cpu = server.cpu_seconds()
                rate, p50, p99 = drive(server.port, pages_request, args.seconds, args.readers)
                cpu_per_page = (server.cpu_seconds() - cpu) / (rate * args.seconds)
                pages.append((rate, p50, p99, cpu_per_page))
    anchor_rate, anchor_p50, anchor_p99 = max(anchors)
    rate, p50, p99, cpu_per_page = max(pages)
    server_label = "one process" if args.workers == 1 else f"up --workers {args.workers}"
    print(f"readers: {args.readers}, records in the partition: {args.records:,}, {server_label}")
    print(
        f"GET /schemas/ids/{{id}} (anchor):      {anchor_rate:8,.0f} req/s  "
        f"p50 {anchor_p50:6.1f} ms  p99 {anchor_p99:6.1f} ms"
    )
    print(
        f"GET .../records?limit={PAGE} (pages):   {rate:8,.0f} req/s  p50 {p50:6.1f} ms  "
        f"p99 {p99:6.1f} ms  ({rate / anchor_rate:.2f}x anchor, goal {GOAL:,.0f}/s)"
    )
    print(f"server CPU per page: {cpu_per_page * 1e6:,.0f} us (all server processes)")
    print(f"load average: {load_before:.2f} before, {os.getloadavg()[0]:.2f} after")


if __name__ == "__main__":
    main()
