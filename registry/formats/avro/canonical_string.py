"""Confluent's canonical string of an Avro schema: what Java's `Schema.toString()` writes.

Attributes in Avro's own order, named types in full at their first use and by name (relative
to the enclosing namespace) afterwards, types from references by name, custom properties in
the order written, `doc` kept.
"""

from __future__ import annotations

import json
from typing import Any

from registry.formats.avro.model import NAMED_TYPES, AvroField, AvroType
from registry.formats.base import ResolvedReference
from registry.formats.jackson import avro_number, string_literal, write_json

# Avro's `Schema.Type` names: a named type called like one is always written with its namespace.
_AVRO_TYPE_NAMES = frozenset(
    {"record", "enum", "array", "map", "union", "fixed", "string", "bytes", "int", "long"}
    | {"float", "double", "boolean", "null"}
)


def _split(fullname: str) -> tuple[str | None, str]:
    space, _, name = fullname.rpartition(".")
    return (space or None), name


def _qualified(fullname: str, space: str | None) -> str:
    """`Name.getQualified`: the short name inside its own namespace, else the full name."""
    own, name = _split(fullname)
    if own is not None and own == space and name not in _AVRO_TYPE_NAMES:
        return name
    return fullname


class _AvroWriter:
    """Writes an `AvroType` graph the way Avro's Java `Schema.toJson` does."""

    def __init__(self, known: set[str]) -> None:
        self.known = known
        self.space: str | None = None
        self.out: list[str] = []

    def raw(self, text: str) -> None:
        self.out.append(text)

    def key(self, name: str, first: bool = False) -> None:
        if not first:
            self.out.append(",")
        self.out.append(string_literal(name))
        self.out.append(":")

    def value(self, value: Any) -> None:
        write_json(value, self.out, avro_number)

    def props(self, props: Any) -> None:
        for name, item in props.items():
            self.key(name)
            self.value(item)

    def type(self, node: AvroType) -> None:
        if node.kind in NAMED_TYPES:
            self.named(node)
        elif node.kind == "union":
            self.raw("[")
            for index, branch in enumerate(node.branches):
                if index:
                    self.raw(",")
                self.type(branch)
            self.raw("]")
        elif node.kind in ("array", "map"):
            child = node.items if node.kind == "array" else node.values
            assert child is not None
            self.raw('{"type":' + string_literal(node.kind))
            self.key("items" if node.kind == "array" else "values")
            self.type(child)
            self.props(node.props)
            self.raw("}")
        elif node.props:
            self.raw('{"type":' + string_literal(node.kind))
            self.props(node.props)
            self.raw("}")
        else:
            self.raw(string_literal(node.kind))

    def named(self, node: AvroType) -> None:
        if node.fullname in self.known:
            self.raw(string_literal(_qualified(node.fullname, self.space)))
            return
        self.known.add(node.fullname)
        saved = self.space
        space, name = _split(node.fullname)
        kind = "error" if node.is_error else node.kind
        self.raw('{"type":' + string_literal(kind))
        self.key("name")
        self.raw(string_literal(name))
        if space is not None and space != self.space:
            self.key("namespace")
            self.raw(string_literal(space))
        elif space is None and self.space is not None:
            self.key("namespace")
            self.raw('""')
        if node.kind == "record":
            self.space = space
        if node.doc is not None:
            self.key("doc")
            self.raw(string_literal(node.doc))
        if node.kind == "record":
            self.key("fields")
            self.raw("[")
            for index, avro_field in enumerate(node.fields):
                if index:
                    self.raw(",")
                self.field(avro_field)
            self.raw("]")
        elif node.kind == "enum":
            self.key("symbols")
            self.value(list(node.symbols))
            if node.enum_default is not None:
                self.key("default")
                self.raw(string_literal(node.enum_default))
        else:
            self.key("size")
            self.raw(str(node.size))
        self.props(node.props)
        if node.aliases:
            self.key("aliases")
            self.value([_qualified(alias, space) for alias in dict.fromkeys(node.aliases)])
        self.raw("}")
        self.space = saved

    def field(self, avro_field: AvroField) -> None:
        self.raw('{"name":' + string_literal(avro_field.name))
        self.key("type")
        self.type(avro_field.type)
        if avro_field.doc is not None:
            self.key("doc")
            self.raw(string_literal(avro_field.doc))
        if avro_field.has_default:
            self.key("default")
            self.value(avro_field.default)
        if avro_field.order != "ascending":
            self.key("order")
            self.raw(string_literal(avro_field.order))
        if avro_field.aliases:
            self.key("aliases")
            self.value(list(dict.fromkeys(avro_field.aliases)))
        self.props(avro_field.props)
        self.raw("}")


def _reference_roots(references: tuple[ResolvedReference, ...]) -> set[str]:
    """Full names of the named types the references define at their top level."""
    roots: set[str] = set()
    for reference in references:
        try:
            document = json.loads(reference.schema)
        except ValueError:
            continue
        if not isinstance(document, dict) or document.get("type") not in NAMED_TYPES:
            continue
        name, space = document.get("name"), document.get("namespace")
        if not isinstance(name, str):
            continue
        roots.add(
            name if "." in name or not isinstance(space, str) or not space else f"{space}.{name}"
        )
    return roots


def canonical_string(root: AvroType, references: tuple[ResolvedReference, ...]) -> str:
    """The schema `root` as `Schema.toString(referencedSchemas, false)` writes it."""
    writer = _AvroWriter(_reference_roots(references))
    writer.type(root)
    return "".join(writer.out)
