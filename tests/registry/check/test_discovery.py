"""Files to subjects: conventions, explicit entries, naming strategies, mapping problems."""

from __future__ import annotations

import json
from pathlib import Path

from registry.check.config import CheckConfig, parse_config
from registry.check.discovery import discover, record_name, stem
from registry.check.sources import DirectorySource
from registry.compatibility import CompatibilityLevel
from registry.formats import SchemaType
from tests.registry.check.conftest import field, record

JSON_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "title": "com.acme.Invoice",
    "type": "object",
}


def _tree(root: Path, files: dict[str, object]) -> DirectorySource:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content if isinstance(content, str) else json.dumps(content))
    return DirectorySource(root)


def test_conventions(tmp_path: Path) -> None:
    source = _tree(
        tmp_path,
        {
            "schemas/orders-value.avsc": record("Order", field("id", "string")),
            "schemas/invoices.schema.json": JSON_SCHEMA,
            "schemas/payments.json": JSON_SCHEMA,
            "tsconfig.json": {"$schema": "https://json.schemastore.org/tsconfig"},
            "package.json": {"name": "x"},
            "README.md": "hello",
        },
    )
    (tmp_path / "schemas/alias-value.avsc").symlink_to(tmp_path / "schemas/orders-value.avsc")
    found = discover(source, CheckConfig())
    assert {s: (f.path, f.schema_type) for s, f in found.files.items()} == {
        "orders-value": ("schemas/orders-value.avsc", SchemaType.AVRO),
        "invoices": ("schemas/invoices.schema.json", SchemaType.JSON),
        "payments": ("schemas/payments.json", SchemaType.JSON),
    }
    assert found.problems == []


def test_explicit_entries_win_over_globs_and_unmatched_files_are_ignored(tmp_path: Path) -> None:
    source = _tree(
        tmp_path,
        {
            "schemas/orders.avsc": record("Order", field("id", "string")),
            "schemas/refunds.avsc": record("Refund", field("id", "string")),
            "other/ignored.avsc": record("Ignored"),
        },
    )
    config = parse_config(
        """
schemas:
  files:
    - glob: "schemas/*.avsc"
    - path: schemas/orders.avsc
      subject: orders-v2-value
      compatibility: FULL
"""
    )
    found = discover(source, config)
    assert set(found.files) == {"orders-v2-value", "refunds-value"}
    assert found.files["orders-v2-value"].compatibility is CompatibilityLevel.FULL


def test_naming_strategies(tmp_path: Path) -> None:
    source = _tree(
        tmp_path,
        {
            "topics/orders/value.avsc": record("Order", field("id", "string")),
            "keys/orders.avsc": '"string"',
            "events/created.avsc": record("Created", namespace="com.acme.events"),
            "events/dotted.avsc": record("x.y.Dotted", namespace="ignored"),
            "mixed/payments.json": JSON_SCHEMA,
        },
    )
    config = parse_config(
        """
schemas:
  files:
    - {glob: "topics/*/value.avsc", strategy: TopicNameStrategy, topic: "{parent}"}
    - {glob: "keys/*.avsc", strategy: TopicNameStrategy, key: true}
    - {glob: "events/*.avsc", strategy: RecordNameStrategy}
    - {glob: "mixed/*.json", strategy: TopicRecordNameStrategy}
"""
    )
    found = discover(source, config)
    assert found.problems == []
    assert {s: f.path for s, f in found.files.items()} == {
        "orders-value": "topics/orders/value.avsc",
        "orders-key": "keys/orders.avsc",
        "com.acme.events.Created": "events/created.avsc",
        "x.y.Dotted": "events/dotted.avsc",
        "payments-com.acme.Invoice": "mixed/payments.json",
    }


def test_mapping_problems_are_reported_not_raised(tmp_path: Path) -> None:
    source = _tree(
        tmp_path,
        {
            "a/orders.avsc": record("Order"),
            "b/orders.avsc": record("Order2"),
            "prims/string.avsc": '"string"',
            "bin/blob.avsc": "",
        },
    )
    (tmp_path / "bin/blob.avsc").write_bytes(b"\xff\xfe\x00")
    config = parse_config(
        """
schemas:
  files:
    - {glob: "*/orders.avsc"}
    - {glob: "prims/*.avsc", strategy: RecordNameStrategy}
    - {glob: "bin/*.avsc"}
    - {path: gone/missing.avsc, subject: missing-value}
"""
    )
    found = discover(source, config)
    messages = {p.path: p.message for p in found.problems}
    assert "already held by a/orders.avsc" in messages["b/orders.avsc"]
    assert "needs a top-level named record" in messages["prims/string.avsc"]
    assert "not UTF-8" in messages["bin/blob.avsc"]
    assert "line 7" in messages["gone/missing.avsc"]
    assert set(found.files) == {"orders-value"}


def test_helpers() -> None:
    assert stem("x/orders.schema.json") == "orders"
    assert stem("orders-value.avsc") == "orders-value"
    assert record_name(SchemaType.AVRO, '{"type":"record","name":"A","namespace":"n"}') == "n.A"
    assert record_name(SchemaType.AVRO, "[1,") is None
    assert record_name(SchemaType.JSON, '{"title": "T"}') == "T"
