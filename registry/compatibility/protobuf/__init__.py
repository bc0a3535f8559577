"""Protobuf compatibility with the rules of Confluent's Protobuf checker.

`incompatibilities(reader, writer)` lists why data written with `writer` breaks `reader`: the
differences from writer to reader that Confluent's `SchemaDiff` counts as incompatible, each
with Confluent's rule name, its path (`#/Message/field-number`) and how to fix it.
"""

from __future__ import annotations

import weakref

from registry.compatibility import Incompatibility
from registry.compatibility.protobuf.diff import differences
from registry.compatibility.protobuf.messages import sentence
from registry.compatibility.protobuf.model import SchemaModel, build_model
from registry.formats.base import ParsedSchema
from registry.formats.protobuf import ProtobufSchema

_MODELS: weakref.WeakKeyDictionary[ProtobufSchema, SchemaModel] = weakref.WeakKeyDictionary()


def model_of(schema: ProtobufSchema) -> SchemaModel:
    """The schema indexed for the rules, built once per parsed schema."""
    found = _MODELS.get(schema)
    if found is None:
        found = _MODELS[schema] = build_model(schema)
    return found


def incompatibilities(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why `reader` cannot read data written with `writer` (empty when it can)."""
    if not isinstance(reader, ProtobufSchema) or not isinstance(writer, ProtobufSchema):
        raise TypeError("Protobuf compatibility needs two parsed Protobuf schemas")
    if reader is writer:
        return []
    found: dict[tuple[str, str], Incompatibility] = {}
    for rule, path, detail in differences(model_of(writer), model_of(reader)):
        found.setdefault((rule, path), Incompatibility(rule, path, sentence(rule, detail)))
    return list(found.values())


__all__ = ["incompatibilities", "model_of"]
