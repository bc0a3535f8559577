"""Cost of client quotas on the Kafka listener.

records/s produced through the listener by confluent-kafka with every request measured
against quotas (a byte rate and a request percentage set for the client, far above what it
uses, so nothing is throttled and only the measuring costs), beside the same listener without
quotas (the anchor), alternating rounds in the same run; the ratio is printed.

Run: python benchmarks/quotas.py [--records 200000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acl.quota_service import ClientQuotaService
from acl.quota_state import QuotaAlteration
from acl.quotas import QuotaEntity
from benchmarks.acl import median_produce_rates
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import KafkaListener


def bench(records: int, rounds: int) -> None:
    """Alternate rounds with and without quotas; print the medians and their ratio."""
    with tempfile.TemporaryDirectory() as tmp:
        cluster = EmbeddedCluster(Path(tmp), maintenance_interval_s=None)
        quotas = ClientQuotaService(cluster).start()
        entity = QuotaEntity.from_parts([("client-id", "bench")])
        quotas.alter(
            [QuotaAlteration(entity, {"producer_byte_rate": 1e12, "request_percentage": 1e6})]
        )
        off = KafkaListener(cluster, "127.0.0.1", 0).start()
        on = KafkaListener(cluster, "127.0.0.1", 0, quotas=quotas).start()
        client = {"client.id": "bench"}
        try:
            off_rate, on_rate = median_produce_rates(
                [("bench-off", off.bootstrap, client), ("bench-on", on.bootstrap, client)],
                rounds,
                records,
                lambda topic: cluster.create_topic(topic, 6),
            )
        finally:
            on.stop()
            off.stop()
            quotas.close()
            cluster.close()
    print(f"listener produce, {records:,} records x {rounds} rounds (median records/s)")
    print(f"  without quotas (anchor): {off_rate:,.0f}/s")
    print(f"  every request measured against quotas: {on_rate:,.0f}/s")
    print(f"  with / without: {on_rate / off_rate:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bench(args.records, args.rounds)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
