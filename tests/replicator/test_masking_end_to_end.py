"""A masked Protobuf flow end to end, embedded to embedded: records written with the registry
serdes on the source (a schema importing another, tagged fields at several depths, catalog
tags), copied by `Replicator` with `mask`, then read on the target with confluent-kafka's
`ProtobufDeserializer` fetching the writer schema from the target's registry over HTTP."""

from __future__ import annotations

from pathlib import Path

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer as CfDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext
from google.protobuf import message_factory

from catalog.service import Catalog
from engine.embedded import EmbeddedCluster
from engine.types import Record
from registry.client import RegistryClient
from registry.formats.base import ResolvedReference
from registry.formats.protobuf import parse_protobuf
from registry.local_client import LocalRegistryClient
from registry.serde.protobuf import ProtobufSerializer, encode_indexes
from registry.serde.wire import frame
from registry.service import SchemaRegistry
from replicator.flow import Flow
from replicator.mask_rules import mask_value
from replicator.masking import dead_letter_topic
from replicator.worker import Replicator
from streamgov.server import create_app, serve_in_thread

CONTACT = """syntax = "proto3";
package common;
import "confluent/meta.proto";

message Contact {
  string phone = 1 [(confluent.field_meta).tags = "PII"];
  string city = 2;
}
"""

CUSTOMER = """syntax = "proto3";
package shop;
import "confluent/meta.proto";
import "common/contact.proto";

message Audit { string by = 1; }

message Customer {
  string id = 1;
  string email = 2 [(confluent.field_meta).tags = "PII"];
  common.Contact contact = 3;
  repeated string aliases = 4 [(confluent.field_meta).tags = "PII"];
  map<string, string> notes = 5 [(confluent.field_meta).tags = "SECRET"];
  oneof payment {
    string card = 6;
    string iban = 7 [(confluent.field_meta).tags = "PII"];
  }
  int64 loyalty = 8;
}
"""

SALT = "end-to-end-salt"


def test_masked_protobuf_stream_embedded_to_embedded(tmp_path: Path) -> None:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    west = EmbeddedCluster(tmp_path / "west", name="west")
    parsed = parse_protobuf(CUSTOMER, [ResolvedReference("common/contact.proto", "", 0, CONTACT)])
    customer = message_factory.GetMessageClass(parsed.message_named("shop.Customer"))
    registry = SchemaRegistry(east).start()
    serialize = ProtobufSerializer(LocalRegistryClient(registry), customer)
    first = customer(id="c-1", email="ann@example.com", card="4111", loyalty=42)
    first.contact.phone = "+44 20 7946 0000"
    first.contact.city = "London"
    first.aliases.extend(["annie", "a.k."])
    first.notes["vip"] = "yes"
    second = customer(id="c-2", email="bob@example.com", iban="GB82WEST")
    east.create_topic("customers", 1)
    good = [serialize(first, "customers"), serialize(second, "customers")]
    assert good[0] is not None and good[1] is not None
    schema_id = int.from_bytes(good[0][1:5], "big")
    broken = frame(schema_id, encode_indexes([1]) + b"\xff\xff\xff")
    east.produce(
        "customers", [Record(good[0]), Record(broken), Record(good[1]), Record(b"plain text")]
    )
    registry.close()
    catalog = Catalog(east).start()
    catalog.tag("customers", owner="crm", field_tags={"card": ["pii"]})
    catalog.close()

    flow = Flow("east", "west", mask={"pii": "hash", "secret": "redact"}, mask_salt=SALT)
    replicator = Replicator(flow, east, west)
    assert replicator.run_once() == 2
    replicator.close()

    copied = west.fetch("east.customers", 0, 0, max_records=10)
    assert [r.value[:6] for r in copied if r.value] == [good[0][:6], good[1][:6]]  # id, [1]
    app = create_app(west)
    try:
        with serve_in_thread(app) as url:
            client = SchemaRegistryClient({"url": url})
            read = CfDeserializer(customer, {"use.deprecated.format": False}, client)
            context = SerializationContext("east.customers", MessageField.VALUE)
            one, two = (read(r.value, context) for r in copied)
            client.close()
    finally:
        app.state.services.close()

    salt = SALT.encode()
    assert one.id == "c-1" and one.loyalty == 42 and one.contact.city == "London"
    assert one.email == mask_value("ann@example.com", "hash", salt)
    assert one.contact.phone == mask_value("+44 20 7946 0000", "hash", salt)
    assert list(one.aliases) == [mask_value(a, "hash", salt) for a in ("annie", "a.k.")]
    assert dict(one.notes) == {}
    assert one.WhichOneof("payment") == "card"
    assert one.card == mask_value("4111", "hash", salt)  # a catalog field tag
    assert two.id == "c-2" and two.WhichOneof("payment") == "iban"
    assert two.iban == mask_value("GB82WEST", "hash", salt)
    assert two.email == mask_value("bob@example.com", "hash", salt)
    everything = b"".join(r.value or b"" for r in copied)
    for secret in (b"ann@example.com", b"bob@example.com", b"4111", b"GB82WEST", b"+44 20"):
        assert secret not in everything

    dead = east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)
    assert [r.value for r in dead] == [broken, b"plain text"]
    reasons = [dict(r.headers)["streamgov.dlq.reason"] for r in dead]
    assert b"does not decode" in reasons[0] and b"wire format" in reasons[1]
    east.close()
    west.close()


def test_a_remote_source_registry_is_read_over_http(tmp_path: Path) -> None:
    registry_cluster = EmbeddedCluster(tmp_path / "registry", name="registry")
    east = EmbeddedCluster(tmp_path / "east", name="east")
    west = EmbeddedCluster(tmp_path / "west", name="west")
    parsed = parse_protobuf(CUSTOMER, [ResolvedReference("common/contact.proto", "", 0, CONTACT)])
    customer = message_factory.GetMessageClass(parsed.message_named("shop.Customer"))
    app = create_app(registry_cluster)
    try:
        with serve_in_thread(app) as url:
            with RegistryClient(url) as client:
                data = ProtobufSerializer(client, customer)(
                    customer(id="c-9", email="eve@example.com"), "customers"
                )
            east.create_topic("customers", 1)
            east.produce("customers", [Record(data)])
            # without the registry's address the source has no registry: dead-lettered
            alone = Replicator(Flow("east", "west", mask={"pii": "redact"}), east, west)
            assert alone.run_once() == 0
            alone.close()
            assert len(east.fetch(dead_letter_topic("west"), 0, 0, max_records=10)) == 1
            flow = Flow("east", "west", mask={"pii": "redact"}, source_registry=url)
            replicator = Replicator(flow, east, west)
            assert replicator.run_once() == 1
            replicator.close()
    finally:
        app.state.services.close()
    (copied,) = west.fetch("east.customers", 0, 0, max_records=10)
    assert copied.value is not None and data is not None
    read = CfDeserializer(customer, {"use.deprecated.format": False})
    masked = read(copied.value, SerializationContext("east.customers", MessageField.VALUE))
    assert (masked.id, masked.email) == ("c-9", "")
    for cluster in (registry_cluster, east, west):
        cluster.close()
