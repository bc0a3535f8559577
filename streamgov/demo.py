"""The demo platform: a few services with owners, streams in all three schema formats with PII
and financial tags, a deprecated stream a consumer still reads, schemas with compatible
versions, producers running through the `testdata` generator and consumer groups of which one
falls behind. `streamgov demo` seeds it over a running server and calls `tick` once a second;
tests call `tick` with their own clock.

Everything goes through the server's REST API (schemas, catalog) and the cluster (records,
offsets), as a real platform's services would.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from engine.cluster import Cluster, Consumer, Producer
from engine.errors import TopicAlreadyExistsError
from registry.client import RegistryClient
from registry.formats import ResolvedReference, parse_schema
from registry.serde.base import referenced_schemas
from streamgov.cli.recordformats import SCHEMA_FORMATS, Serializer, make_serializer
from testdata import ValueGenerator, generator_for
from testdata.stream import key_text

Json = dict[str, Any]


def _avro(name: str, fields: list[Json]) -> str:
    return json.dumps({"type": "record", "name": name, "namespace": "demo", "fields": fields})


_ORDER_V1: list[Json] = [
    {"name": "order_id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "customer_id", "type": "long"},
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10,
                                "scale": 2}},
    {"name": "currency", "type": {"type": "enum", "name": "Currency",
                                  "symbols": ["EUR", "USD", "GBP"]}},
    {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line",
        "fields": [{"name": "sku", "type": "string"}, {"name": "quantity", "type": "int"}]}}},
    {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
]  # fmt: skip
_ORDER_V2 = [*_ORDER_V1, {"name": "coupon", "type": ["null", "string"], "default": None}]
_ORDER_V3 = [*_ORDER_V2, {"name": "channel", "type": "string", "default": "web"}]
_ORDER_VERSIONS = (_ORDER_V1, _ORDER_V2, _ORDER_V3)

_PAYMENT_V1: list[Json] = [
    {"name": "payment_id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "order_id", "type": "string"},
    {"name": "amount_cents", "type": "long"},
    {"name": "card_holder", "type": "string", "confluent:tags": ["PII"]},
]
_PAYMENT_V2: list[Json] = [
    *_PAYMENT_V1[:2],
    {"name": "amount", "type": {"type": "bytes", "logicalType": "decimal", "precision": 12,
                                "scale": 2}},
    {"name": "card_holder", "type": "string", "confluent:tags": ["PII"]},
    {"name": "iban", "type": ["null", "string"], "default": None},
    {"name": "status", "type": {"type": "enum", "name": "Status",
                                "symbols": ["AUTHORIZED", "CAPTURED", "REFUNDED"]}},
    {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
]  # fmt: skip

_CUSTOMER: Json = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "Customer",
    "type": "object",
    "additionalProperties": False,
    "required": ["customer_id", "email", "name", "since"],
    "properties": {
        "customer_id": {"type": "integer", "minimum": 1, "maximum": 99999},
        "email": {"type": "string", "format": "email", "confluent:tags": ["PII"]},
        "name": {"type": "string", "confluent:tags": ["PII"]},
        "phone": {"type": "string"},
        "since": {"type": "string", "format": "date-time"},
        "segment": {"enum": ["retail", "business"]},
    },
}
_COUNTRY = {"type": "string", "pattern": "^[A-Z]{2}$"}
_CUSTOMER_V2 = {**_CUSTOMER, "properties": {**_CUSTOMER["properties"], "country": _COUNTRY}}

_SHIPMENT = """syntax = "proto3";
package demo.shipping;
import "google/protobuf/timestamp.proto";

message Shipment {
  string shipment_id = 1;
  string order_id = 2;
  string street = 3;
  string city = 4;
  Carrier carrier = 5;
  google.protobuf.Timestamp shipped_at = 6;
  enum Carrier { CARRIER_UNKNOWN = 0; DHL = 1; UPS = 2; POSTNL = 3; }
}
"""


@dataclass(frozen=True)
class StreamPlan:
    """A stream of the demo: its schema versions (oldest first), owner, tags, and how many
    records its producer writes per tick."""

    topic: str
    schema_type: str
    versions: tuple[str, ...]
    owner: str
    partitions: int = 3
    tags: tuple[str, ...] = ()
    field_tags: dict[str, list[str]] = field(default_factory=dict)
    key_field: str | None = None
    per_tick: int = 20
    description: str = ""


@dataclass(frozen=True)
class GroupPlan:
    """A consumer group: the service it belongs to, its streams, and how many records it reads
    per partition per tick (below the producers' rate: it falls behind)."""

    group: str
    service: str
    topics: tuple[str, ...]
    per_tick: int = 1_000


@dataclass(frozen=True)
class ServicePlan:
    """A service and its owning team."""

    name: str
    team: str
    description: str


SERVICES = (
    ServicePlan("checkout", "team-checkout", "Takes orders from the web shop"),
    ServicePlan("payments", "team-payments", "Authorizes and captures payments"),
    ServicePlan("customers", "team-crm", "Owns customer master data"),
    ServicePlan("shipping", "team-logistics", "Ships orders and tracks parcels"),
    ServicePlan("analytics", "team-data", "Reporting and the finance dashboards"),
)
STREAMS = (
    StreamPlan("orders", "AVRO", tuple(_avro("Order", v) for v in _ORDER_VERSIONS),
               "checkout", tags=("financial",), key_field="order_id", per_tick=30,
               description="Every order placed"),
    StreamPlan("payments.v1", "AVRO", (_avro("Payment", _PAYMENT_V1),), "payments",
               tags=("financial", "pii"), key_field="order_id", per_tick=5,
               description="Payments in the old format"),
    StreamPlan("payments.v2", "AVRO", (_avro("Payment", _PAYMENT_V2),), "payments",
               tags=("financial", "pii"), field_tags={"iban": ["pii"]}, key_field="order_id",
               description="Payments with exact amounts and a status"),
    StreamPlan("customers", "JSON", (json.dumps(_CUSTOMER), json.dumps(_CUSTOMER_V2)),
               "customers", partitions=2, tags=("pii",), field_tags={"phone": ["pii"]},
               key_field="customer_id", per_tick=5, description="Customer profile changes"),
    StreamPlan("shipments", "PROTOBUF", (_SHIPMENT,), "shipping",
               field_tags={"street": ["pii"]}, key_field="order_id", per_tick=10,
               description="Parcels handed to carriers"),
)  # fmt: skip
GROUPS = (
    GroupPlan("shipping", "shipping", ("orders",)),
    GroupPlan("analytics", "analytics", ("orders",), per_tick=3),  # 9 of 30 a tick: behind
    GroupPlan("finance", "analytics", ("payments.v2",)),
    GroupPlan("crm-sync", "customers", ("customers",)),
    # checkout still reads the deprecated payments.v1 (next to the shipments it tracks)
    GroupPlan("checkout", "checkout", ("shipments", "payments.v1")),
)
DEPRECATED = ("payments.v1", "payments.v2", "2027-03-31", "Amounts in cents lose currency")
#: The group the demo leaves behind (WARN, with a scale-up recommendation).
LAGGING_GROUP = "analytics"
#: The one group still reading the deprecated stream.
LEGACY_GROUP = "checkout"


class DemoPlatform:
    """The demo's services, run one tick at a time (`seed` first)."""

    def __init__(self, cluster: Cluster, url: str, seed: int = 1) -> None:
        self.cluster = cluster
        self.registry = RegistryClient(url)
        self.http = httpx.Client(base_url=url, timeout=30.0)
        self.seed_value = seed
        self.generators: dict[str, tuple[ValueGenerator, Serializer]] = {}
        self.consumers: dict[str, Consumer] = {}
        self.producer: Producer | None = None
        self.produced = 0
        self.ticks = 0

    # -- set-up ----------------------------------------------------------------------------
    def seed(self) -> None:
        """Topics, schema versions, services, stream entries and the deprecation (each step
        leaves what exists alone, so a second run changes nothing)."""
        for plan in STREAMS:
            with contextlib.suppress(TopicAlreadyExistsError):
                self.cluster.create_topic(plan.topic, plan.partitions)
            subject = f"{plan.topic}-value"
            for text in plan.versions:
                self.registry.register(subject, text, plan.schema_type)
        for service in SERVICES:
            outputs = [s.topic for s in STREAMS if s.owner == service.name]
            inputs = sorted({t for g in GROUPS if g.service == service.name for t in g.topics})
            groups = [g.group for g in GROUPS if g.service == service.name]
            self._catalog("PATCH", f"/catalog/services/{service.name}", {
                "team": service.team, "description": service.description,
                "outputs": outputs, "inputs": inputs, "groups": groups})  # fmt: skip
        for plan in STREAMS:
            self._catalog("PATCH", f"/catalog/streams/{plan.topic}", {
                "owner": plan.owner, "description": plan.description,
                "value_subject": f"{plan.topic}-value", "add_tags": list(plan.tags),
                "field_tags": plan.field_tags})  # fmt: skip
        old, new, sunset, reason = DEPRECATED
        self._catalog("PUT", f"/catalog/streams/{old}/deprecation",
                      {"replacement": new, "sunset": sunset, "reason": reason})  # fmt: skip
        for number, plan in enumerate(STREAMS):
            self.generators[plan.topic] = self._generator(plan, self.seed_value + number)
        self.producer = self.cluster.producer()
        for group in GROUPS:
            consumer = self.cluster.consumer(group.group)
            consumer.subscribe(list(group.topics))
            self.consumers[group.group] = consumer

    def _catalog(self, method: str, path: str, body: Json) -> None:
        response = self.http.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.text}")

    def _generator(self, plan: StreamPlan, seed: int) -> tuple[ValueGenerator, Serializer]:
        subject = f"{plan.topic}-value"
        latest = self.registry.get_latest(subject)
        resolved = [
            ResolvedReference(name, "", 0, text)
            for name, text in referenced_schemas(self.registry, latest.references)
        ]
        parsed = parse_schema(latest.schema_type, latest.schema, resolved)
        described = self.http.get(f"/catalog/streams/{plan.topic}").json()
        tags = {f["path"]: f["tags"] for f in described.get("fields", []) if f["part"] == "value"}
        fmt = next(n for n, f in SCHEMA_FORMATS.items() if f.schema_type == latest.schema_type)
        return (
            generator_for(parsed, seed=seed, field_tags=tags),
            make_serializer(self.registry, fmt, None, subject),
        )

    # -- running ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Each producer writes its records; each group reads its share and commits."""
        assert self.producer is not None, "seed() first"
        for plan in STREAMS:
            generator, serialize = self.generators[plan.topic]
            for _ in range(plan.per_tick):
                value = generator.generate()
                key = None
                if plan.key_field is not None and isinstance(value, dict):
                    found = value.get(plan.key_field)
                    key = key_text(found) if found is not None else None
                self.producer.send(plan.topic, serialize(value, plan.topic, False), key)
                self.produced += 1
        self.producer.flush()
        for group in GROUPS:
            consumer = self.consumers[group.group]
            partitions = max(1, len(consumer.assignment()))
            records = consumer.poll(timeout=0.05, max_records=group.per_tick * partitions)
            if records:
                consumer.commit()
        self.ticks += 1

    def close(self) -> None:
        """Leave the groups and release the clients."""
        for consumer in self.consumers.values():
            consumer.close()
        if self.producer is not None:
            self.producer.close()
        self.registry.close()
        self.http.close()


def run_until(platform: DemoPlatform, done: Callable[[], bool], ticks: int) -> bool:
    """Tick until `done()` holds (True) or `ticks` ticks have passed (False)."""
    for _ in range(ticks):
        platform.tick()
        if done():
            return True
    return False


__all__ = ["GROUPS", "LAGGING_GROUP", "LEGACY_GROUP", "SERVICES", "STREAMS", "DemoPlatform"]
