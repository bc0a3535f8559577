"""Confluent's canonical string of a schema: what identifies it and what the registry stores.

Confluent Schema Registry replaces the text of every registered schema by its canonical string
and keys schema ids on that string, so spellings of one schema that differ only in whitespace
(and, for Avro, in key order or in writing `{"type": "string"}` for `"string"`) share one id and
are answered in one form:

- Avro: the schema as Avro's Java `Schema.toString()` writes it: compact JSON, attributes in
  Avro's own order, named types in full at their first use and by name afterwards, types from
  references by name, custom properties kept in the order written, `doc` kept.
- JSON Schema: the document re-serialized compactly with its keys in the order written and
  numbers as written (Jackson with exact big decimals).

Both are pure functions of the parsed schema.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Any

from registry.formats.avro import NAMED_TYPES, AvroField, AvroSchema, AvroType
from registry.formats.base import ParsedSchema, SchemaType

# Avro's `Schema.Type` names: a named type called like one is always written with its namespace.
_AVRO_TYPE_NAMES = frozenset(
    {"record", "enum", "array", "map", "union", "fixed", "string", "bytes", "int", "long"}
    | {"float", "double", "boolean", "null"}
)
_LOWER_HEX_ESCAPE = re.compile(r"\\u00([0-9a-f]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def canonical_string(parsed: ParsedSchema) -> str:
    """Confluent's canonical string of `parsed` (see the module docstring)."""
    if parsed.schema_type is SchemaType.AVRO and isinstance(parsed, AvroSchema):
        return avro_canonical_string(parsed)
    return json_canonical_string(parsed.raw)


# -- JSON writing as Jackson does it ------------------------------------------------------------
def _string(text: str) -> str:
    """A JSON string literal as Jackson writes it (non-ASCII kept, `\\u00XX` upper case)."""
    out = json.dumps(text, ensure_ascii=False)
    if "\\u00" in out:
        out = _LOWER_HEX_ESCAPE.sub(lambda m: "\\u00" + m.group(1).upper(), out)
    if _SURROGATE.search(out):  # an unpaired surrogate cannot be stored as UTF-8
        out = _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04X}", out)
    return out


def java_double(value: float) -> str:
    """A double as Java's `Double.toString` spells it: `1.0`, `0.001`, `1.0E7`, `1.5E-4`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    shortest = Decimal(repr(magnitude))
    if 1e-3 <= magnitude < 1e7:
        plain = format(shortest, "f")
        return sign + (plain if "." in plain else plain + ".0")
    digits = "".join(str(d) for d in shortest.as_tuple().digits).rstrip("0") or "0"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{shortest.adjusted()}"


def _big_decimal(value: Decimal) -> str:
    """A number as Java's `BigDecimal.toString` spells it (the scientific string of the spec)."""
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    text = str(value)
    return text[1:] if value.is_zero() and text.startswith("-") else text


def _write(value: Any, out: list[str], number: Any) -> None:
    """Compact JSON of a decoded document into `out`; `number` spells non-integer numbers."""
    if isinstance(value, str):
        out.append(_string(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float | Decimal):
        out.append(number(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_string(str(key)))
            out.append(":")
            _write(item, out, number)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out, number)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _avro_number(value: float | Decimal) -> str:
    return java_double(float(value))


def _json_number(value: float | Decimal) -> str:
    return _big_decimal(value) if isinstance(value, Decimal) else java_double(value)


def _constant(name: str) -> Decimal:
    return Decimal(name.replace("Infinity", "Inf"))


def json_canonical_string(text: str) -> str:
    """A JSON Schema's canonical string: compact, keys in written order, numbers exact."""
    document = json.loads(text, parse_float=Decimal, parse_constant=_constant)
    out: list[str] = []
    _write(document, out, _json_number)
    return "".join(out)


# -- Avro's Schema.toString ----------------------------------------------------------------------
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
        self.out.append(_string(name))
        self.out.append(":")

    def value(self, value: Any) -> None:
        _write(value, self.out, _avro_number)

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
            self.raw('{"type":' + _string(node.kind))
            self.key("items" if node.kind == "array" else "values")
            self.type(child)
            self.props(node.props)
            self.raw("}")
        elif node.props:
            self.raw('{"type":' + _string(node.kind))
            self.props(node.props)
            self.raw("}")
        else:
            self.raw(_string(node.kind))

    def named(self, node: AvroType) -> None:
        if node.fullname in self.known:
            self.raw(_string(_qualified(node.fullname, self.space)))
            return
        self.known.add(node.fullname)
        saved = self.space
        space, name = _split(node.fullname)
        kind = "error" if node.is_error else node.kind
        self.raw('{"type":' + _string(kind))
        self.key("name")
        self.raw(_string(name))
        if space is not None and space != self.space:
            self.key("namespace")
            self.raw(_string(space))
        elif space is None and self.space is not None:
            self.key("namespace")
            self.raw('""')
        if node.kind == "record":
            self.space = space
        if node.doc is not None:
            self.key("doc")
            self.raw(_string(node.doc))
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
                self.raw(_string(node.enum_default))
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
        self.raw('{"name":' + _string(avro_field.name))
        self.key("type")
        self.type(avro_field.type)
        if avro_field.doc is not None:
            self.key("doc")
            self.raw(_string(avro_field.doc))
        if avro_field.has_default:
            self.key("default")
            self.value(avro_field.default)
        if avro_field.order != "ascending":
            self.key("order")
            self.raw(_string(avro_field.order))
        if avro_field.aliases:
            self.key("aliases")
            self.value(list(dict.fromkeys(avro_field.aliases)))
        self.props(avro_field.props)
        self.raw("}")


def _reference_roots(parsed: AvroSchema) -> set[str]:
    """Full names of the named types the references define at their top level."""
    roots: set[str] = set()
    for reference in parsed.references:
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


def avro_canonical_string(parsed: AvroSchema) -> str:
    """An Avro schema as `Schema.toString(referencedSchemas, false)` writes it."""
    writer = _AvroWriter(_reference_roots(parsed))
    writer.type(parsed.root)
    return "".join(writer.out)
