"""Exports: AsyncAPI 3.0 documents valid against the official AsyncAPI 3.0.0 JSON Schema
(from the @asyncapi/specs package, Apache-2.0), Backstage entities, Mermaid and DOT."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from catalog import exports
from catalog import state as c

ASYNCAPI_SCHEMA = json.loads(
    (Path(__file__).parent / "data" / "asyncapi-3.0.0.schema.json").read_text()
)
ORDER = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "string"}]}
PAYMENT = {"type": "object", "properties": {"amount": {"type": "number"}}}


def catalog() -> c.CatalogState:
    state = c.initial_state()
    for command in (
        c.upsert_stream(
            "orders", fields={"owner": "checkout", "description": "placed"}, add_tags=["pii"]
        ),
        c.upsert_stream("payments.v1", fields={"owner": "billing"}, add_tags=["financial"]),
        c.deprecate_stream(
            "payments.v1", since="2026-01-01", replacement="orders", sunset="2027-01-01"
        ),
        c.upsert_service(
            "checkout", {"team": "shop", "contacts": ["shop@example.com"], "outputs": ["orders"]}
        ),
        c.upsert_service("billing", {"inputs": ["orders"], "outputs": ["payments.v1"]}),
    ):
        c.apply(state, command)
    return state


def schemas(subject: str) -> tuple[str, str] | None:
    return {
        "orders-value": ("AVRO", json.dumps(ORDER)),
        "payments.v1-value": ("JSON", json.dumps(PAYMENT)),
        "payments.v1-key": ("JSON", json.dumps({"type": "string"})),
    }.get(subject)


@pytest.mark.parametrize("service", ["checkout", "billing"])
def test_asyncapi_documents_are_valid_asyncapi_3(service: str) -> None:
    document = exports.asyncapi(catalog(), service, schemas)
    jsonschema.Draft7Validator(ASYNCAPI_SCHEMA).validate(document)
    # and still valid once written as YAML and read back, as users keep it
    jsonschema.Draft7Validator(ASYNCAPI_SCHEMA).validate(yaml.safe_load(yaml.safe_dump(document)))


def test_asyncapi_operations_follow_inputs_and_outputs() -> None:
    document = exports.asyncapi(catalog(), "billing", schemas)
    assert {name: op["action"] for name, op in document["operations"].items()} == {
        "send_payments.v1": "send",
        "receive_orders": "receive",
    }
    channel = document["channels"]["payments.v1"]
    assert channel["x-deprecation"]["replacement"] == "orders"
    assert {"name": "deprecated"} in channel["tags"]
    message = document["components"]["messages"]["payments.v1.message"]
    assert message["payload"] == {
        "schemaFormat": "application/schema+json;version=draft-07",
        "schema": PAYMENT,
    }


def test_the_validation_is_real() -> None:
    document = exports.asyncapi(catalog(), "billing", schemas)
    document["operations"]["receive_orders"]["action"] = "consume"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(ASYNCAPI_SCHEMA).validate(document)


def test_backstage_entities() -> None:
    entities = list(yaml.safe_load_all(exports.backstage(catalog(), "shop")))
    by_name = {(e["kind"], e["metadata"]["name"]): e for e in entities}
    assert by_name[("API", "payments.v1")]["spec"]["lifecycle"] == "deprecated"
    assert by_name[("API", "orders")]["spec"]["owner"] == "checkout"
    assert by_name[("Component", "billing")]["spec"]["providesApis"] == ["payments.v1"]
    assert by_name[("Component", "billing")]["spec"]["consumesApis"] == ["orders"]


def test_topology_graphs() -> None:
    state = catalog()
    mermaid = exports.mermaid(state)
    assert "svc_billing --> topic_payments_2e_v1" in mermaid
    assert "topic_orders --> svc_billing" in mermaid
    assert '(["payments.v1 (deprecated)"])' in mermaid
    dot = exports.dot(state)
    assert dot.startswith("digraph streams {") and "svc_checkout -> topic_orders;" in dot
    assert 'topic_payments_2e_v1 [label="payments.v1", shape=oval, style=dashed];' in dot
