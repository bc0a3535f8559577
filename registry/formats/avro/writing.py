"""A type graph back to JSON: Parsing Canonical Form, the normalized form, fastavro's input."""

from __future__ import annotations

import json
from typing import Any

from registry.formats.avro.defaults import normalize_default
from registry.formats.avro.model import PRIMITIVE_TYPES, AvroField, AvroType
from registry.formats.base import Limits, SchemaError


def render(root: AvroType, mode: str, limits: Limits) -> str:
    """The type graph as compact JSON text in `mode` (`parsing` or `normalized`)."""
    return _dump(Emitter(mode, limits.max_depth).emit(root, ""))


def fastavro_parse(root: AvroType, limits: Limits) -> Any:
    """The type graph parsed by fastavro, references inlined."""
    import fastavro

    return fastavro.parse_schema(Emitter("fastavro", limits.max_depth).emit(root, ""))


def _dump(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


_ORDERED_KEYS = ("logicalType", "precision", "scale")


class Emitter:
    """Writes a type graph back as JSON in one of three modes.

    `parsing`: Parsing Canonical Form. `normalized`: the parsing form plus what matters to users.
    `fastavro`: normalized, minus logical types that are invalid (so fastavro accepts them
    as the spec says: as their underlying type).
    """

    def __init__(self, mode: str, max_depth: int) -> None:
        self.mode = mode
        self.max_depth = max_depth
        self.defined: set[int] = set()

    def emit(self, node: AvroType, namespace: str, depth: int = 1) -> Any:
        """The JSON of `node`, which sits `depth` containers deep in the output."""
        mode = self.mode
        kind = node.kind
        if kind in PRIMITIVE_TYPES:
            if mode == "parsing":
                return kind
            extra = self.extra(node)
            return {"type": kind, **extra} if extra else kind
        if depth > self.max_depth:
            # Only reachable through references: each schema's own depth was checked.
            raise SchemaError(
                f"schema nests deeper than the limit of {self.max_depth} levels once the "
                "types from its references are written out"
            )
        if kind == "union":
            return [self.emit(branch, namespace, depth + 1) for branch in node.branches]
        if kind == "array" or kind == "map":
            child = node.items if kind == "array" else node.values
            assert child is not None
            out: dict[str, Any] = {"type": kind}
            out["items" if kind == "array" else "values"] = self.emit(child, namespace, depth + 1)
            if mode != "parsing":
                out.update(self.extra(node))
            return out
        # named types
        if id(node) in self.defined or (mode == "normalized" and node.origin is not None):
            return node.fullname
        self.defined.add(id(node))
        if mode == "parsing":
            out = {"name": node.fullname, "type": kind}
        else:
            out = {"type": "error" if node.is_error and mode == "normalized" else kind}
            out["name"] = node.fullname
            if not node.namespace and namespace:
                out["namespace"] = ""
            if node.aliases:
                out["aliases"] = sorted(set(node.aliases))
        if kind == "record":
            out["fields"] = [self.emit_field(f, node.namespace, depth + 2) for f in node.fields]
        elif kind == "enum":
            out["symbols"] = list(node.symbols)
            if mode != "parsing" and node.enum_default is not None:
                out["default"] = node.enum_default
        else:
            out["size"] = node.size
        if mode != "parsing":
            out.update(self.extra(node))
        return out

    def emit_field(self, avro_field: AvroField, namespace: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"name": avro_field.name}
        out["type"] = self.emit(avro_field.type, namespace, depth + 1)
        if self.mode == "parsing":
            return out
        if avro_field.has_default:
            out["default"] = normalize_default(avro_field.type, avro_field.default)
        if avro_field.aliases:
            out["aliases"] = sorted(set(avro_field.aliases))
        if avro_field.order != "ascending":
            out["order"] = avro_field.order
        for key in sorted(avro_field.props):
            out[key] = avro_field.props[key]
        return out

    def extra(self, node: AvroType) -> dict[str, Any]:
        """Logical type attributes first, then custom properties in key order."""
        props = node.props
        out: dict[str, Any] = {}
        if self.mode == "fastavro":
            if node.logical is not None:
                out["logicalType"] = node.logical
                if node.logical == "decimal":
                    out["precision"] = node.precision
                    out["scale"] = node.scale
            return out
        for key in _ORDERED_KEYS:
            if key in props:
                out[key] = props[key]
        for key in sorted(props):
            if key not in _ORDERED_KEYS:
                out[key] = props[key]
        return out
