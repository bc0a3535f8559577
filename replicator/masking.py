"""Masked copies: fields tagged with a masked tag (schema tags and catalog field tags) are
hashed or redacted on the way; a record that cannot be decoded and rewritten is dead-lettered
on the source cluster, so nothing tagged is ever copied unmasked.

Values and keys in the Confluent wire format with an Avro or JSON Schema writer schema are
decoded, rewritten and re-encoded with the same schema id. A tagged field's value becomes:
for `hash`, SHA-256 of it (hex text for strings, the digest for bytes, a non-negative 31-bit
number for integers); for `redact`, the type's empty value ("", b"", 0, 0.0, false, null).
A tagged field holding a record, array or map, a Protobuf schema with tagged fields, an unknown
schema id, or bytes that do not decode all send the record to the dead-letter topic."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import fastavro

from catalog.fields import schema_fields
from engine.cluster import Cluster
from engine.errors import TopicAlreadyExistsError
from engine.types import ConsumedRecord, Record
from registry.formats import parse_schema
from registry.service import SchemaRegistry
from replicator.schemas import framed_id

Action = Literal["hash", "redact"]


#: Where undecodable records go, on the source cluster (never copied: an internal name).
def dead_letter_topic(target: str) -> str:
    """The dead-letter topic on the source for a masked flow into `target`."""
    return f"streamgov-masking-dlq.{target}.internal"


class MaskError(Exception):
    """A record part that cannot be masked safely."""


@dataclass(frozen=True)
class _Plan:
    kind: str  # "AVRO" or "JSON"
    parsed: Any  # fastavro's parsed schema for Avro
    paths: dict[tuple[str, ...], Action]


def mask_value(value: Any, action: Action) -> Any:
    """One tagged field's replacement; `MaskError` for a value that is not a scalar."""
    if value is None:
        return None
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return hashlib.sha256(value.encode()).hexdigest() if action == "hash" else ""
    if isinstance(value, bytes):
        return hashlib.sha256(value).digest() if action == "hash" else b""
    if isinstance(value, int):
        if action == "redact":
            return 0
        digest = hashlib.sha256(str(value).encode()).digest()
        return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF
    if isinstance(value, float):
        return 0.0
    raise MaskError(f"a tagged field holds a {type(value).__name__}: only scalars are masked")


def rewrite(document: Any, path: tuple[str, ...], action: Action) -> Any:
    """`document` with the field at `path` masked (through arrays: every element)."""
    if isinstance(document, list):
        return [rewrite(item, path, action) for item in document]
    if not path:
        return mask_value(document, action)
    if not isinstance(document, dict) or path[0] not in document:
        return document
    out = dict(document)
    out[path[0]] = rewrite(document[path[0]], path[1:], action)
    return out


class Masker:
    """A worker transform rewriting tagged fields (see the module docstring).

    `rules` maps a tag name (case-insensitive) to `hash` or `redact`; `declared(topic)` gives
    the catalog's field tags of a source topic (`path` or `key.path` -> tag names)."""

    def __init__(
        self,
        rules: Mapping[str, Action],
        registry: SchemaRegistry | None,
        source: Cluster,
        target_alias: str,
        declared: Callable[[str], Mapping[str, tuple[str, ...]]] = lambda _t: {},
    ) -> None:
        self.rules = {k.lower(): v for k, v in rules.items()}
        self.registry = registry
        self.source = source
        self.dlq = dead_letter_topic(target_alias)
        self.declared = declared
        self.dead_lettered = 0
        self._plans: dict[tuple[int, str, str], _Plan] = {}

    def _action(self, tags: tuple[str, ...]) -> Action | None:
        actions = [self.rules[t.lower()] for t in tags if t.lower() in self.rules]
        if not actions:
            return None
        return "redact" if "redact" in actions else "hash"

    def _declared_paths(self, topic: str, part: str) -> dict[tuple[str, ...], Action]:
        out: dict[tuple[str, ...], Action] = {}
        for path, tags in self.declared(topic).items():
            head, _, rest = path.partition(".")
            is_key = head == "key" and rest
            if (part == "key") != bool(is_key):
                continue
            action = self._action(tuple(tags))
            if action is not None:
                out[tuple((rest if is_key else path).split("."))] = action
        return out

    def _plan(self, schema_id: int, topic: str, part: str) -> _Plan:
        cached = self._plans.get((schema_id, topic, part))
        if cached is not None:
            return cached
        if self.registry is None:
            raise MaskError(f"schema id {schema_id}: the source has no registry")
        self.registry.sync()
        try:
            body = self.registry.schema_by_id(schema_id)
        except Exception as exc:
            raise MaskError(f"schema id {schema_id} is unknown: {exc}") from None
        kind = str(body.get("schemaType") or "AVRO")
        parsed = parse_schema(kind, str(body["schema"]))
        paths = self._declared_paths(topic, part)
        for info in schema_fields(parsed, part):
            action = self._action(tuple(t.name for t in info.tags))
            if action is not None:
                paths[tuple(info.path.split("."))] = action
        if paths and kind not in ("AVRO", "JSON"):
            raise MaskError(f"schema id {schema_id} is {kind}: tagged fields cannot be rewritten")
        avro = fastavro.parse_schema(json.loads(str(body["schema"]))) if kind == "AVRO" else None
        plan = self._plans[(schema_id, topic, part)] = _Plan(kind, avro, paths)
        return plan

    def _part(self, data: bytes | None, topic: str, part: str) -> bytes | None:
        if data is None:
            return None
        schema_id = framed_id(data)
        if schema_id is None:
            if self._declared_paths(topic, part):
                raise MaskError(f"the {part} is not in the registry's wire format")
            return data
        plan = self._plan(schema_id, topic, part)
        if not plan.paths:
            return data
        try:
            if plan.kind == "AVRO":
                decoded = fastavro.schemaless_reader(io.BytesIO(data[5:]), plan.parsed, None)
            else:
                decoded = json.loads(data[5:])
        except Exception as exc:
            raise MaskError(f"the {part} does not decode: {exc}") from None
        for path, action in plan.paths.items():
            decoded = rewrite(decoded, path, action)
        if plan.kind == "AVRO":
            out = io.BytesIO()
            out.write(data[:5])
            try:
                fastavro.schemaless_writer(out, plan.parsed, decoded)
            except Exception as exc:
                raise MaskError(f"the masked {part} does not encode: {exc}") from None
            return out.getvalue()
        return data[:5] + json.dumps(decoded, separators=(",", ":")).encode()

    def __call__(self, remote: str, record: ConsumedRecord) -> ConsumedRecord | None:
        """The masked record, or None after dead-lettering it."""
        try:
            key = self._part(record.key, record.topic, "key")
            value = self._part(record.value, record.topic, "value")
        except MaskError as exc:
            self._dead_letter(record, str(exc))
            return None
        return replace(record, key=key, value=value)

    def _dead_letter(self, record: ConsumedRecord, reason: str) -> None:
        with contextlib.suppress(TopicAlreadyExistsError):
            self.source.create_topic(self.dlq, 1)
        headers = (
            *record.headers,
            ("streamgov.dlq.topic", record.topic.encode()),
            ("streamgov.dlq.partition", str(record.partition).encode()),
            ("streamgov.dlq.offset", str(record.offset).encode()),
            ("streamgov.dlq.reason", reason.encode()),
        )
        self.source.produce(
            self.dlq, [Record(record.value, record.key, headers, record.timestamp_ms, 0)]
        )
        self.dead_lettered += 1
