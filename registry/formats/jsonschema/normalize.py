"""The normalized form of a JSON Schema: one spelling for schemas that mean the same."""

from __future__ import annotations

import json
from typing import Any

from registry.formats.jsonschema.keywords import LIST, MAP, SINGLE

# Keywords whose value, when equal to the listed one, means the same as leaving them out.
_NEUTRAL_VALUES: dict[str, tuple[Any, ...]] = {
    "additionalProperties": (True, {}),
    "additionalItems": (True, {}),
    "items": (True, {}),
    "unevaluatedProperties": (True, {}),
    "unevaluatedItems": (True, {}),
    "propertyNames": (True, {}),
    "properties": ({},),
    "patternProperties": ({},),
    "definitions": ({},),
    "$defs": ({},),
    "dependencies": ({},),
    "dependentRequired": ({},),
    "dependentSchemas": ({},),
    "required": ([],),
    "uniqueItems": (False,),
    "minLength": (0,),
    "minItems": (0,),
    "minProperties": (0,),
}


def value_key(value: Any) -> str:
    """A key equal for JSON values JSON Schema considers equal (`1 == 1.0`, `true != 1`)."""
    return json.dumps(_integral_floats_as_ints(value), sort_keys=True, separators=(",", ":"))


def _integral_floats_as_ints(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_as_ints(item) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item) for key, item in value.items()}
    return value


def normalize_document(document: Any, draft: str, drop_neutral: bool = True) -> Any:
    """A normalized copy: sorted, deduplicated `type`/`required`, deduplicated `enum`,
    single-element `type` lists spelled as a string, and (with `drop_neutral`) keywords
    that constrain nothing left out."""
    return _normalize(document, draft, drop_neutral)


def _normalize(node: Any, draft: str, drop: bool) -> Any:
    if not isinstance(node, dict):
        return node
    single, listed, mapped = SINGLE[draft], LIST[draft], MAP[draft]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in single and isinstance(value, dict | bool):
            value = _normalize(value, draft, drop)
        elif key in listed and isinstance(value, list):
            value = [_normalize(item, draft, drop) for item in value]
        elif key in mapped and isinstance(value, dict):
            value = {
                name: _normalize(item, draft, drop)
                if isinstance(item, dict | bool)
                else _sorted_names(item)
                for name, item in value.items()
            }
        elif key == "dependentRequired" and isinstance(value, dict):
            value = {name: _sorted_names(item) for name, item in value.items()}
        elif key == "type" and isinstance(value, list):
            names = sorted({item for item in value if isinstance(item, str)})
            value = names[0] if len(names) == 1 else names
        elif key == "required" and isinstance(value, list):
            value = _sorted_names(value)
        elif key == "enum" and isinstance(value, list):
            value = _dedupe(value)
        if drop and _is_neutral(key, value):
            continue
        out[key] = value
    return out


def _is_neutral(key: str, value: Any) -> bool:
    # `True == 1` in Python: booleans only match booleans.
    return any(
        value == neutral and isinstance(value, bool) == isinstance(neutral, bool)
        for neutral in _NEUTRAL_VALUES.get(key, ())
    )


def _sorted_names(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return sorted(set(value))
    return value


def _dedupe(values: list[Any]) -> list[Any]:
    seen: set[str] = set()
    out = []
    for value in values:
        key = value_key(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out
