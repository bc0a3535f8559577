"""Avro schemas: parsing with full validation, canonical and normalized forms, field tags.

`parse_avro` turns schema text into an `AvroSchema` whose `root` is a graph of `AvroType`
nodes: one node per place a type is written in the text, except that a named type used by
name is the very node of its definition (so recursive types are cyclic graphs). Every node
and field carries the JSON pointer of where it is written, which is what errors and
compatibility reports point at.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from registry.formats.base import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ResolvedReference,
    SchemaError,
    SchemaType,
)

PRIMITIVE_TYPES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
NAMED_TYPES = frozenset({"record", "error", "enum", "fixed"})
FIELD_ORDERS = frozenset({"ascending", "descending", "ignore"})

# Attributes with a meaning in the spec; everything else on a schema is a custom property.
_SCHEMA_ATTRIBUTES = frozenset(
    {"type", "name", "namespace", "doc", "aliases", "fields", "symbols", "default", "items"}
    | {"values", "size"}
)
_FIELD_ATTRIBUTES = frozenset({"name", "type", "doc", "default", "aliases", "order"})
_LOGICAL_ATTRIBUTES = ("logicalType", "precision", "scale")

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)

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

TAGS_PROPERTY = "confluent:tags"


class _EmptyMapping(Mapping[str, Any]):
    """A shared, immutable, hashable empty mapping (most nodes have no extra attributes)."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0


EMPTY: Mapping[str, Any] = _EmptyMapping()


@dataclass(eq=False, slots=True)
class AvroField:
    """A record field as written at `path` (a JSON pointer such as `/fields/3`)."""

    name: str
    index: int
    type: AvroType
    path: str
    has_default: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()
    order: str = "ascending"
    doc: str | None = None
    props: Mapping[str, Any] = EMPTY


@dataclass(eq=False, slots=True)
class AvroType:
    """One Avro type as written at `path`; identity is the node, not its content.

    `key` is a hashable summary of the type's structure as far as reading is concerned
    (kinds, unqualified names, field names, symbols, sizes, decimal precision and scale):
    two nodes with equal keys read each other, which lets the compatibility check skip
    identical subtrees. It is None where no summary is made (recursive types, and types
    containing them). `origin` is None for types written in this schema, else the name of the
    reference that defined it.
    """

    kind: str
    path: str
    origin: str | None = None
    logical: str | None = None
    precision: int = 0
    scale: int = 0
    props: Mapping[str, Any] = EMPTY
    key: object = None
    label: str = ""
    # named types
    fullname: str = ""
    namespace: str = ""
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    # record
    is_error: bool = False
    fields: tuple[AvroField, ...] = ()
    field_by_name: Mapping[str, AvroField] = EMPTY
    simple_fields: frozenset[tuple[str, object]] = frozenset()
    complex_fields: tuple[AvroField, ...] = ()
    # enum
    symbols: tuple[str, ...] = ()
    symbol_set: frozenset[str] = frozenset()
    enum_default: str | None = None
    # fixed
    size: int = 0
    # array / map / union
    items: AvroType | None = None
    values: AvroType | None = None
    branches: tuple[AvroType, ...] = ()

    @property
    def short_name(self) -> str:
        """The unqualified name of a named type."""
        return self.fullname.rpartition(".")[2]

    def describe(self) -> str:
        """A short spelling of the type for messages: `int`, `record com.acme.User`, ..."""
        if self.kind in NAMED_TYPES:
            return f"{self.kind} {self.fullname}"
        if self.kind == "array" and self.items is not None:
            return f"array<{self.items.describe_brief()}>"
        if self.kind == "map" and self.values is not None:
            return f"map<{self.values.describe_brief()}>"
        if self.kind == "union":
            return "[" + ", ".join(b.describe_brief() for b in self.branches) + "]"
        if self.logical == "decimal":
            return f"{self.kind} decimal({self.precision},{self.scale})"
        return self.kind

    def describe_brief(self) -> str:
        """The fullname of a named type, else the kind: `com.acme.User`, `int`, `array`."""
        return self.fullname if self.kind in NAMED_TYPES else self.kind


@dataclass(slots=True)
class _Names:
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


@dataclass(eq=False)
class AvroSchema:
    """A validated Avro schema (the `ParsedSchema` of format AVRO)."""

    raw: str
    references: tuple[ResolvedReference, ...]
    root: AvroType
    named: dict[str, AvroType]
    tags: list[FieldTag]
    limits: Limits = DEFAULT_LIMITS
    _canonical: str | None = None
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

    def canonical(self) -> str:
        """Avro Parsing Canonical Form; types from references are written at their first use."""
        if self._canonical is None:
            self._canonical = _render(self.root, "canonical", self.limits)
        return self._canonical

    def normalized(self) -> str:
        """Compact text keeping defaults, aliases, logical types, order and custom properties.

        Names are fullnames, `doc` is dropped, primitive types without attributes are bare
        strings, keys come in a fixed order; types from references stay references by name.
        """
        if self._normalized is None:
            self._normalized = _render(self.root, "normalized", self.limits)
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
            self._fastavro = _fastavro_parse(self.root, self.limits)
        return self._fastavro


def _render(root: AvroType, mode: str, limits: Limits) -> str:
    return _dump(_Emitter(mode, limits.max_depth).emit(root, ""))


def _fastavro_parse(root: AvroType, limits: Limits) -> Any:
    import fastavro

    return fastavro.parse_schema(_Emitter("fastavro", limits.max_depth).emit(root, ""))


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
    names = _Names()
    try:
        for reference in references:
            document = _load(reference.schema, limits, f"reference {reference.name!r}")
            try:
                _Parser(names, reference.name, limits, tags=None).parse_document(document)
            except SchemaError as exc:
                raise SchemaError(
                    f"in referenced schema {reference.name!r} (subject {reference.subject!r} "
                    f"version {reference.version}): {exc.reason}",
                    exc.path,
                ) from None
        document = _load(schema, limits, "schema")
        tags: list[FieldTag] = []
        root = _Parser(names, None, limits, tags=tags).parse_document(document)
    except RecursionError:
        raise SchemaError(
            f"schema nests too deeply (the limit is {limits.max_depth} levels)"
        ) from None
    if references:
        # Each text was within the depth limit; the types they share may nest deeper together.
        _Emitter("fastavro", limits.max_depth).emit(root, "")
    return AvroSchema(
        raw=schema,
        references=tuple(references),
        root=root,
        named=names.types,
        tags=tags,
        limits=limits,
    )


def _load(text: str, limits: Limits, what: str) -> Any:
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


def _pointer(path: str, token: str | int) -> str:
    """`path` extended by one JSON-pointer token (escaped when it needs to be)."""
    text = str(token)
    if "~" in text or "/" in text:
        text = text.replace("~", "~0").replace("/", "~1")
    return f"{path}/{text}"


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


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


class _Parser:
    """Builds `AvroType` graphs from decoded JSON, validating as it goes."""

    def __init__(
        self, names: _Names, origin: str | None, limits: Limits, tags: list[FieldTag] | None
    ) -> None:
        self.names = names
        self.origin = origin
        self.limits = limits
        self.tags = tags
        self.pending_defaults: list[AvroField] = []
        self.pending_enum_defaults: list[AvroType] = []

    def parse_document(self, document: Any) -> AvroType:
        root = self.parse(document, "", "", 0)
        for avro_field in self.pending_defaults:
            problem = _default_problem(avro_field.type, avro_field.default, self.limits.max_depth)
            if problem is not None:
                raise SchemaError(
                    f"default of field {avro_field.name!r} {problem}",
                    _pointer(avro_field.path, "default"),
                )
        return root

    def parse(self, value: Any, path: str, namespace: str, depth: int) -> AvroType:
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
            return self.parse(kind, _pointer(path, "type"), namespace, depth + 1)
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
            child = self.parse(value[attribute], _pointer(path, attribute), namespace, depth + 1)
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
        return self.type_by_name(kind, _pointer(path, "type"), namespace)

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
        name = _check_name(value["name"], _pointer(path, "name"), f"{kind} name")
        own_namespace = value.get("namespace")
        if own_namespace is not None:
            if not isinstance(own_namespace, str):
                raise SchemaError("`namespace` must be a string", _pointer(path, "namespace"))
            if own_namespace:
                _check_name(own_namespace, _pointer(path, "namespace"), "namespace")
        if "." in name:
            fullname = name
            space = name.rpartition(".")[0]
        else:
            space = namespace if own_namespace is None else own_namespace
            fullname = f"{space}.{name}" if space else name
        if fullname in PRIMITIVE_TYPES:
            raise SchemaError(
                f"a named type may not be called {fullname!r}: that is a primitive type",
                _pointer(path, "name"),
            )
        if fullname in self.names.types:
            existing = self.names.types[fullname]
            where = (
                f"in referenced schema {existing.origin!r}"
                if existing.origin is not None and existing.origin != self.origin
                else f"at {existing.path or '/'}"
            )
            raise SchemaError(
                f"type {fullname!r} is already defined {where}", _pointer(path, "name")
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
            if not _is_int(size) or size < 0:
                raise SchemaError(
                    f"fixed `size` must be a non-negative integer, got {json.dumps(size)}",
                    _pointer(path, "size"),
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
        where = _pointer(path, "aliases")
        if not isinstance(aliases, list):
            raise SchemaError("`aliases` must be an array of names", where)
        result: list[str] = []
        for index, alias in enumerate(aliases):
            alias = _check_name(alias, _pointer(where, index), "alias")
            if not qualify and "." in alias:
                raise SchemaError(
                    f"field alias {alias!r} may not contain dots", _pointer(where, index)
                )
            if qualify and "." not in alias and space:
                alias = f"{space}.{alias}"
            result.append(alias)
        return tuple(result)

    def parse_fields(
        self, node: AvroType, value: dict[str, Any], path: str, space: str, depth: int
    ) -> None:
        fields = value.get("fields")
        fields_path = _pointer(path, "fields")
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
                    _pointer(field_path, "name"),
                )
            if name in by_name:
                raise SchemaError(
                    f"field {name!r} appears twice in record {node.fullname!r}",
                    _pointer(field_path, "name"),
                )
            if "type" not in raw:
                raise SchemaError(f"field {name!r} has no `type`", field_path)
            order = raw.get("order", "ascending")
            if order != "ascending" and (not isinstance(order, str) or order not in FIELD_ORDERS):
                raise SchemaError(
                    f"field {name!r} has order {json.dumps(order)}: expected ascending, "
                    "descending or ignore",
                    _pointer(field_path, "order"),
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
                self.tags.append(FieldTag(field_path, name, _tags(raw[TAGS_PROPERTY], field_path)))
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
        where = _pointer(path, "symbols")
        if not isinstance(symbols, list):
            raise SchemaError("enum `symbols` must be an array of names", where)
        seen: set[str] = set()
        for index, symbol in enumerate(symbols):
            if not isinstance(symbol, str) or not _NAME.match(symbol):
                raise SchemaError(
                    f"enum symbol {json.dumps(symbol)} is not a valid Avro name",
                    _pointer(where, index),
                )
            if symbol in seen:
                raise SchemaError(f"enum symbol {symbol!r} appears twice", _pointer(where, index))
            seen.add(symbol)
        node.symbols = tuple(symbols)
        node.symbol_set = frozenset(symbols)
        if "default" in value:
            default = value["default"]
            if not isinstance(default, str) or default not in node.symbol_set:
                raise SchemaError(
                    f"enum default {json.dumps(default)} is not one of the symbols of "
                    f"{node.fullname!r}",
                    _pointer(path, "default"),
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
        raise SchemaError("`doc` must be a string", _pointer(path, "doc"))
    return doc


def _tags(value: Any, path: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return tuple(value)
    raise SchemaError(
        f"`{TAGS_PROPERTY}` must be an array of strings", _pointer(path, TAGS_PROPERTY)
    )


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
        if not _is_int(precision) or not _is_int(scale) or precision <= 0:
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


def _default_problem(node: AvroType, value: Any, budget: int) -> str | None:
    """Why `value` is not a valid default for `node` (None when it is)."""
    if budget <= 0:
        return "nests too deeply"
    kind = node.kind
    if kind == "union":
        if not node.branches:
            return "cannot be given for an empty union"
        first = node.branches[0]
        problem = _default_problem(first, value, budget - 1)
        if problem is not None:
            return (
                f"{problem}: a union's default must match its first branch "
                f"({first.describe_brief()})"
            )
        return None
    if kind == "null":
        return None if value is None else f"must be null, got {_short(value)}"
    if kind == "boolean":
        return None if isinstance(value, bool) else f"must be true or false, got {_short(value)}"
    if kind in ("int", "long"):
        low, high = _INT_RANGE if kind == "int" else _LONG_RANGE
        if _is_int(value) and low <= value <= high:
            return None
        return f"must be an integer within the {kind} range, got {_short(value)}"
    if kind in ("float", "double"):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return None
        return f"must be a number, got {_short(value)}"
    if kind == "string":
        return None if isinstance(value, str) else f"must be a string, got {_short(value)}"
    if kind in ("bytes", "fixed"):
        if not isinstance(value, str) or any(ord(char) > 0xFF for char in value):
            return f"must be a string of code points 0-255 (one per byte), got {_short(value)}"
        if kind == "fixed" and len(value) != node.size:
            return f"must be {node.size} bytes long for fixed {node.fullname!r}, got {len(value)}"
        return None
    if kind == "enum":
        if isinstance(value, str) and value in node.symbol_set:
            return None
        return f"must be one of the symbols of enum {node.fullname!r}, got {_short(value)}"
    if kind == "array":
        if not isinstance(value, list):
            return f"must be an array, got {_short(value)}"
        assert node.items is not None
        for index, item in enumerate(value):
            problem = _default_problem(node.items, item, budget - 1)
            if problem is not None:
                return f"item {index} {problem}"
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return f"must be an object, got {_short(value)}"
        assert node.values is not None
        for key, item in value.items():
            problem = _default_problem(node.values, item, budget - 1)
            if problem is not None:
                return f"entry {key!r} {problem}"
        return None
    if kind == "record":
        if not isinstance(value, dict):
            return f"must be an object for record {node.fullname!r}, got {_short(value)}"
        for avro_field in node.fields:
            if avro_field.name in value:
                problem = _default_problem(avro_field.type, value[avro_field.name], budget - 1)
                if problem is not None:
                    return f"field {avro_field.name!r} {problem}"
            elif not avro_field.has_default:
                return f"lacks field {avro_field.name!r}, which has no default of its own"
        return None
    return f"cannot be checked for type {kind}"  # pragma: no cover - every kind is handled


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _dump(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _normalize_default(node: AvroType, value: Any) -> Any:
    """A default in one spelling per value: 1 and 1.0 for a double are both 1.0."""
    kind = node.kind
    if kind == "union":
        return _normalize_default(node.branches[0], value) if node.branches else value
    if kind in ("float", "double") and isinstance(value, int | float):
        return float(value)
    if kind == "array" and isinstance(value, list) and node.items is not None:
        items = node.items
        return [_normalize_default(items, item) for item in value]
    if kind == "map" and isinstance(value, dict) and node.values is not None:
        values = node.values
        return {key: _normalize_default(values, value[key]) for key in sorted(value)}
    if kind == "record" and isinstance(value, dict):
        return {
            f.name: _normalize_default(f.type, value[f.name])
            for f in node.fields
            if f.name in value
        }
    return value


_ORDERED_KEYS = ("logicalType", "precision", "scale")


class _Emitter:
    """Writes a type graph back as JSON in one of three modes.

    `canonical`: Parsing Canonical Form. `normalized`: canonical plus what matters to users.
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
            if mode == "canonical":
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
            if mode != "canonical":
                out.update(self.extra(node))
            return out
        # named types
        if id(node) in self.defined or (mode == "normalized" and node.origin is not None):
            return node.fullname
        self.defined.add(id(node))
        if mode == "canonical":
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
            if mode != "canonical" and node.enum_default is not None:
                out["default"] = node.enum_default
        else:
            out["size"] = node.size
        if mode != "canonical":
            out.update(self.extra(node))
        return out

    def emit_field(self, avro_field: AvroField, namespace: str, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {"name": avro_field.name}
        out["type"] = self.emit(avro_field.type, namespace, depth + 1)
        if self.mode == "canonical":
            return out
        if avro_field.has_default:
            out["default"] = _normalize_default(avro_field.type, avro_field.default)
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


__all__ = [
    "AvroField",
    "AvroSchema",
    "AvroType",
    "parse_avro",
]
