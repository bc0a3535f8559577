"""A consumer-group member in its own process, for the crash tests: it joins, reports its
assignment on stdout, and polls until it is killed.

Usage: python -m tests.contract.member_process (embedded PATH | kafka BOOTSTRAP) GROUP TOPIC
"""

from __future__ import annotations

import sys
from pathlib import Path

from engine.cluster import Cluster


def open_cluster(kind: str, where: str) -> Cluster:
    """The cluster the parent test uses."""
    if kind == "embedded":
        from engine.embedded import EmbeddedCluster

        return EmbeddedCluster(Path(where), name="contract")
    from engine.kafka import KafkaCluster

    return KafkaCluster(where)


def main(kind: str, where: str, group: str, topic: str) -> None:
    """Join GROUP on TOPIC and poll forever, printing the assignment whenever it changes."""
    cluster = open_cluster(kind, where)
    consumer = cluster.consumer(
        group, session_timeout_ms=6_000, heartbeat_interval_ms=500, client_id="doomed"
    )
    consumer.subscribe([topic])
    last: list[int] = []
    while True:
        consumer.poll(timeout=0.1)
        current = sorted(tp.partition for tp in consumer.assignment())
        if current != last:
            last = current
            print(",".join(map(str, current)), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
