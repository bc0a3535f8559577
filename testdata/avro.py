"""Avro values: every primitive, logical type, enum, fixed, union, nested and recursive
record, array and map, compiled once into closures so each record costs little more than its
random draws; each value is checked with fastavro's validation."""

from __future__ import annotations

import datetime
import decimal
import json
import math
import struct
from collections.abc import Callable, Collection
from typing import Any

from fastavro import parse_schema
from fastavro.validation import validate

from testdata.avro_check import compile_check
from testdata.core import MAX_DEPTH, GenerationError, ValueGenerator
from testdata.words import WORDS, random_uuid

Gen = Callable[[int], Any]
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
#: Times are drawn from 2020-01-01 over about ten years, in microseconds.
TIME_BASE_US = 1_577_836_800_000_000
TIME_SPAN_US = 10 * 365 * 86_400_000_000
NAMED = ("record", "error", "enum", "fixed")
PRIMITIVES = ("null", "boolean", "int", "long", "float", "double", "bytes", "string")


def _fullname(name: str, namespace: str | None) -> str:
    if "." in name or not namespace:
        return name
    return f"{namespace}.{name}"


def _inline(expr: str, **env: Any) -> Gen:
    """A generator from one expression over `env`, which a record can also paste into its own
    code (one function per record instead of one call per field). `{name}` in `expr` names an
    entry of `env`; schema text only ever travels in `env`, never into the code."""
    code = expr.format(**{key: f"_{key}" for key in env})
    function: Any = eval(f"lambda d: {code}", {f"_{key}": value for key, value in env.items()})
    function.inline = (expr, env)
    return function


def _record_function(name: str, fields: list[tuple[str, Gen]]) -> Gen:
    """One function that builds the whole record: inline fields as expressions, the others
    through their generators; past the depth limit only a record that must contain itself
    can arrive, and that is an error."""
    env: dict[str, Any] = {"GenerationError": GenerationError}
    items = []
    for i, (field, gen) in enumerate(fields):
        inline = getattr(gen, "inline", None)
        if inline is None:
            env[f"g{i}"] = gen
            items.append(f"{field!r}: g{i}(d1)")
            continue
        expr, parts = inline
        names = {key: f"v{i}_{key}" for key in parts}
        env.update({f"v{i}_{key}": value for key, value in parts.items()})
        items.append(f"{field!r}: {expr.format(**names)}")
    source = (
        "def record(d):\n"
        f"    if d > {4 * MAX_DEPTH}:\n"
        f"        raise GenerationError({f'record {name} contains itself with no way to end'!r})\n"
        "    d1 = d + 1\n"
        f"    return {{{', '.join(items)}}}\n"
    )
    exec(source, env)  # the only schema text in the code is field names, repr()-quoted
    record: Gen = env["record"]
    return record


def _is_leaf(branch: Any) -> bool:
    """A union branch that holds no records, arrays or maps (where recursion must end)."""
    if isinstance(branch, str):
        return branch in PRIMITIVES
    return isinstance(branch, dict) and branch.get("type") in ("enum", "fixed", *PRIMITIVES)


class AvroGenerator(ValueGenerator):
    """Values for an Avro schema (with its references' named types)."""

    def prepare(self) -> None:
        """Collect the named types, parse for fastavro, compile generator and check."""
        parsed = self.parsed
        named: dict[str, Any] = {}
        self._definitions: dict[str, tuple[Any, str | None]] = {}
        self._compiled: dict[str, Gen] = {}
        self._building: dict[str, Gen] = {}
        for reference in parsed.references:
            document = json.loads(reference.schema)
            self._collect(document, None)
            parse_schema(document, named_schemas=named)
        document = json.loads(parsed.raw)
        self._collect(document, None)
        self._schema = parse_schema(document, named_schemas=named)
        self._sound = compile_check(self._schema, named)
        self._root = self._compile(document, None, "", ())

    def candidate(self) -> Any:
        """A value built by the compiled schema."""
        return self._root(0)

    def problem(self, value: Any) -> str | None:
        """fastavro's verdict on the value (a compiled check that accepts only values fastavro
        accepts answers first, so most values skip fastavro's slower walk)."""
        if self._sound(value):
            return None
        try:
            validate(value, self._schema, raise_errors=True)
        except Exception as exc:  # ValidationError, or a logical type's ValueError
            return str(exc)
        return None

    # --- named types ---------------------------------------------------------------------

    def _collect(self, node: Any, namespace: str | None) -> None:
        """Record every named type definition with the namespace it was defined in."""
        if isinstance(node, list):
            for item in node:
                self._collect(item, namespace)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind in NAMED and isinstance(node.get("name"), str):
            full = _fullname(node["name"], node.get("namespace", namespace))
            self._definitions[full] = (node, full.rpartition(".")[0] or None)
            namespace = full.rpartition(".")[0] or None
            for field in node.get("fields", []) if kind in ("record", "error") else []:
                self._collect(field.get("type"), namespace)
            return
        for key in ("type", "items", "values"):
            if key in node:
                self._collect(node[key], namespace)

    def _named(self, name: str, namespace: str | None, path: str) -> Gen:
        full = name if name in self._definitions else _fullname(name, namespace)
        if full not in self._definitions:
            raise GenerationError(f"unknown Avro type {name!r}")
        # Compiled once per field path (PII tags depend on the path); a type used inside itself
        # reuses the generator being built, through a slot filled when it is done.
        key = f"{full}@{path}"
        found = self._compiled.get(key) or self._building.get(full)
        if found is not None:
            return found
        slot: list[Gen] = []
        self._building[full] = lambda d: slot[0](d)
        node, ns = self._definitions[full]
        try:
            slot.append(self._build(node, ns, path, ()))
        finally:
            del self._building[full]
        self._compiled[key] = slot[0]
        return slot[0]

    # --- compilation ---------------------------------------------------------------------

    def _compile(self, node: Any, namespace: str | None, path: str, tags: Collection[str]) -> Gen:
        if isinstance(node, str):
            if node in PRIMITIVES:
                return self._primitive(node, path, tags)
            return self._named(node, namespace, path)
        if isinstance(node, list):
            return self._union(node, namespace, path, tags)
        if isinstance(node, dict):
            kind = node.get("type")
            if kind in NAMED:
                full = _fullname(str(node.get("name")), node.get("namespace", namespace))
                if kind in ("record", "error"):
                    return self._named(full, None, path)
                return self._build(node, full.rpartition(".")[0] or None, path, tags)
            return self._build(node, namespace, path, tags)
        raise GenerationError(f"not an Avro schema: {node!r}")

    def _build(self, node: Any, namespace: str | None, path: str, tags: Collection[str]) -> Gen:
        kind = node.get("type")
        rng = self.rng
        if kind in ("record", "error"):
            return self._record(node, namespace, path)
        if kind == "enum":
            symbols = tuple(node["symbols"])
            return _inline(
                "{symbols}[int({random}() * {count})]",
                symbols=symbols,
                random=rng.random,
                count=len(symbols),
            )
        if kind == "fixed":
            size = int(node["size"])
            logical = node.get("logicalType")
            if logical == "decimal":
                return self._decimal(node, size)
            if logical == "duration" and size == 12:
                pack = struct.Struct("<III").pack
                return lambda d: pack(
                    int(rng.random() * 24), int(rng.random() * 31), int(rng.random() * 86_400_000)
                )
            return lambda d: rng.randbytes(size)
        if kind == "array":
            items = self._compile(node["items"], namespace, path, ())
            return lambda d: (
                [] if d >= MAX_DEPTH else [items(d + 1) for _ in range(int(rng.random() * 4))]
            )
        if kind == "map":
            values = self._compile(node["values"], namespace, path, ())
            return lambda d: (
                {}
                if d >= MAX_DEPTH
                else {f"k{i}": values(d + 1) for i in range(int(rng.random() * 4))}
            )
        if isinstance(kind, str) and kind in PRIMITIVES:
            logical = node.get("logicalType")
            made = self._logical(str(logical), kind, node) if logical else None
            return made or self._primitive(kind, path, tags)
        return self._compile(kind, namespace, path, tags)

    def _record(self, node: Any, namespace: str | None, path: str) -> Gen:
        fields: list[tuple[str, Gen]] = []
        for field in node.get("fields", []):
            name = str(field["name"])
            child = f"{path}.{name}" if path else name
            tags = field.get("confluent:tags") or ()
            fields.append((name, self._compile(field["type"], namespace, child, tags)))
        return _record_function(str(node.get("name")), fields)

    def _union(self, branches: list[Any], namespace: str | None, path: str, tags: Any) -> Gen:
        gens = [self._compile(branch, namespace, path, tags) for branch in branches]
        shallow = [
            gen for branch, gen in zip(branches, gens, strict=True) if _is_leaf(branch)
        ] or gens
        rng = self.rng
        count = len(gens)
        shallow_count = len(shallow)
        return lambda d: (
            gens[int(rng.random() * count)](d)
            if d < MAX_DEPTH
            else shallow[int(rng.random() * shallow_count)](d)
        )

    def _primitive(self, kind: str, path: str, tags: Collection[str]) -> Gen:
        rng = self.rng
        random = rng.random
        if kind == "null":
            return _inline("None")
        bits = rng.getrandbits
        if kind == "boolean":
            return _inline("{random}() < 0.5", random=random)
        if kind == "int":
            return _inline("{bits}(17)", bits=bits)  # 0 to 131,071
        if kind == "long":
            return _inline("{bits}(34)", bits=bits)  # 0 to about 17 billion
        if kind in ("float", "double"):
            return _inline("{bits}(20) / 100", bits=bits)  # two decimals, up to 10,485.75
        if kind == "bytes":
            return _inline("{randbytes}({bits}(4))", bits=bits, randbytes=rng.randbytes)
        name = path.rpartition(".")[2]
        fake = self.tags.fake(path, name, tags)
        if fake is not None:
            return _inline("{fake}()", fake=fake)
        # One draw picks the word (low 5 bits) and the number (the rest): `sku-amber-417`.
        return _inline(
            "f'{{{prefix}}}-{{{words}[{bits}(5)]}}-{{{bits}(10)}}'",
            bits=bits,
            words=WORDS,
            prefix=name or "text",
        )

    def _logical(self, logical: str, kind: str, node: Any) -> Gen | None:
        rng = self.rng
        random = rng.random

        def instant_us() -> int:
            return TIME_BASE_US + int(random() * TIME_SPAN_US)

        if logical == "uuid" and kind == "string":
            return _inline("{uuid}({bits})", uuid=random_uuid, bits=rng.getrandbits)
        if logical == "date" and kind == "int":
            return lambda d: (EPOCH + datetime.timedelta(microseconds=instant_us())).date()
        if logical == "time-millis" and kind == "int":
            return lambda d: datetime.time(
                int(random() * 24),
                int(random() * 60),
                int(random() * 60),
                int(random() * 1000) * 1000,
            )
        if logical == "time-micros" and kind == "long":
            return lambda d: datetime.time(
                int(random() * 24), int(random() * 60), int(random() * 60), int(random() * 1e6)
            )
        if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
            step = 1000 if logical == "timestamp-millis" else 1
            return lambda d: EPOCH + datetime.timedelta(microseconds=instant_us() // step * step)
        if logical in ("local-timestamp-millis", "local-timestamp-micros") and kind == "long":
            step = 1000 if logical == "local-timestamp-millis" else 1
            naive = EPOCH.replace(tzinfo=None)
            return lambda d: naive + datetime.timedelta(microseconds=instant_us() // step * step)
        if logical == "decimal" and kind == "bytes":
            return self._decimal(node, None)
        return None  # an unknown logical type is its underlying type

    def _decimal(self, node: Any, size: int | None) -> Gen:
        precision = int(node.get("precision", 1))
        scale = int(node.get("scale", 0))
        if size is not None:  # the most digits a signed `size`-byte number always holds
            precision = min(precision, max(1, math.floor(math.log10(2 ** (8 * size - 1) - 1))))
        digits = min(precision, 18)
        limit = 10**digits
        rng = self.rng
        return lambda d: decimal.Decimal(int(rng.random() * 2 * limit) - limit + 1).scaleb(-scale)
