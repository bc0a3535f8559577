"""Masked copies: fields tagged with a masked tag (schema tags and catalog field tags) are
hashed or redacted on the way; a record that cannot be decoded and rewritten is dead-lettered
on the source cluster, so nothing tagged is ever copied unmasked.

Keys and values in the Confluent wire format are decoded and re-encoded through the
registry's serdes (`registry.serde.recode`, one recoder per format of `FORMATS`: Avro, JSON
Schema and Protobuf) with the same schema id and, for Protobuf, the same message indexes.
What a masked field becomes is in `mask_rules` (the rules every format shares), applied by
`mask_avro` (records, arrays, maps, unions, enums, fixed), `mask_json` (objects, arrays,
map-like objects, under the schema's constraints) and `mask_protobuf` (messages, repeated
fields, maps, oneofs). A record part whose schema has no
masked field is copied byte for byte without decoding. An unknown schema id, bytes that do
not decode, or a masked value the schema refuses all send the record to the dead-letter topic.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from engine.cluster import Cluster
from engine.errors import TopicAlreadyExistsError
from engine.types import ConsumedRecord, Record
from registry.client import RegistryClient, RegistryClientError
from registry.formats import parse_schema
from registry.formats.avro import AvroSchema
from registry.formats.base import ResolvedReference, SchemaError, SchemaType
from registry.formats.jsonschema import JsonSchema
from registry.formats.protobuf import ProtobufSchema
from registry.formats.protobuf.tags import tags_of
from registry.local_client import LocalRegistryClient
from registry.serde.base import referenced_schemas
from registry.serde.recode import Recoder, Recoders
from registry.serde.wire import SerdeError
from replicator.flow import Flow
from replicator.mask_avro import field_tags as avro_field_tags
from replicator.mask_avro import mask_tree as mask_avro
from replicator.mask_avro import reachable_fields as avro_fields
from replicator.mask_json import TAGS_KEYWORD as JSON_TAGS
from replicator.mask_json import JsonMasker
from replicator.mask_protobuf import mask_message, reachable_fields
from replicator.mask_rules import Action, MaskError
from replicator.schemas import framed_id

__all__ = ["Action", "MaskError", "Masker", "dead_letter_topic", "source_registry_client"]

Path = tuple[str, ...]


#: Where undecodable records go, on the source cluster (never copied: an internal name).
def dead_letter_topic(target: str) -> str:
    """The dead-letter topic on the source for a masked flow into `target`."""
    return f"streamgov-masking-dlq.{target}.internal"


def source_registry_client(
    flow: Flow, source: Cluster, topics: Collection[str], opened: list[Callable[[], None]]
) -> RegistryClient | None:
    """How masking reads the source's schemas: over HTTP when the flow names the source's
    registry, else in process over the source's `_schemas` (None when it has none). What is
    opened is appended to `opened` to be closed with the worker."""
    from registry.service import SCHEMAS_TOPIC, SchemaRegistry

    if flow.source_registry is not None:
        remote = RegistryClient(flow.source_registry)
        opened.append(remote.close)
        return remote
    if SCHEMAS_TOPIC not in topics:
        return None
    registry = SchemaRegistry(source, readonly=True).start()
    opened.append(registry.close)
    return LocalRegistryClient(registry)


@dataclass(frozen=True)
class _Plan:
    """How to mask the records of one schema id in one topic's key or value."""

    recoder: Recoder
    apply: Callable[[Any], Any] | None  # None: nothing to mask, copy the bytes as they are


class Masker:
    """A worker transform rewriting tagged fields (see the module docstring).

    `rules` maps a tag name (case-insensitive) to `hash` or `redact`; `client` reads the
    source's registry (`LocalRegistryClient` in process, `RegistryClient` over HTTP);
    `declared(topic)` gives the catalog's field tags of a source topic (`path` or `key.path`
    -> tag names); `salt` keys the hashes (required when a rule hashes; never shown)."""

    def __init__(
        self,
        rules: Mapping[str, Action],
        client: RegistryClient | None,
        source: Cluster,
        target_alias: str,
        declared: Callable[[str], Mapping[str, tuple[str, ...]]] = lambda _t: {},
        *,
        salt: bytes = b"",
    ) -> None:
        self.rules = {k.lower(): v for k, v in rules.items()}
        if "hash" in self.rules.values() and not salt:
            raise ValueError("masking with hash needs a secret salt")
        self.client = client
        self.recoders = Recoders(client) if client is not None else None
        self.source = source
        self.dlq = dead_letter_topic(target_alias)
        self.declared = declared
        self.dead_lettered = 0
        self._salt = salt
        self._plans: dict[tuple[int, str, str], _Plan] = {}

    def __repr__(self) -> str:
        return f"Masker(rules={self.rules!r}, dlq={self.dlq!r})"

    def _action(self, tags: tuple[str, ...]) -> Action | None:
        actions = [self.rules[t.lower()] for t in tags if t.lower() in self.rules]
        if not actions:
            return None
        return "redact" if "redact" in actions else "hash"

    def _declared_paths(self, topic: str, part: str) -> dict[Path, Action]:
        out: dict[Path, Action] = {}
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
        if self.recoders is None:
            raise MaskError(f"schema id {schema_id}: the source has no registry")
        try:
            registered = self.recoders.client.get_schema(schema_id)
            kind = SchemaType.parse(registered.schema_type)
            recoder = self.recoders.for_type(kind)
            resolved = [
                ResolvedReference(name, "", 0, text)
                for name, text in referenced_schemas(self.recoders.client, registered.references)
            ]
            parsed = parse_schema(kind, registered.schema, resolved)
        except (RegistryClientError, SerdeError, SchemaError) as exc:
            raise MaskError(f"schema id {schema_id} cannot be read: {exc}") from None
        declared = self._declared_paths(topic, part)
        apply: Callable[[Any], Any] | None
        if isinstance(parsed, ProtobufSchema):
            apply = self._message_plan(parsed, declared)
        elif isinstance(parsed, AvroSchema):
            apply = self._avro_plan(parsed, declared)
        elif isinstance(parsed, JsonSchema):
            apply = self._json_plan(parsed, declared)
        else:
            raise MaskError(f"schema id {schema_id}: {kind.value} values cannot be masked")
        plan = self._plans[(schema_id, topic, part)] = _Plan(recoder, apply)
        return plan

    def _action_of(
        self, declared: dict[Path, Action]
    ) -> Callable[[tuple[str, ...], Path], Action | None]:
        """A field's action from its schema tags, else from the catalog's path."""

        def action_of(tags: tuple[str, ...], path: Path) -> Action | None:
            return self._action(tags) or declared.get(path)

        return action_of

    def _avro_plan(
        self, parsed: AvroSchema, declared: dict[Path, Action]
    ) -> Callable[[Any], Any] | None:
        """Avro: masked fields by their `confluent:tags` in any record the schema reaches
        (references too), and by the catalog's paths from the root."""
        tagged = any(self._action(avro_field_tags(f)) is not None for f in avro_fields(parsed.root))
        if not tagged and not declared:
            return None
        root, action_of, salt = parsed.root, self._action_of(declared), self._salt
        return lambda value: mask_avro(value, root, action_of, salt)

    def _json_plan(
        self, parsed: JsonSchema, declared: dict[Path, Action]
    ) -> Callable[[Any], Any] | None:
        """JSON Schema: masked properties by their `confluent:tags` wherever the schema (or a
        schema it references) declares them, and by the catalog's paths from the root."""
        texts = [parsed.raw, *(ref.schema for ref in parsed.references)]
        if not any(JSON_TAGS in text for text in texts) and not declared:
            return None
        return JsonMasker(parsed.document, parsed.resolved, self._action_of(declared), self._salt)

    def _message_plan(
        self, parsed: ProtobufSchema, declared: dict[Path, Action]
    ) -> Callable[[Any], Any] | None:
        """Protobuf: masked fields by their `(confluent.field_meta).tags` in any message the
        schema's messages reach (imports too), and by the catalog's paths from the root."""
        tagged = any(
            self._action(tags_of(field)) is not None
            for message in parsed.messages()
            for field in reachable_fields(message)
        )
        if not tagged and not declared:
            return None
        salt = self._salt

        def action_of(field: FieldDescriptor, path: Path) -> Action | None:
            return self._action(tags_of(field)) or declared.get(path)

        def apply(value: Any) -> Any:
            assert isinstance(value, Message)
            mask_message(value, action_of, salt)
            return value

        return apply

    def _part(self, data: bytes | None, topic: str, part: str) -> bytes | None:
        if data is None:
            return None
        schema_id = framed_id(data)
        if schema_id is None:
            if self._declared_paths(topic, part):
                raise MaskError(f"the {part} is not in the registry's wire format")
            return data
        plan = self._plan(schema_id, topic, part)
        if plan.apply is None:
            return data
        try:
            return self._recode(plan.recoder, plan.apply, data, part)
        except RecursionError:  # decoding, masking or validating a value nested too deeply
            raise MaskError(f"the {part} is nested too deeply to mask") from None

    @staticmethod
    def _recode(recoder: Recoder, apply: Callable[[Any], Any], data: bytes, part: str) -> bytes:
        """Decode, mask and re-encode one part; `MaskError` says which step failed."""
        try:
            decoded = recoder.decode(data)
        except SerdeError as exc:
            raise MaskError(f"the {part} does not decode: {exc}") from None
        try:
            masked = apply(decoded.value)
        except (ValueError, TypeError, MaskError) as exc:  # a value the schema refuses
            raise MaskError(f"the {part} cannot be masked: {exc}") from None
        try:
            return recoder.encode(decoded, masked)
        except SerdeError as exc:
            raise MaskError(f"the masked {part} does not encode: {exc}") from None

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
