"""Avro schemas: parsing with full validation, parsing and normalized forms, field tags.

`parse_avro` turns schema text into an `AvroSchema` whose `root` is a graph of `AvroType`
nodes: one node per place a type is written in the text, except that a named type used by
name is the very node of its definition (so recursive types are cyclic graphs). Every node
and field carries the JSON pointer of where it is written, which is what errors and
compatibility reports point at.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from registry.formats.avro.canonical_string import canonical_string as write_canonical_string
from registry.formats.avro.model import NAMED_TYPES, PRIMITIVE_TYPES, AvroField, AvroType
from registry.formats.avro.parsing import Names, Parser, load_document
from registry.formats.avro.writing import Emitter, fastavro_parse, render
from registry.formats.base import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ResolvedReference,
    SchemaError,
    SchemaType,
)


@dataclass(eq=False)
class AvroSchema:
    """A validated Avro schema (the `ParsedSchema` of format AVRO)."""

    raw: str
    references: tuple[ResolvedReference, ...]
    root: AvroType
    named: dict[str, AvroType]
    tags: list[FieldTag]
    limits: Limits = DEFAULT_LIMITS
    _canonical_string: str | None = None
    _parsing_form: str | None = None
    _normalized: str | None = None
    _fastavro: Any = None

    @property
    def schema_type(self) -> SchemaType:
        """Always AVRO."""
        return SchemaType.AVRO

    @property
    def name(self) -> str | None:
        """The fullname of the top-level type when it is named."""
        return self.root.fullname if self.root.kind in NAMED_TYPES else None

    def canonical_string(self) -> str:
        """Confluent's canonical string: as Java's `Schema.toString()` writes the schema."""
        if self._canonical_string is None:
            self._canonical_string = write_canonical_string(self.root, self.references)
        return self._canonical_string

    def parsing_form(self) -> str:
        """Avro's Parsing Canonical Form; types from references are written at their first use."""
        if self._parsing_form is None:
            self._parsing_form = render(self.root, "parsing", self.limits)
        return self._parsing_form

    def normalized_form(self) -> str:
        """Compact text keeping defaults, aliases, logical types, order and custom properties.

        Names are fullnames, `doc` is dropped, primitive types without attributes are bare
        strings, keys come in a fixed order; types from references stay references by name.
        """
        if self._normalized is None:
            self._normalized = render(self.root, "normalized", self.limits)
        return self._normalized

    def field_tags(self) -> list[FieldTag]:
        """Fields carrying `confluent:tags`, in schema order, with JSON-pointer paths."""
        return list(self.tags)

    def fastavro_schema(self) -> Any:
        """The schema parsed by fastavro (references inlined), for encoding and decoding.

        Invalid logical types are left out, so fastavro reads them as their underlying type
        as the specification says. Computed on first use and kept. fastavro cannot represent
        a null-namespace type used by name inside a namespace; it raises `UnknownType` then.
        """
        if self._fastavro is None:
            self._fastavro = fastavro_parse(self.root, self.limits)
        return self._fastavro


def parse_avro(
    schema: str,
    references: Sequence[ResolvedReference] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> AvroSchema:
    """Parse and validate an Avro schema; named types from `references` may be used.

    `references` are the resolved transitive references, dependencies first. Raises
    `SchemaError` naming what is wrong and the JSON pointer where. Parsed schemas are
    immutable, so recent results are shared between callers that parse the same text.
    """
    return _parse_cached(schema, tuple(references), limits)


@functools.lru_cache(maxsize=256)
def _parse_cached(
    schema: str, references: tuple[ResolvedReference, ...], limits: Limits
) -> AvroSchema:
    names = Names()
    try:
        for reference in references:
            document = load_document(reference.schema, limits, f"reference {reference.name!r}")
            try:
                Parser(names, reference.name, limits, tags=None).parse_document(document)
            except SchemaError as exc:
                raise SchemaError(
                    f"in referenced schema {reference.name!r} (subject {reference.subject!r} "
                    f"version {reference.version}): {exc.reason}",
                    exc.path,
                    origin=reference.name,
                ) from None
        document = load_document(schema, limits, "schema")
        tags: list[FieldTag] = []
        root = Parser(names, None, limits, tags=tags).parse_document(document)
    except RecursionError:
        raise SchemaError(
            f"schema nests too deeply (the limit is {limits.max_depth} levels)"
        ) from None
    if references:
        # Each text was within the depth limit; the types they share may nest deeper together.
        Emitter("fastavro", limits.max_depth).emit(root, "")
    return AvroSchema(
        raw=schema,
        references=tuple(references),
        root=root,
        named=names.types,
        tags=tags,
        limits=limits,
    )


__all__ = [
    "NAMED_TYPES",
    "PRIMITIVE_TYPES",
    "AvroField",
    "AvroSchema",
    "AvroType",
    "parse_avro",
]
