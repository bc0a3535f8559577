"""Authorization cost.

* decisions: 100,000 ACLs (half LITERAL topic names, half PREFIXED with prefixes of many
  lengths, over 1,000 principals, with DENYs among them); the latency of single decisions
  (hits on literal names, hits through prefixes, misses) with the indexed authorizer, beside
  a linear scan of the same ACLs (the anchor; fewer decisions, it is slow). p99 must stay
  under 20 microseconds.
* listener produce: records/s produced through the Kafka listener by confluent-kafka with
  authentication and authorization on (SASL/PLAIN, the 100,000 ACLs in the `_acls` log)
  beside the same listener with both off, alternating rounds in the same run; the ratio
  must be at least 0.9.

Run: python benchmarks/acl.py [--acls 100000] [--decisions 200000] [--records 200000]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acl.authorizer import AclIndex, AuthorizerSettings
from acl.model import (
    IMPLIED_BY,
    WILDCARD,
    Acl,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)

Request = tuple[str, Operation, ResourceType, str]


def make_acls(count: int, seed: int = 7) -> list[Acl]:
    """`count` ACLs: half literal, half prefixed; one in twenty a DENY."""
    rng = random.Random(seed)
    ops = [Operation.READ, Operation.WRITE, Operation.DESCRIBE, Operation.ALL]
    acls: list[Acl] = []
    for i in range(count):
        principal = f"User:u{rng.randrange(1000)}"
        permission = Permission.DENY if i % 20 == 0 else Permission.ALLOW
        if i % 2:
            name, pattern = f"topic-{i}", PatternType.LITERAL
        else:
            name = f"team{i % 500}-" + "x" * rng.randrange(0, 24) + f"{i}"
            pattern = PatternType.PREFIXED
        acls.append(
            Acl(ResourceType.TOPIC, name, pattern, principal, WILDCARD, rng.choice(ops), permission)
        )
    return acls


def make_requests(acls: list[Acl], count: int, seed: int = 11) -> list[Request]:
    """A third literal hits, a third names under a prefix, a third misses."""
    rng = random.Random(seed)
    requests: list[Request] = []
    for i in range(count):
        acl = rng.choice(acls)
        if i % 3 == 0:
            name = acl.name if acl.pattern_type is PatternType.LITERAL else acl.name + "-orders"
        elif i % 3 == 1:
            name = acl.name + "-payments"
        else:
            name = f"missing-{i}"
        requests.append((acl.principal, rng.choice(list(Operation)[1:4]), ResourceType.TOPIC, name))
    return requests


def linear_allowed(acls: Iterable[Acl], settings: AuthorizerSettings, req: Request) -> bool:
    """The same decision by scanning every ACL (the anchor)."""
    principal, op, rt, name = req
    if principal in settings.super_users:
        return True
    matched = allowed = False
    for acl in acls:
        if acl.resource_type is not rt:
            continue
        if acl.pattern_type is PatternType.LITERAL:
            if acl.name != name and acl.name != WILDCARD:
                continue
        elif not name.startswith(acl.name):
            continue
        matched = True
        if (acl.principal != principal and acl.principal != "User:*") or acl.host != WILDCARD:
            continue
        if acl.permission is Permission.DENY:
            if acl.operation is op or acl.operation is Operation.ALL:
                return False
        elif acl.operation in (op, Operation.ALL) or acl.operation in IMPLIED_BY.get(op, ()):
            allowed = True
    return allowed or (not matched and settings.allow_everyone_if_no_acl_found)


def latencies(decide: Callable[[Request], bool], requests: list[Request]) -> list[float]:
    """Microseconds per decision, one timing each."""
    clock = time.perf_counter_ns
    out: list[float] = []
    for req in requests:
        start = clock()
        decide(req)
        out.append((clock() - start) / 1000)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_decisions(count: int, decisions: int) -> None:
    acls = make_acls(count)
    index = AclIndex(acls)
    settings = AuthorizerSettings()
    requests = make_requests(acls, decisions)
    for req in requests[:2000]:  # both must agree before either is timed
        got = index.decide(settings, req[0], req[1], req[2], req[3]).allowed
        assert got == linear_allowed(acls, settings, req), req
    fast = latencies(lambda r: index.decide(settings, r[0], r[1], r[2], r[3]).allowed, requests)
    slow = latencies(lambda r: linear_allowed(acls, settings, r), requests[:200])
    print(f"decisions with {count:,} ACLs ({decisions:,} indexed, 200 linear)")
    print(f"  indexed: p50 {pct(fast, 0.5):.2f} us  p99 {pct(fast, 0.99):.2f} us")
    print(f"  linear:  p50 {pct(slow, 0.5):.0f} us  p99 {pct(slow, 0.99):.0f} us")
    ratio = statistics.median(slow) / statistics.median(fast)
    print(f"  linear / indexed (median): {ratio:,.0f}x   p99 < 20 us: {pct(fast, 0.99) < 20}")


def produce_rate(bootstrap: str, extra: dict[str, str], topic: str, records: int) -> float:
    from confluent_kafka import Producer

    producer = Producer(
        {
            "bootstrap.servers": bootstrap,
            "acks": "all",
            "linger.ms": 5,
            "batch.size": 1_000_000,
            **extra,
        }
    )
    value = b"v" * 100
    start = time.perf_counter()
    for i in range(records):
        while True:
            try:
                producer.produce(topic, value, str(i).encode())
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(120) == 0
    return records / (time.perf_counter() - start)


def median_produce_rates(
    sides: Sequence[tuple[str, str, dict[str, str]]],
    rounds: int,
    records: int,
    create_topic: Callable[[str], object] | None = None,
) -> list[float]:
    """The median records/s of each side, (topic prefix, bootstrap, client settings), over
    `rounds` rounds, each on a fresh topic (made by `create_topic`, or on first use); which
    side goes first alternates from round to round."""
    rates: list[list[float]] = [[] for _ in sides]
    for number in range(rounds):
        for index, (prefix, bootstrap, extra) in list(enumerate(sides))[:: -1 if number % 2 else 1]:
            topic = f"{prefix}-{number}"
            if create_topic is not None:
                create_topic(topic)
            rates[index].append(produce_rate(bootstrap, extra, topic, records))
    return [statistics.median(r) for r in rates]


def bench_listener(count: int, records: int, rounds: int) -> None:
    from acl.service import AccessControl
    from engine.embedded import EmbeddedCluster
    from engine.kafka_listener import KafkaListener

    with tempfile.TemporaryDirectory() as tmp:
        cluster = EmbeddedCluster(Path(tmp), maintenance_interval_s=None)
        access = AccessControl(cluster).start()
        acls = make_acls(count)
        for start in range(0, len(acls), 2000):
            access.add(acls[start : start + 2000])
        access.add_user("bench", "bench-pw")
        access.add(
            [
                Acl(
                    ResourceType.TOPIC,
                    "bench-",
                    PatternType.PREFIXED,
                    "User:bench",
                    WILDCARD,
                    Operation.WRITE,
                    Permission.ALLOW,
                )
            ]
        )
        off = KafkaListener(cluster, "127.0.0.1", 0).start()
        on = KafkaListener(
            cluster, "127.0.0.1", 0, authorizer=access, authenticator=access.authenticator()
        ).start()
        sasl = {
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "PLAIN",
            "sasl.username": "bench",
            "sasl.password": "bench-pw",
        }
        try:
            off_rate, on_rate = median_produce_rates(
                [("bench-off", off.bootstrap, {}), ("bench-on", on.bootstrap, sasl)],
                rounds,
                records,
                lambda topic: cluster.create_topic(topic, 6),
            )
        finally:
            on.stop()
            off.stop()
            access.close()
            cluster.close()
    print(f"listener produce, {records:,} records x {rounds} rounds (median records/s)")
    print(f"  authorization off: {off_rate:,.0f}/s")
    print(f"  authorization on (SASL/PLAIN, {count:,} ACLs): {on_rate:,.0f}/s")
    print(f"  on / off: {on_rate / off_rate:.2f}   >= 0.9: {on_rate / off_rate >= 0.9}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--acls", type=int, default=100_000)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bench_decisions(args.acls, args.decisions)
    bench_listener(args.acls, args.records, args.rounds)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
