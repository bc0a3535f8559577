"""Protobuf speed: our serdes beside confluent-kafka's, and a FULL_TRANSITIVE check.

Serdes: one message type (a few scalars, a nested message, a repeated message, a map, a
well-known Timestamp), serialized and deserialized N times by ours and by confluent-kafka's
`ProtobufSerializer`/`ProtobufDeserializer`, both against the same in-process registry, in one
run; the bytes are checked equal first. Check: version 1,001 of a 100-field message against
1,000 earlier versions at FULL_TRANSITIVE (2,000 comparisons), cold (first check of freshly
parsed schemas) and warm.

Run: `python -m benchmarks.protobuf [--records N] [--versions N] [--fields N]`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer as CfDeserializer
from confluent_kafka.schema_registry.protobuf import ProtobufSerializer as CfSerializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import message_factory

from engine.embedded import EmbeddedCluster
from registry.client import RegistryClient
from registry.compatibility import CompatibilityLevel, VersionedSchema, check
from registry.formats.protobuf import ProtobufSchema, parse_protobuf
from registry.serde.protobuf import ProtobufDeserializer, ProtobufSerializer
from streamgov.server import create_app, serve_in_thread

EVENT = """syntax = "proto3";
package bench;
import "google/protobuf/timestamp.proto";

message Event {
  string id = 1;
  int64 sequence = 2;
  double amount = 3;
  bool flagged = 4;
  Kind kind = 5;
  Address address = 6;
  repeated Item items = 7;
  map<string, string> labels = 8;
  google.protobuf.Timestamp at = 9;

  message Address { string street = 1; string city = 2; string zip = 3; }
  message Item { string sku = 1; uint32 quantity = 2; int64 price = 3; }
  enum Kind { KIND_UNKNOWN = 0; KIND_ORDER = 1; }
}
"""


def _timed(label: str, count: int, action: Callable[[], object]) -> float:
    start = time.perf_counter()
    for _ in range(count):
        action()
    seconds = time.perf_counter() - start
    print(f"  {label:<34} {count / seconds:>12,.0f} records/s")
    return count / seconds


def serdes(records: int) -> tuple[float, float]:
    """Ratios ours / confluent-kafka's for serializing and deserializing."""
    schema = parse_protobuf(EVENT)
    event_class = message_factory.GetMessageClass(schema.message_named("bench.Event"))
    event: Any = event_class(id="e-1", sequence=42, amount=12.5, flagged=True, kind=1)
    event.address.city = "Lyon"
    for index in range(3):
        event.items.add(sku=f"sku-{index}", quantity=index + 1, price=999)
    event.labels["source"] = "web"
    event.at.seconds = 1_700_000_000
    with tempfile.TemporaryDirectory() as home:
        cluster = EmbeddedCluster(Path(home), name="bench")
        app = create_app(cluster)
        try:
            with serve_in_thread(app) as url, RegistryClient(url) as ours:
                theirs = SchemaRegistryClient({"url": url})
                ctx = SerializationContext("events", MessageField.VALUE)
                cf_write = CfSerializer(event_class, theirs, {"use.deprecated.format": False})
                cf_read = CfDeserializer(event_class, {}, theirs)
                our_write = ProtobufSerializer(ours, event_class)
                our_read = ProtobufDeserializer(ours, event_class)
                data = our_write(event, "events")
                assert data is not None and data == cf_write(event, ctx)
                assert our_read(data) == cf_read(data, ctx) == event
                print(f"serdes, {records:,} records of {len(data)} bytes each:")
                ours_w = _timed("ours: serialize", records, lambda: our_write(event, "events"))
                cf_w = _timed("confluent-kafka: serialize", records, lambda: cf_write(event, ctx))
                ours_r = _timed("ours: deserialize", records, lambda: our_read(data))
                cf_r = _timed("confluent-kafka: deserialize", records, lambda: cf_read(data, ctx))
                theirs.close()
        finally:
            app.state.services.close()
            cluster.close()
    return ours_w / cf_w, ours_r / cf_r


def version_text(version: int, fields: int) -> str:
    """Version `version` of a message with `fields` fields, FULL-compatible with every other:
    three quarters never change; the rest is a window of fields sliding by one per version."""
    core = fields * 3 // 4
    kinds = ["int64", "string", "double", "bool", "bytes", "uint32", "Nested", "Color"]
    lines = [f"  {kinds[i % len(kinds)]} core_{i} = {i + 1};" for i in range(core)]
    for slot in range(version, version + fields - core):
        lines.append(f"  string window_{slot} = {core + 1 + slot};")
    body = "\n".join(lines)
    return (
        'syntax = "proto3";\npackage bench;\n'
        f"message Wide {{\n{body}\n  message Nested {{ string a = 1; }}\n}}\n"
        "enum Color { COLOR_UNKNOWN = 0; COLOR_RED = 1; }\n"
    )


def transitive_check(versions: int, fields: int) -> tuple[float, float]:
    """Seconds for a cold and a warm FULL_TRANSITIVE check of version N+1 against N."""
    start = time.perf_counter()
    history = [VersionedSchema(v, parse_protobuf(version_text(v, fields))) for v in range(versions)]
    new: ProtobufSchema = parse_protobuf(version_text(versions, fields))
    parsed = time.perf_counter() - start
    print(f"check: {versions:,} versions of a {fields}-field message, parsed in {parsed:.1f} s")
    timings = []
    for _ in range(2):
        start = time.perf_counter()
        result = check(new, history, CompatibilityLevel.FULL_TRANSITIVE)
        timings.append(time.perf_counter() - start)
        assert result.compatible, result.messages()[:3]
    print(f"  FULL_TRANSITIVE cold {timings[0]:.3f} s, warm {timings[1]:.3f} s")
    return timings[0], timings[1]


def main() -> None:
    """Run both benchmarks and print the ratios and the load average."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--versions", type=int, default=1_000)
    parser.add_argument("--fields", type=int, default=100)
    args = parser.parse_args()
    before = os.getloadavg()[0]
    write, read = serdes(args.records)
    cold, warm = transitive_check(args.versions, args.fields)
    after = os.getloadavg()[0]
    print(f"ratio ours / confluent-kafka: serialize {write:.2f}x, deserialize {read:.2f}x")
    print(f"FULL_TRANSITIVE against {args.versions:,}: cold {cold:.3f} s, warm {warm:.3f} s")
    print(f"load average (1 min) before / after: {before:.1f} / {after:.1f}")


if __name__ == "__main__":
    main()
