"""Schemas travel with the data: the registry schemas that replicated records reference (by
the Confluent wire format's id) are copied to the target's registry with the same ids and
versions, their subjects put in IMPORT mode there, referenced schemas first."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from operator import attrgetter
from typing import Any

from engine.cluster import Cluster
from engine.types import ConsumedRecord
from registry.errors import RegistryError
from registry.service import SCHEMAS_TOPIC, SchemaRegistry

logger = logging.getLogger(__name__)

#: Deepest chain of schema references followed.
MAX_REFERENCE_DEPTH = 32

_KEY = attrgetter("key")
_VALUE = attrgetter("value")


def framed_id(data: bytes | None) -> int | None:
    """The schema id of a Confluent-framed key or value (magic byte 0, 4-byte id)."""
    if data is None or len(data) < 5 or data[0] != 0:
        return None
    return int.from_bytes(data[1:5], "big")


class SchemaCarrier:
    """Copies schemas between the registries of two clusters, each id once."""

    def __init__(
        self,
        source: Cluster,
        target: Cluster,
        topic: str = SCHEMAS_TOPIC,
        on_error: Callable[[str], None] = logger.warning,
    ) -> None:
        self._source_cluster, self._target_cluster, self._topic = source, target, topic
        self._source: SchemaRegistry | None = None
        self._target: SchemaRegistry | None = None
        self._carried: set[int] = set()
        self._failed: set[int] = set()
        self._on_error = on_error

    def close(self) -> None:
        """Close the registries opened."""
        for registry in (self._source, self._target):
            if registry is not None:
                registry.close()

    def _registries(self) -> tuple[SchemaRegistry, SchemaRegistry] | None:
        if self._source is None:
            if self._topic not in self._source_cluster.list_topics(include_internal=True):
                return None
            self._source = SchemaRegistry(self._source_cluster, self._topic, readonly=True).start()
            self._target = SchemaRegistry(self._target_cluster, self._topic).start()
        assert self._target is not None
        return self._source, self._target

    def carry_records(self, records: Sequence[ConsumedRecord]) -> None:
        """Make sure the schemas the records' keys and values name exist on the target."""
        ids: set[int | None] = set()
        for field in (_KEY, _VALUE):
            # Only framed data (magic byte 0) is looked at closer: one cheap test per record.
            ids.update(framed_id(data) for data in map(field, records) if data and data[0] == 0)
        for schema_id in sorted(i for i in ids if i is not None and i not in self._carried):
            self.carry(schema_id)

    def carry(self, schema_id: int, depth: int = 0) -> bool:
        """Copy one schema id (with its references) to the target; False when it cannot be
        (unknown at the source, or the id holds another schema on the target)."""
        if schema_id in self._carried:
            return True
        if schema_id in self._failed or depth > MAX_REFERENCE_DEPTH:
            return False
        registries = self._registries()
        if registries is None:
            return False
        source, target = registries
        source.sync()
        try:
            usages = source.versions_by_id(schema_id)
            for usage in usages:
                subject, version = str(usage["subject"]), int(str(usage["version"]))
                body = source.get_version(subject, version)
                for ref in body.get("references") or []:
                    ref_version = source.get_version(str(ref["subject"]), int(ref["version"]))
                    if not self.carry(int(str(ref_version["id"])), depth + 1):
                        raise RegistryError(40401, f"reference {ref['subject']} not carried")
                self._import(target, subject, version, schema_id, body)
        except RegistryError as exc:
            self._failed.add(schema_id)
            self._on_error(f"schema id {schema_id} not copied to the target registry: {exc}")
            return False
        self._carried.add(schema_id)
        return True

    def _import(
        self, target: SchemaRegistry, subject: str, version: int, schema_id: int, body: Any
    ) -> None:
        existing = target.peek_schema_by_id(schema_id)
        if existing is not None and any(
            u["subject"] == subject and u["version"] == version
            for u in target.versions_by_id(schema_id)
        ):
            return
        if target.get_mode(subject, default_to_global=True).get("mode") != "IMPORT":
            target.set_mode(subject, {"mode": "IMPORT"}, force=True)
        request: dict[str, Any] = {
            "schema": body["schema"],
            "id": schema_id,
            "version": version,
        }
        for key in ("schemaType", "references", "metadata", "ruleSet"):
            if body.get(key):
                request[key] = body[key]
        target.register(subject, request)
