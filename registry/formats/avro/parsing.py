"""Schema text to a validated `AvroType` graph: names, namespaces, logical types, fields."""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from registry.formats.avro.defaults import default_problem, is_int
from registry.formats.avro.model import (
    EMPTY,
    FIELD_ORDERS,
    NAMED_TYPES,
    PRIMITIVE_TYPES,
    AvroField,
    AvroType,
    pointer,
)
from registry.formats.avro.tags import TAGS_PROPERTY, read_tags
from registry.formats.base import FieldTag, Limits, SchemaError

# Attributes with a meaning in the spec; everything else on a schema is a custom property.
_SCHEMA_ATTRIBUTES = frozenset(
    {"type", "name", "namespace", "doc", "aliases", "fields", "symbols", "default", "items"}
    | {"values", "size"}
)
_FIELD_ATTRIBUTES = frozenset({"name", "type", "doc", "default", "aliases", "order"})
_LOGICAL_ATTRIBUTES = ("logicalType", "precision", "scale")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# logicalType -> the underlying types it may annotate (decimal and duration checked apart).
_LOGICAL_ON = {
    "date": ("int",),
    "time-millis": ("int",),
    "time-micros": ("long",),
    "timestamp-millis": ("long",),
    "timestamp-micros": ("long",),
    "timestamp-nanos": ("long",),
    "local-timestamp-millis": ("long",),
    "local-timestamp-micros": ("long",),
    "local-timestamp-nanos": ("long",),
    "uuid": ("string", "fixed"),
    "big-decimal": ("bytes",),
}


@dataclass(slots=True)
class Names:
    """Named types visible while parsing: fullname -> node."""

    types: dict[str, AvroType] = field(default_factory=dict)

    def lookup(self, name: str, namespace: str) -> AvroType | None:
        # A dotted name is a fullname; a bare one is tried in the enclosing namespace first,
        # then in the null namespace (as the Java parser does).
        if "." in name:
            return self.types.get(name)
        if namespace:
            found = self.types.get(f"{namespace}.{name}")
            if found is not None:
                return found
        return self.types.get(name)


def load_document(text: str, limits: Limits, what: str) -> Any:
    """Decode `text` (named `what` in errors), refusing nesting deeper than the limit."""
    try:
        document = json.loads(text)
    except RecursionError:
        raise SchemaError(
            f"{what} nests too deeply (the limit is {limits.max_depth} levels)"
        ) from None
    except ValueError as exc:
        raise SchemaError(f"{what} is not valid JSON: {exc}") from None
    if _too_deep(text, limits.max_depth):
        raise SchemaError(f"{what} nests deeper than the limit of {limits.max_depth} levels")
    return document


_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKETS = re.compile(r"[\[\]{}]")
_BRACKET_STEP = {"{": 1, "[": 1, "}": -1, "]": -1}


def _too_deep(text: str, limit: int) -> bool:
    """Whether the containers in JSON `text` nest more than `limit` deep.

    A bound first: the depth is at most the number of opening brackets, so most schemas are
    done with two counts. Otherwise the brackets outside strings are summed up in C (regex,
    `accumulate`, `max`). `text` is valid JSON (decoded already).
    """
    if text.count("{") + text.count("[") <= limit:
        return False
    brackets = _BRACKETS.findall(_JSON_STRING.sub("", text))
    return max(itertools.accumulate(map(_BRACKET_STEP.__getitem__, brackets)), default=0) > limit


def _check_name(name: Any, path: str, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise SchemaError(f"{what} must be a non-empty string, got {json.dumps(name)}", path)
    for part in name.split("."):
        if not _NAME.match(part):
            raise SchemaError(
                f"{what} {name!r} is not a valid Avro name: each part must start with a letter "
                "or underscore and contain only letters, digits and underscores",
                path,
            )
    return name


class Parser:
    """Builds `AvroType` graphs from decoded JSON, validating as it goes."""

    def __init__(
        self, names: Names, origin: str | None, limits: Limits, tags: list[FieldTag] | None
    ) -> None:
        self.names = names
        self.origin = origin
        self.limits = limits
        self.tags = tags
        self.pending_defaults: list[AvroField] = []
        self.pending_enum_defaults: list[AvroType] = []

    def parse_document(self, document: Any) -> AvroType:
        """The type graph of a decoded document, its field defaults checked."""
        root = self.parse(document, "", "", 0)
        for avro_field in self.pending_defaults:
            problem = default_problem(avro_field.type, avro_field.default, self.limits.max_depth)
            if problem is not None:
                raise SchemaError(
                    f"default of field {avro_field.name!r} {problem}",
                    pointer(avro_field.path, "default"),
                )
        return root

    def parse(self, value: Any, path: str, namespace: str, depth: int) -> AvroType:
        """The node for the schema `value` written at `path`, `depth` containers deep."""
        if depth > self.limits.max_depth:
            raise SchemaError(f"schema nests deeper than the limit of {self.limits.max_depth}")
        if isinstance(value, str):
            return self.type_by_name(value, path, namespace)
        if isinstance(value, list):
            return self.parse_union(value, path, namespace, depth)
        if not isinstance(value, dict):
            raise SchemaError(
                f"a schema must be a type name, an object or an array (a union), "
                f"got {json.dumps(value)}",
                path,
            )
        kind = value.get("type")
        if "type" not in value:
            raise SchemaError("schema object has no `type`", path)
        if isinstance(kind, dict | list):
            # {"type": {...}} and {"type": [...]} are another spelling of the inner schema.
            return self.parse(kind, pointer(path, "type"), namespace, depth + 1)
        if not isinstance(kind, str):
            raise SchemaError(f"`type` must be a string, got {json.dumps(kind)}", path)
        if kind in PRIMITIVE_TYPES:
            return self.primitive(kind, value, path)
        if kind in NAMED_TYPES:
            return self.parse_named(kind, value, path, namespace, depth)
        if kind == "array" or kind == "map":
            attribute = "items" if kind == "array" else "values"
            if attribute not in value:
                raise SchemaError(f"{kind} schema has no `{attribute}`", path)
            child = self.parse(value[attribute], pointer(path, attribute), namespace, depth + 1)
            node = AvroType(kind, path, self.origin, props=_custom(value, _SCHEMA_ATTRIBUTES))
            node.key = (kind, child.key) if child.key is not None else None
            if kind == "array":
                node.items = child
            else:
                node.values = child
            return node
        if kind == "union":
            raise SchemaError("a union is written as a JSON array of its branches", path)
        # {"type": "com.acme.Name"} refers to a named type.
        return self.type_by_name(kind, pointer(path, "type"), namespace)

    def type_by_name(self, name: str, path: str, namespace: str) -> AvroType:
        if name in PRIMITIVE_TYPES:
            return AvroType(name, path, self.origin, key=name)
        if name in ("record", "error", "enum", "fixed", "array", "map"):
            raise SchemaError(
                f"type {name!r} must be written as an object with its attributes", path
            )
        found = self.names.lookup(name, namespace)
        if found is None:
            _check_name(name, path, "type name")
            known = f" in namespace {namespace!r}" if namespace and "." not in name else ""
            raise SchemaError(
                f"unknown type {name!r}{known}: a named type must be defined before it is "
                "used, in this schema or in a referenced one",
                path,
            )
        return found

    def primitive(self, kind: str, value: dict[str, Any], path: str) -> AvroType:
        props = _custom(value, _SCHEMA_ATTRIBUTES)
        node = AvroType(kind, path, self.origin, props=props, key=kind)
        _apply_logical(node, value)
        if node.logical == "decimal":
            node.key = (kind, node.precision, node.scale)
        return node

    def parse_union(self, value: list[Any], path: str, namespace: str, depth: int) -> AvroType:
        branches: list[AvroType] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(value):
            branch_path = f"{path}/{index}"
            branch = self.parse(item, branch_path, namespace, depth + 1)
            if branch.kind == "union":
                raise SchemaError("a union may not directly contain another union", branch_path)
            identity = branch.fullname if branch.kind in NAMED_TYPES else branch.kind
            if identity in seen:
                raise SchemaError(
                    f"union has two branches of type {identity!r} (branches {seen[identity]} "
                    f"and {index}): a union may hold each type only once",
                    branch_path,
                )
            seen[identity] = index
            branches.append(branch)
        keys = [branch.key for branch in branches]
        key = ("union", frozenset(keys)) if None not in keys else None
        return AvroType("union", path, self.origin, branches=tuple(branches), key=key)

    def parse_named(
        self, kind: str, value: dict[str, Any], path: str, namespace: str, depth: int
    ) -> AvroType:
        if "name" not in value:
            raise SchemaError(f"{kind} schema has no `name`", path)
        name = _check_name(value["name"], pointer(path, "name"), f"{kind} name")
        own_namespace = value.get("namespace")
        if own_namespace is not None:
            if not isinstance(own_namespace, str):
                raise SchemaError("`namespace` must be a string", pointer(path, "namespace"))
            if own_namespace:
                _check_name(own_namespace, pointer(path, "namespace"), "namespace")
        if "." in name:
            fullname = name
            space = name.rpartition(".")[0]
        else:
            space = namespace if own_namespace is None else own_namespace
            fullname = f"{space}.{name}" if space else name
        if fullname in PRIMITIVE_TYPES:
            raise SchemaError(
                f"a named type may not be called {fullname!r}: that is a primitive type",
                pointer(path, "name"),
            )
        if fullname in self.names.types:
            existing = self.names.types[fullname]
            where = (
                f"in referenced schema {existing.origin!r}"
                if existing.origin is not None and existing.origin != self.origin
                else f"at {existing.path or '/'}"
            )
            raise SchemaError(
                f"type {fullname!r} is already defined {where}", pointer(path, "name")
            )
        node = AvroType(
            "record" if kind == "error" else kind,
            path,
            self.origin,
            fullname=fullname,
            namespace=space,
            aliases=self.parse_aliases(value, path, space, qualify=True),
            doc=_doc(value, path),
            props=_custom(value, _SCHEMA_ATTRIBUTES),
        )
        node.is_error = kind == "error"
        # Registered before the body so that the body may refer to the type itself.
        self.names.types[fullname] = node
        if kind in ("record", "error"):
            self.parse_fields(node, value, path, space, depth)
            if not node.complex_fields:
                node.key = ("record", node.short_name, node.simple_fields)
        elif kind == "enum":
            self.parse_enum(node, value, path)
            node.key = ("enum", node.short_name, node.symbol_set)
        else:
            size = value.get("size")
            if not is_int(size) or size < 0:
                raise SchemaError(
                    f"fixed `size` must be a non-negative integer, got {json.dumps(size)}",
                    pointer(path, "size"),
                )
            node.size = size
            _apply_logical(node, value)
            node.key = ("fixed", node.short_name, size, node.logical, node.precision, node.scale)
        return node

    def parse_aliases(
        self, value: dict[str, Any], path: str, space: str, qualify: bool
    ) -> tuple[str, ...]:
        aliases = value.get("aliases")
        if aliases is None:
            return ()
        where = pointer(path, "aliases")
        if not isinstance(aliases, list):
            raise SchemaError("`aliases` must be an array of names", where)
        result: list[str] = []
        for index, alias in enumerate(aliases):
            alias = _check_name(alias, pointer(where, index), "alias")
            if not qualify and "." in alias:
                raise SchemaError(
                    f"field alias {alias!r} may not contain dots", pointer(where, index)
                )
            if qualify and "." not in alias and space:
                alias = f"{space}.{alias}"
            result.append(alias)
        return tuple(result)

    def parse_fields(
        self, node: AvroType, value: dict[str, Any], path: str, space: str, depth: int
    ) -> None:
        fields = value.get("fields")
        fields_path = pointer(path, "fields")
        if not isinstance(fields, list):
            raise SchemaError("record `fields` must be an array", fields_path)
        simple: list[tuple[str, object]] = []
        field_list: list[AvroField] = []
        by_name: dict[str, AvroField] = {}
        complex_fields: list[AvroField] = []
        for index, raw in enumerate(fields):
            field_path = f"{fields_path}/{index}"
            if not isinstance(raw, dict):
                raise SchemaError("a record field must be an object", field_path)
            if "name" not in raw:
                raise SchemaError("record field has no `name`", field_path)
            name = raw["name"]
            if not isinstance(name, str) or not _NAME.match(name):
                raise SchemaError(
                    f"field name {json.dumps(name)} is not a valid Avro name",
                    pointer(field_path, "name"),
                )
            if name in by_name:
                raise SchemaError(
                    f"field {name!r} appears twice in record {node.fullname!r}",
                    pointer(field_path, "name"),
                )
            if "type" not in raw:
                raise SchemaError(f"field {name!r} has no `type`", field_path)
            order = raw.get("order", "ascending")
            if order != "ascending" and (not isinstance(order, str) or order not in FIELD_ORDERS):
                raise SchemaError(
                    f"field {name!r} has order {json.dumps(order)}: expected ascending, "
                    "descending or ignore",
                    pointer(field_path, "order"),
                )
            type_path = f"{field_path}/type"
            field_type = self.parse(raw["type"], type_path, space, depth + 3)
            _label(field_type, f"field `{name}`", type_path)
            avro_field = AvroField(
                name=name,
                index=index,
                type=field_type,
                path=field_path,
                has_default="default" in raw,
                default=raw.get("default"),
                aliases=(
                    self.parse_aliases(raw, field_path, space, qualify=False)
                    if "aliases" in raw
                    else ()
                ),
                order=order,
                doc=_doc(raw, field_path) if "doc" in raw else None,
                props=_custom(raw, _FIELD_ATTRIBUTES),
            )
            if avro_field.has_default:
                self.pending_defaults.append(avro_field)
            if TAGS_PROPERTY in raw and self.tags is not None:
                self.tags.append(
                    FieldTag(field_path, name, read_tags(raw[TAGS_PROPERTY], field_path))
                )
            field_list.append(avro_field)
            by_name[name] = avro_field
            if field_type.key is not None:
                simple.append((name, field_type.key))
            else:
                complex_fields.append(avro_field)
        node.fields = tuple(field_list)
        node.field_by_name = by_name
        node.simple_fields = frozenset(simple)
        node.complex_fields = tuple(complex_fields)

    def parse_enum(self, node: AvroType, value: dict[str, Any], path: str) -> None:
        symbols = value.get("symbols")
        where = pointer(path, "symbols")
        if not isinstance(symbols, list):
            raise SchemaError("enum `symbols` must be an array of names", where)
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.match(symbol):
                raise SchemaError(
                    f"enum symbol {json.dumps(symbol)} is not a valid Avro name",
                    pointer(where, index),
                )
            if symbol in seen:
                raise SchemaError(f"enum symbol {symbol!r} appears twice", pointer(where, index))
            seen.add(symbol)
        node.symbols = tuple(symbols)
        node.symbol_set = frozenset(symbols)
        if "default" in value:
            default = value["default"]
            if not isinstance(default, str) or default not in node.symbol_set:
                raise SchemaError(
                    f"enum default {json.dumps(default)} is not one of the symbols of "
                    f"{node.fullname!r}",
                    pointer(path, "default"),
                )
            node.enum_default = default


def _label(node: AvroType, label: str, path: str) -> None:
    """Name a field's type, and the unnamed types inside it, for messages."""
    if node.path != path or node.label:
        return  # a named type written elsewhere keeps the label of where it is written
    node.label = label
    if node.items is not None:
        _label(node.items, f"the items of {label}", f"{path}/items")
    elif node.values is not None:
        _label(node.values, f"the values of {label}", f"{path}/values")
    for index, branch in enumerate(node.branches):
        _label(branch, f"branch {index} of {label}", f"{path}/{index}")


def _custom(value: dict[str, Any], reserved: frozenset[str]) -> Mapping[str, Any]:
    if reserved.issuperset(value):
        return EMPTY
    return {key: item for key, item in value.items() if key not in reserved}


def _doc(value: dict[str, Any], path: str) -> str | None:
    doc = value.get("doc")
    if doc is not None and not isinstance(doc, str):
        raise SchemaError("`doc` must be a string", pointer(path, "doc"))
    return doc


def _apply_logical(node: AvroType, value: dict[str, Any]) -> None:
    """Set `node.logical` when the logical type is valid; an invalid one is ignored (spec)."""
    logical = value.get("logicalType")
    if not isinstance(logical, str):
        return
    if logical == "decimal":
        if node.kind not in ("bytes", "fixed"):
            return
        precision = value.get("precision")
        scale = value.get("scale", 0)
        if not is_int(precision) or not is_int(scale) or precision <= 0:
            return
        if scale < 0 or scale > precision:
            return
        if node.kind == "fixed" and precision > _max_decimal_digits(node.size):
            return
        node.logical, node.precision, node.scale = "decimal", precision, scale
    elif logical == "duration":
        if node.kind == "fixed" and node.size == 12:
            node.logical = logical
    elif logical in _LOGICAL_ON and node.kind in _LOGICAL_ON[logical]:
        if node.kind == "fixed" and node.size != 16:
            return
        node.logical = logical


def _max_decimal_digits(size: int) -> int:
    """Decimal digits a two's-complement number of `size` bytes always holds."""
    if size <= 0:
        return 0
    return math.floor(math.log10(2 ** (8 * size - 1) - 1)) if size < 1000 else 10**9
