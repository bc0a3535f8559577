"""Generation speed: records for a 20-field Avro record made by `testdata`'s generator
(validated with fastavro) and written with the registry's `AvroSerializer`, beside the same
serializer alone on values built beforehand, in one run, against one in-process registry.

Goals: at least 50,000 records/s, and at least 0.5x the serializer alone.

Run: `python -m benchmarks.generate [--records N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this directory comes first on sys.path and its engine.py would shadow the
# engine package: put the repository root first.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.embedded import EmbeddedCluster
from registry.client import RegistryClient
from registry.formats import parse_schema
from registry.serde import AvroSerializer
from streamgov.server import create_app, serve_in_thread
from testdata import generator_for

GOAL_RATE = 50_000
GOAL_RATIO = 0.5

#: 20 fields of the kinds events carry: ids, amounts, times, enums, optional text, a map.
FIELDS: list[dict[str, Any]] = [
    {"name": "event_id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "sequence", "type": "long"},
    {"name": "customer_id", "type": "int"},
    {"name": "amount", "type": "double"},
    {"name": "quantity", "type": "int"},
    {"name": "price", "type": "float"},
    {"name": "currency", "type": {"type": "enum", "name": "Currency",
                                  "symbols": ["EUR", "USD", "GBP"]}},
    {"name": "status", "type": {"type": "enum", "name": "Status",
                                "symbols": ["NEW", "PAID", "SHIPPED"]}},
    {"name": "sku", "type": "string"},
    {"name": "note", "type": ["null", "string"], "default": None},
    {"name": "flagged", "type": "boolean"},
    {"name": "channel", "type": "string"},
    {"name": "region", "type": "string"},
    {"name": "discount", "type": ["null", "double"], "default": None},
    {"name": "created_at", "type": "long"},
    {"name": "updated_at", "type": "long"},
    {"name": "attempt", "type": "int"},
    {"name": "source", "type": "string"},
    {"name": "priority", "type": "int"},
    {"name": "checksum", "type": "bytes"},
]  # fmt: skip
SCHEMA = {"type": "record", "name": "Order", "namespace": "bench", "fields": FIELDS}


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def main() -> None:
    """Print both rates, the ratio, each beside its goal, and the load average."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=100_000)
    args = parser.parse_args()
    count = args.records
    text = json.dumps(SCHEMA)
    with tempfile.TemporaryDirectory() as home:
        cluster = EmbeddedCluster(Path(home) / "bench", name="bench")
        app = create_app(cluster)
        try:
            with serve_in_thread(app) as url, RegistryClient(url) as client:
                serialize = AvroSerializer(client, text)
                generator = generator_for(parse_schema("AVRO", text), seed=1)
                built = [generator.generate() for _ in range(count)]
                serialize(built[0], "orders")  # registers the schema outside the timing

                start = time.perf_counter()
                for value in built:
                    serialize(value, "orders")
                alone = _rate(count, time.perf_counter() - start)

                generator = generator_for(parse_schema("AVRO", text), seed=2)
                start = time.perf_counter()
                for _ in range(count):
                    serialize(generator.generate(), "orders")
                generated = _rate(count, time.perf_counter() - start)
        finally:
            app.state.services.close()
            cluster.close()
    ratio = generated / alone
    load = os.getloadavg()
    print(f"records: {count} of a 20-field Avro record")
    print(f"serializer alone (anchor):        {alone:>10,.0f} records/s")
    print(
        f"generate + validate + serialize:  {generated:>10,.0f} records/s "
        f"(goal {GOAL_RATE:,}: {'met' if generated >= GOAL_RATE else 'NOT met'})"
    )
    print(
        f"ratio: {ratio:.2f}x the serializer alone "
        f"(goal {GOAL_RATIO}x: {'met' if ratio >= GOAL_RATIO else 'NOT met'})"
    )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
