"""Schemas travel with the data: the ids replicated records use exist on the target's
registry with the same ids and versions, their subjects in IMPORT mode."""

from __future__ import annotations

import io
import json
import struct
from pathlib import Path

import fastavro

from engine.embedded import EmbeddedCluster
from engine.types import Record
from registry.service import SchemaRegistry
from replicator.flow import Flow
from replicator.worker import Replicator

ORDER = {"type": "record", "name": "Order", "fields": [{"name": "id", "type": "long"}]}


def framed(schema_id: int, value: dict[str, object]) -> bytes:
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(ORDER), value)
    return struct.pack(">bI", 0, schema_id) + body.getvalue()


def test_used_schemas_arrive_with_the_same_ids_in_import_mode(tmp_path: Path) -> None:
    east = EmbeddedCluster(tmp_path / "east", name="east")
    west = EmbeddedCluster(tmp_path / "west", name="west")
    registry = SchemaRegistry(east).start()
    registry.register("other-value", {"schema": '"string"'})  # id 1, never used by a record
    used = int(str(registry.register("orders-value", {"schema": json.dumps(ORDER)})["id"]))
    registry.close()
    west_registry = SchemaRegistry(west).start()
    west_registry.register("mine-value", {"schema": '"int"'})  # the target has its own id 1
    west_registry.close()
    east.create_topic("orders", 1)
    east.produce("orders", [Record(framed(used, {"id": i})) for i in range(5)])
    replicator = Replicator(Flow("east", "west"), east, west)
    replicator.run_once()
    replicator.close()
    target = SchemaRegistry(west).start()
    assert target.schema_by_id(used)["schema"] == json.dumps(ORDER, separators=(",", ":"))
    assert target.versions_by_id(used) == [{"subject": "orders-value", "version": 1}]
    assert target.get_mode("orders-value") == {"mode": "IMPORT"}
    assert "other-value" not in target.subjects()
    value = west.fetch("east.orders", 0, 3, max_records=1)[0].value
    assert value is not None and int.from_bytes(value[1:5], "big") == used
    target.close()
    east.close()
    west.close()
