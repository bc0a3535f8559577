"""A confluent-kafka group member in its own process, for the rebalance tests: it joins,
prints its assignment whenever it changes, and leaves cleanly on SIGTERM.

Usage: python -m tests.engine.listener.group_member BOOTSTRAP GROUP TOPIC ASSIGNOR
"""

from __future__ import annotations

import signal
import sys
from typing import Any

import confluent_kafka


def main(bootstrap: str, group: str, topic: str, assignor: str) -> None:
    """Consume until SIGTERM, printing "p,q,..." on every assignment change."""
    stop = False

    def on_term(*_: Any) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": group,
            "session.timeout.ms": 6000,
            "heartbeat.interval.ms": 500,
            "partition.assignment.strategy": assignor,
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([topic])
    last: list[int] | None = None
    while not stop:
        consumer.poll(0.05)
        current = sorted(tp.partition for tp in consumer.assignment())
        if current != last:
            last = current
            print(",".join(map(str, current)), flush=True)
    consumer.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
