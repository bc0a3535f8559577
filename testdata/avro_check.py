"""A compiled, sound shortcut for fastavro's validation of Avro values.

`compile_check(schema, named)` turns a schema into closures that answer True only for values
fastavro's `validate` also accepts (it is stricter: exact Python types, every field present).
A False is no verdict: the caller asks fastavro, whose answer (and message) decides. Logical
types whose rules it does not model (decimal, duration, unknown ones) always answer False, so
records holding them are judged by fastavro alone. `tests/testdata/test_avro_check.py` checks
soundness against fastavro on generated and damaged values.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], bool]

INT_MIN, INT_MAX = -(2**31), 2**31 - 1
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1

_ALWAYS_FALSE: Check = lambda v: False  # noqa: E731


def _primitive(kind: str) -> Check:
    if kind == "null":
        return lambda v: v is None
    if kind == "boolean":
        return lambda v: v is True or v is False
    if kind == "int":
        return lambda v: type(v) is int and INT_MIN <= v <= INT_MAX
    if kind == "long":
        return lambda v: type(v) is int and LONG_MIN <= v <= LONG_MAX
    if kind in ("float", "double"):
        return lambda v: type(v) is float
    if kind == "bytes":
        return lambda v: type(v) is bytes
    if kind == "string":
        return lambda v: type(v) is str
    return _ALWAYS_FALSE


#: Primitive checks a record pastes into its own code (`x` is the field's value).
_INLINE = {
    "null": "x is None",
    "boolean": "(x is True or x is False)",
    "int": "(type(x) is int and -2147483648 <= x <= 2147483647)",
    "long": "(type(x) is int and -9223372036854775808 <= x <= 9223372036854775807)",
    "float": "type(x) is float",
    "double": "type(x) is float",
    "bytes": "type(x) is bytes",
    "string": "type(x) is str",
}
_GLOBALS: dict[str, Any] = {
    "__builtins__": {
        "type": type,
        "int": int,
        "float": float,
        "bytes": bytes,
        "str": str,
        "dict": dict,
        "KeyError": KeyError,
    }
}

#: Logical types whose Python values always fit the underlying type.
_LOGICAL: dict[tuple[str, str], Check] = {
    ("string", "uuid"): lambda v: type(v) is str,
    ("int", "date"): lambda v: type(v) is datetime.date,
    ("int", "time-millis"): lambda v: type(v) is datetime.time,
    ("long", "time-micros"): lambda v: type(v) is datetime.time,
    ("long", "timestamp-millis"): lambda v: type(v) is datetime.datetime,
    ("long", "timestamp-micros"): lambda v: type(v) is datetime.datetime,
    ("long", "local-timestamp-millis"): lambda v: type(v) is datetime.datetime,
    ("long", "local-timestamp-micros"): lambda v: type(v) is datetime.datetime,
}


class _Compiler:
    def __init__(self, named: Mapping[str, Any]) -> None:
        self._named = named
        self._done: dict[str, Check] = {}

    def node(self, schema: Any) -> Check:
        if isinstance(schema, str):
            if schema in self._named:
                return self.named(schema)
            return _primitive(schema)
        if isinstance(schema, list):
            branches = [self.node(branch) for branch in schema]
            return lambda v: any(check(v) for check in branches)
        if not isinstance(schema, dict):
            return _ALWAYS_FALSE
        kind = schema.get("type")
        logical = schema.get("logicalType")
        if logical is not None:
            return _LOGICAL.get((str(kind), str(logical)), _ALWAYS_FALSE)
        if kind in ("record", "error", "enum", "fixed"):
            return self.named(str(schema["name"]), schema)
        if kind == "array":
            items = self.node(schema["items"])
            return lambda v: type(v) is list and all(items(item) for item in v)
        if kind == "map":
            values = self.node(schema["values"])
            return lambda v: (
                type(v) is dict
                and all(type(key) is str and values(item) for key, item in v.items())
            )
        return self.node(kind)

    def named(self, name: str, schema: Any = None) -> Check:
        found = self._done.get(name)
        if found is not None:
            return found
        definition = schema if schema is not None else self._named[name]
        if isinstance(definition, str) or definition.get("logicalType") is not None:
            return self.node(definition)
        slot: list[Check] = []
        self._done[name] = lambda v: slot[0](v)  # a record may contain itself
        slot.append(self._build(definition))
        self._done[name] = slot[0]
        return slot[0]

    def _build(self, schema: Any) -> Check:
        kind = schema["type"]
        if kind == "enum":
            symbols = frozenset(schema["symbols"])
            return lambda v: type(v) is str and v in symbols
        if kind == "fixed":
            size = int(schema["size"])
            return lambda v: type(v) is bytes and len(v) == size
        # One function per record: each field read once into a local, primitive checks pasted
        # in, the others called.
        env: dict[str, Any] = {}
        reads, terms = [], []
        for i, field in enumerate(schema["fields"]):
            reads.append(f"        x{i} = v[{str(field['name'])!r}]")  # names only, quoted
            kind = field["type"]
            expr = _INLINE.get(kind) if isinstance(kind, str) else None
            if expr is None:
                env[f"c{i}"] = self.node(kind)
                expr = "c(x)".replace("c", f"c{i}")
            terms.append("(" + expr.replace("x", f"x{i}") + ")")
        source = "\n".join(
            [
                "def check(v):",
                "    if type(v) is not dict:",
                "        return False",
                "    try:",
                *reads,
                "    except KeyError:",  # a missing field: no verdict
                "        return False",
                f"    return {' and '.join(terms) or 'True'}",
            ]
        )
        namespace = {**_GLOBALS, **env}
        exec(source, namespace)
        check: Check = namespace["check"]
        return check


def compile_check(parsed: Any, named: Mapping[str, Any]) -> Check:
    """A check for fastavro's parsed form of a schema (`parse_schema` output with the named
    types it filled in)."""
    return _Compiler(named).node(parsed)
