"""What the Avro and JSON Schema serdes share: finding the schema id to write with, and
fetching a writer schema (with its references) by id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from registry.client import RegisteredSchema, RegistryClient, RegistryClientError
from registry.formats.base import SchemaReference
from registry.serde.strategies import SubjectNameStrategy, topic_name_strategy
from registry.serde.wire import SerdeError, header

MAX_REFERENCE_DEPTH = 32


@dataclass(frozen=True, slots=True)
class WriterSchema:
    """The schema a serializer writes with under one subject, and its wire-format prefix."""

    prefix: bytes
    schema: str
    schema_id: int


class SubjectSchemas:
    """Resolves (topic, is_key) to the writer schema, once per subject.

    `auto_register` registers the serializer's schema; `use_latest` writes with the subject's
    latest registered schema instead; with neither, the schema must already be registered.
    """

    def __init__(
        self,
        client: RegistryClient,
        schema: str | None,
        schema_type: str,
        references: Iterable[SchemaReference] = (),
        *,
        record_name: str | None = None,
        auto_register: bool = True,
        use_latest: bool = False,
        normalize: bool = False,
        subject_name_strategy: SubjectNameStrategy = topic_name_strategy,
    ) -> None:
        if schema is None and not use_latest:
            raise SerdeError("give a schema, or set use_latest to write with the latest one")
        self.client = client
        self.schema = schema
        self.schema_type = schema_type
        self.references = tuple(references)
        self.record_name = record_name
        self.auto_register = auto_register and not use_latest
        self.use_latest = use_latest
        self.normalize = normalize
        self.strategy = subject_name_strategy
        self._by_subject: dict[str, WriterSchema] = {}

    def subject(self, topic: str, is_key: bool) -> str:
        """The subject for a record of this topic."""
        return self.strategy(topic, is_key, self.record_name)

    def writer(self, topic: str, is_key: bool) -> WriterSchema:
        """The schema to write with (cached per subject)."""
        subject = self.subject(topic, is_key)
        found = self._by_subject.get(subject)
        if found is None:
            found = self._by_subject[subject] = self._resolve(subject)
        return found

    def _resolve(self, subject: str) -> WriterSchema:
        try:
            if self.use_latest:
                latest = self.client.get_latest(subject)
                return WriterSchema(header(latest.schema_id), latest.schema, latest.schema_id)
            assert self.schema is not None
            if self.auto_register:
                schema_id = self.client.register(
                    subject, self.schema, self.schema_type, self.references, self.normalize
                )
            else:
                schema_id = self.client.lookup(
                    subject, self.schema, self.schema_type, self.references, self.normalize
                ).schema_id
        except RegistryClientError as exc:
            raise SerdeError(f"no schema for subject '{subject}': {exc}") from exc
        return WriterSchema(header(schema_id), self.schema, schema_id)


def writer_schema(client: RegistryClient, schema_id: int) -> RegisteredSchema:
    """The schema a record was written with."""
    try:
        return client.get_schema(schema_id)
    except RegistryClientError as exc:
        raise SerdeError(f"cannot fetch writer schema {schema_id}: {exc}") from exc


def referenced_schemas(
    client: RegistryClient, references: Iterable[SchemaReference]
) -> list[tuple[str, str]]:
    """(name, schema text) of every schema referenced, transitively, dependencies first."""
    out: dict[tuple[str, int], tuple[str, str]] = {}

    def visit(refs: Iterable[SchemaReference], depth: int) -> None:
        if depth > MAX_REFERENCE_DEPTH:
            raise SerdeError("schema references are nested too deeply")
        for ref in refs:
            key = (ref.subject, ref.version)
            if key in out:
                continue
            try:
                found = client.get_version(ref.subject, ref.version, deleted=True)
            except RegistryClientError as exc:
                raise SerdeError(f"cannot fetch referenced schema {ref.name}: {exc}") from exc
            visit(found.references, depth + 1)
            out[key] = (ref.name, found.schema)

    visit(references, 0)
    return list(out.values())
