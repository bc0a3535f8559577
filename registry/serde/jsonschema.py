"""JSON Schema serializer and deserializer in Confluent's wire format.

The body is compact JSON (no spaces, UTF-8), as confluent-kafka's `JSONSerializer` writes it;
values are validated against the schema on both sides unless validation is turned off.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT7

from registry.client import RegistryClient
from registry.formats.base import SchemaReference
from registry.serde.base import SubjectSchemas, referenced_schemas, writer_schema
from registry.serde.recode import Decoded
from registry.serde.strategies import SubjectNameStrategy, topic_name_strategy
from registry.serde.wire import HEADER_SIZE, SerdeError, unframe

Validator = Any


def _validator(
    client: RegistryClient, schema: str, references: Iterable[SchemaReference]
) -> Validator:
    """A validator for the schema; references resolve only to registered schemas."""
    try:
        document = json.loads(schema)
        resources = []
        for name, text in referenced_schemas(client, references):
            resources.append((name, Resource.from_contents(json.loads(text), DRAFT7)))
        registry: Registry[Any] = Registry().with_resources(resources)
        cls = jsonschema.validators.validator_for(document, default=jsonschema.Draft7Validator)
        cls.check_schema(document)
        return cls(document, registry=registry)
    except (ValueError, jsonschema.SchemaError) as exc:
        raise SerdeError(f"invalid JSON schema: {exc}") from exc


def _check(validator: Validator, value: Any) -> None:
    try:
        validator.validate(value)
    except jsonschema.ValidationError as exc:
        where = "/" + "/".join(str(p) for p in exc.absolute_path)
        raise SerdeError(
            f"value does not match the JSON schema at {where}: {exc.message}"
        ) from None
    except Unresolvable as exc:
        raise SerdeError(f"JSON schema reference cannot be resolved: {exc}") from None


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class JSONSerializer:
    """Serialize JSON-compatible values to framed JSON for a topic."""

    def __init__(
        self,
        client: RegistryClient,
        schema: str | None = None,
        *,
        references: Iterable[SchemaReference] = (),
        auto_register: bool = True,
        use_latest: bool = False,
        normalize: bool = False,
        validate: bool = True,
        subject_name_strategy: SubjectNameStrategy = topic_name_strategy,
    ) -> None:
        self._client = client
        self._references = tuple(references)
        self._validate = validate
        self._validators: dict[str, Validator] = {}
        title = None
        if schema is not None:
            self._validators[schema] = _validator(client, schema, self._references)
            document = json.loads(schema)
            title = document.get("title") if isinstance(document, dict) else None
        self._schemas = SubjectSchemas(
            client,
            schema,
            "JSON",
            self._references,
            record_name=title if isinstance(title, str) else None,
            auto_register=auto_register,
            use_latest=use_latest,
            normalize=normalize,
            subject_name_strategy=subject_name_strategy,
        )

    def __call__(self, value: Any, topic: str, is_key: bool = False) -> bytes | None:
        """The framed JSON bytes of `value` (None stays None)."""
        if value is None:
            return None
        writer = self._schemas.writer(topic, is_key)
        if self._validate:
            validator = self._validators.get(writer.schema)
            if validator is None:
                registered = writer_schema(self._client, writer.schema_id)
                validator = self._validators[writer.schema] = _validator(
                    self._client, registered.schema, registered.references
                )
            _check(validator, value)
        return writer.prefix + _encode(value)


class JSONDeserializer:
    """Read framed JSON records, validating against the writer schema (fetched by id) or the
    schema given here."""

    def __init__(
        self,
        client: RegistryClient,
        schema: str | None = None,
        *,
        validate: bool = True,
    ) -> None:
        self._client = client
        self._validate = validate
        self._fixed = _validator(client, schema, ()) if schema is not None else None
        self._by_id: dict[int, Validator] = {}

    def __call__(self, data: bytes | None, topic: str | None = None) -> Any:
        """The value a framed record holds (None stays None)."""
        if data is None:
            return None
        schema_id, body = unframe(data)
        try:
            value = json.loads(bytes(body))
        except ValueError as exc:
            raise SerdeError(f"record {schema_id} is not valid JSON: {exc}") from exc
        if self._validate:
            _check(self._fixed or self.validator(schema_id), value)
        return value

    def validator(self, schema_id: int) -> Validator:
        """The validator of a writer schema (fetched by id, cached)."""
        validator = self._by_id.get(schema_id)
        if validator is None:
            registered = writer_schema(self._client, schema_id)
            validator = self._by_id[schema_id] = _validator(
                self._client, registered.schema, registered.references
            )
        return validator


class JSONRecoder:
    """Decode framed JSON records and write values back with the same schema id; both the
    record read and the value written must match the writer schema."""

    def __init__(self, client: RegistryClient) -> None:
        self._reader = JSONDeserializer(client)

    def decode(self, data: bytes) -> Decoded:
        """The record's header and value (validated)."""
        schema_id, _ = unframe(data)
        return Decoded(schema_id, bytes(data[:HEADER_SIZE]), self._reader(data))

    def encode(self, decoded: Decoded, value: Any) -> bytes:
        """`value` as compact JSON under `decoded`'s header, validated first."""
        _check(self._reader.validator(decoded.schema_id), value)
        return decoded.prefix + _encode(value)
