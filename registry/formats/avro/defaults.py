"""Field defaults: whether a value is a valid default for a type, and its one spelling."""

from __future__ import annotations

import json
from typing import Any, TypeGuard

from registry.formats.avro.model import AvroType

_INT_RANGE = (-(2**31), 2**31 - 1)
_LONG_RANGE = (-(2**63), 2**63 - 1)


def is_int(value: Any) -> TypeGuard[int]:
    """Whether `value` is a JSON integer (a bool is not)."""
    return isinstance(value, int) and not isinstance(value, bool)


def default_problem(node: AvroType, value: Any, budget: int) -> str | None:
    """Why `value` is not a valid default for `node` (None when it is)."""
    if budget <= 0:
        return "nests too deeply"
    kind = node.kind
    if kind == "union":
        if not node.branches:
            return "cannot be given for an empty union"
        first = node.branches[0]
        problem = default_problem(first, value, budget - 1)
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
        if is_int(value) and low <= value <= high:
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
            problem = default_problem(node.items, item, budget - 1)
            if problem is not None:
                return f"item {index} {problem}"
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return f"must be an object, got {_short(value)}"
        assert node.values is not None
        for key, item in value.items():
            problem = default_problem(node.values, item, budget - 1)
            if problem is not None:
                return f"entry {key!r} {problem}"
        return None
    if kind == "record":
        if not isinstance(value, dict):
            return f"must be an object for record {node.fullname!r}, got {_short(value)}"
        for avro_field in node.fields:
            if avro_field.name in value:
                problem = default_problem(avro_field.type, value[avro_field.name], budget - 1)
                if problem is not None:
                    return f"field {avro_field.name!r} {problem}"
            elif not avro_field.has_default:
                return f"lacks field {avro_field.name!r}, which has no default of its own"
        return None
    return f"cannot be checked for type {kind}"  # pragma: no cover - every kind is handled


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def normalize_default(node: AvroType, value: Any) -> Any:
    """A default in one spelling per value: 1 and 1.0 for a double are both 1.0."""
    kind = node.kind
    if kind == "union":
        return normalize_default(node.branches[0], value) if node.branches else value
    if kind in ("float", "double") and isinstance(value, int | float):
        return float(value)
    if kind == "array" and isinstance(value, list) and node.items is not None:
        items = node.items
        return [normalize_default(items, item) for item in value]
    if kind == "map" and isinstance(value, dict) and node.values is not None:
        values = node.values
        return {key: normalize_default(values, value[key]) for key in sorted(value)}
    if kind == "record" and isinstance(value, dict):
        return {
            f.name: normalize_default(f.type, value[f.name]) for f in node.fields if f.name in value
        }
    return value
