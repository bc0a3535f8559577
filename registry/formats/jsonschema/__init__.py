"""The JSON Schema format: drafts 4, 6, 7, 2019-09 and 2020-12, validated and never fetched."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from jsonschema.protocols import Validator

from registry.formats.base import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ResolvedReference,
    SchemaError,
    SchemaType,
)
from registry.formats.jsonschema.canonical_string import canonical_string as write_canonical_string
from registry.formats.jsonschema.loading import (
    VALIDATORS,
    draft_of,
    ensure_recursion_headroom,
    load_json,
)
from registry.formats.jsonschema.metaschema import check_against_meta_schema
from registry.formats.jsonschema.normalize import normalize_document
from registry.formats.jsonschema.references import (
    Document,
    ResolvedRefs,
    load_references,
    resolve_references,
)
from registry.formats.jsonschema.tags import field_tags


class JsonSchema:
    """A validated JSON Schema with every `$ref` resolved (see `ParsedSchema`)."""

    def __init__(
        self,
        raw: str,
        document: Any,
        draft: str,
        references: tuple[ResolvedReference, ...],
        resolved: ResolvedRefs,
        documents: tuple[Document, ...] = (),
    ) -> None:
        self._raw = raw
        self._documents = documents
        self.document = document
        self.draft = draft
        self._references = references
        self.resolved = resolved

    @property
    def schema_type(self) -> SchemaType:
        """Always JSON."""
        return SchemaType.JSON

    @property
    def raw(self) -> str:
        """The schema text exactly as given."""
        return self._raw

    @property
    def references(self) -> tuple[ResolvedReference, ...]:
        """The references it was parsed with."""
        return self._references

    @property
    def name(self) -> str | None:
        """The root `title`, if any."""
        title = self.document.get("title") if isinstance(self.document, dict) else None
        return title if isinstance(title, str) else None

    def canonical_string(self) -> str:
        """Confluent's canonical string: the text as compact Jackson output, numbers exact."""
        return self._canonical_string

    @cached_property
    def _canonical_string(self) -> str:
        return write_canonical_string(self._raw)

    def parsing_form(self) -> str:
        """Sorted-key, compact JSON (the parsing form of a JSON Schema)."""
        return self._parsing_form

    @cached_property
    def _parsing_form(self) -> str:
        return _dump(self.document)

    def normalized_form(self) -> str:
        """The normalized form (see `normalize_document`) as sorted-key, compact JSON."""
        return self._normalized

    @cached_property
    def _normalized(self) -> str:
        normalized = normalize_document(self.document, self.draft)
        try:
            # A `$ref` may point into a keyword that constrains nothing; keep those then.
            resolve_references(Document("", normalized, self.draft), self._documents)
        except SchemaError:
            normalized = normalize_document(self.document, self.draft, drop_neutral=False)
        return _dump(normalized)

    def field_tags(self) -> list[FieldTag]:
        """Every property carrying `confluent:tags`, in schema order."""
        return field_tags(self.document, self.draft)

    def validator(self) -> Validator:
        """A validator for instances, resolving `$ref`s from the same closed registry."""
        return VALIDATORS[self.draft](self.document, registry=self.resolved.registry)

    def is_valid(self, instance: Any) -> bool:
        """Whether `instance` is valid under this schema."""
        return bool(self.validator().is_valid(instance))

    def __repr__(self) -> str:
        return f"JsonSchema({self.parsing_form()[:80]!r})"


def _dump(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def parse_json_schema(
    schema: str,
    references: Sequence[ResolvedReference] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> JsonSchema:
    """Parse, meta-validate and resolve a JSON Schema; `SchemaError` says what is wrong."""
    if len(schema.encode("utf-8")) > limits.max_schema_bytes:
        raise SchemaError(f"schema is over the limit of {limits.max_schema_bytes} bytes")
    document = load_json(schema, limits)
    if not isinstance(document, dict | bool):
        raise SchemaError("a JSON Schema must be a JSON object or a boolean")
    draft = draft_of(document)
    _check_against_meta_schema(document, draft, limits)
    root = Document("", document, draft)
    documents = tuple(load_references(references, draft, limits))
    resolved = resolve_references(root, documents)
    return JsonSchema(schema, document, draft, tuple(references), resolved, documents)


def _check_against_meta_schema(document: Any, draft: str, limits: Limits) -> None:
    # Keywords kept whole by the shallow check (deprecated ones) may still nest.
    ensure_recursion_headroom(limits.max_depth)
    try:
        check_against_meta_schema(document, draft)
    except RecursionError:
        raise SchemaError("schema nests too deeply to validate") from None


__all__ = ["JsonSchema", "parse_json_schema"]
