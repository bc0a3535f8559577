"""Child processes of the multi-process tests: `python -m tests.engine.embedded.workers CMD`.

Each command opens the embedded cluster at the given path, does one job and reports on stdout
(one line per event, flushed at once so a parent that kills it knows what was acknowledged).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from engine.embedded import EmbeddedCluster
from engine.statelog import Fold, StateLog
from engine.types import Record, TopicPartition


def produce(path: str, topic: str, count: int, batch: int, tag: str) -> None:
    """Produce `count` records to partition 0 in calls of `batch` records."""
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        for start in range(0, count, batch):
            records = [
                Record(f"{tag}-{i}".encode(), partition=0)
                for i in range(start, min(start + batch, count))
            ]
            cluster.produce(topic, records)


def produce_until_killed(path: str, topic: str, batch: int) -> None:
    """Produce batches forever, printing each batch number once it is acknowledged."""
    cluster = EmbeddedCluster(path, maintenance_interval_s=None)
    producer = cluster.producer()
    number = 0
    while True:
        for i in range(batch):
            producer.send(topic, f"{number}:{i}:{batch}".encode(), f"k{i}".encode())
        producer.flush()
        print(number, flush=True)
        number += 1


def produce_checkpointing_until_killed(path: str, topic: str, batch: int) -> None:
    """`produce_until_killed` with background WAL checkpoints every 64 KiB, so the kill is
    likely to land in the middle of one."""
    from engine.embedded import checkpoint

    checkpoint.CHECKPOINT_BYTES = 64 << 10
    produce_until_killed(path, topic, batch)


def append_batches_until_killed(path: str, topic: str, count: int) -> None:
    """Append Kafka batches of `count` records to partition 0 forever, as the Kafka listener
    stores them (in segment files), printing each batch number once it is acknowledged."""
    from engine.embedded import segment_sync
    from tests.engine.embedded.test_segments import batch_of, put

    segment_sync.SYNC_INTERVAL_S = 3600.0  # nothing recorded as on disk: all is checked
    cluster = EmbeddedCluster(path, maintenance_interval_s=None)
    number = 0
    while True:
        put(cluster, topic, batch_of(f"n{number}", count))
        print(number, flush=True)
        number += 1


def consume(path: str, topic: str, expected: int, timeout: float) -> None:
    """Read partition 0 from the beginning until `expected` records; print their values."""
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        consumer = cluster.consumer(auto_offset_reset="earliest")
        consumer.assign([TopicPartition(topic, 0)])
        values: list[str] = []
        deadline = time.monotonic() + timeout
        while len(values) < expected and time.monotonic() < deadline:
            values.extend((r.value or b"").decode() for r in consumer.poll(0.2))
        print(json.dumps(values), flush=True)


def member(path: str, group: str, topic: str, session_ms: int) -> None:
    """Join a group and print the assignment whenever it changes, until killed."""
    cluster = EmbeddedCluster(path, maintenance_interval_s=None)
    consumer = cluster.consumer(
        group,
        session_timeout_ms=session_ms,
        heartbeat_interval_ms=max(session_ms // 5, 10),
        max_poll_interval_ms=session_ms * 4,
    )
    consumer.subscribe([topic])
    last: Any = None
    while True:
        consumer.poll(0.05)
        current = sorted(tp.partition for tp in consumer.assignment())
        if current != last:
            print(json.dumps(current), flush=True)
            last = current


class TakenError(Exception):
    """A name is registered already."""


def _registry_apply(state: dict[str, Any], command: Mapping[str, Any], commit: bool) -> int:
    """A tiny registry: each new name gets the next id; a repeated name is refused."""
    name = command["name"]
    if name in state["ids"]:
        raise TakenError(f"{name} is taken")
    if not commit:
        return int(state["next"])
    state["ids"][name] = state["next"]
    state["next"] += 1
    return int(state["ids"][name])


_REGISTRY = Fold(lambda: {"ids": {}, "next": 1}, {"register": _registry_apply})


def statelog(path: str, count: int, tag: str, total: int) -> None:
    """Append `count` registrations (half of them contested), wait until the log holds
    `total` commands, and print the outcomes and the state."""
    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        log = StateLog(cluster, "_registry", _REGISTRY)
        log.start()
        outcomes: list[Any] = []
        for i in range(count):
            name = f"shared-{i}" if i % 2 else f"{tag}-{i}"
            try:
                outcomes.append([name, log.append({"op": "register", "name": name})])
            except TakenError as exc:
                outcomes.append([name, f"refused: {exc}"])
        deadline = time.monotonic() + 60
        while log.applied_offset < total and time.monotonic() < deadline:
            time.sleep(0.02)
            log.sync()
        with log.lock:
            print(json.dumps({"outcomes": outcomes, "state": log.state}), flush=True)


def register_until_killed(path: str) -> None:
    """Register schemas in the real schema registry forever, printing each id it hands out."""
    from registry.service import SchemaRegistry

    cluster = EmbeddedCluster(path, maintenance_interval_s=None)
    registry = SchemaRegistry(cluster).start()
    number = 0
    while True:
        schema = json.dumps({"type": "record", "name": f"R{number}", "fields": []})
        answer = registry.register(f"subject-{number}", {"schema": schema})
        print(answer["id"], flush=True)
        number += 1


def registry_instance(path: str, tag: str, count: int) -> None:
    """One schema registry instance: register `count` schemas of its own and as many shared
    ones (which another instance registers too), then print the ids it got, as JSON."""
    from registry.service import SchemaRegistry

    with EmbeddedCluster(path, maintenance_interval_s=None) as cluster:
        registry = SchemaRegistry(cluster).start()
        got: dict[str, int] = {}
        for i in range(count):
            for name in (f"{tag}-{i}", f"shared-{i}"):
                record = name.replace("-", "_")
                schema = json.dumps({"type": "record", "name": record, "fields": []})
                got[name] = int(registry.register(f"{name}-value", {"schema": schema})["id"])
        registry.close()
    print(json.dumps(got), flush=True)


COMMANDS = {
    "produce": (produce, (str, str, int, int, str)),
    "produce_until_killed": (produce_until_killed, (str, str, int)),
    "consume": (consume, (str, str, int, float)),
    "append_batches_until_killed": (append_batches_until_killed, (str, str, int)),
    "produce_checkpointing_until_killed": (produce_checkpointing_until_killed, (str, str, int)),
    "member": (member, (str, str, str, int)),
    "statelog": (statelog, (str, int, str, int)),
    "register_until_killed": (register_until_killed, (str,)),
    "registry_instance": (registry_instance, (str, str, int)),
}


def main(argv: list[str]) -> None:
    """Run one command with its arguments converted to their types."""
    function, types = COMMANDS[argv[0]]
    function(*(kind(arg) for kind, arg in zip(types, argv[1:], strict=True)))  # type: ignore[operator]


if __name__ == "__main__":
    main(sys.argv[1:])
