"""The normalized form of a JSON Schema: one spelling for schemas that mean the same."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from registry.formats.jsonschema.keywords import LIST, MAP, SINGLE, walk

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
    return json.dumps(_canonical_numbers(value), sort_keys=True, separators=(",", ":"))


def _canonical_numbers(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_canonical_numbers(item) for item in value]
    if isinstance(value, dict):
        return {key: _canonical_numbers(item) for key, item in value.items()}
    return value


def _protected_paths(document: Any, draft: str) -> set[tuple[str, ...]]:
    """Prefixes of every local JSON-pointer `$ref`: locations normalization must keep."""
    protected: set[tuple[str, ...]] = set()
    for _, node in walk(document, draft):
        ref = node.get("$ref") if isinstance(node, dict) else None
        if isinstance(ref, str) and ref.startswith("#/"):
            tokens = tuple(
                unquote(token).replace("~1", "/").replace("~0", "~") for token in ref[2:].split("/")
            )
            protected.update(tokens[:length] for length in range(1, len(tokens) + 1))
    return protected


def normalize_document(document: Any, draft: str) -> Any:
    """A normalized copy: sorted, deduplicated `type`/`required`, deduplicated `enum`,
    neutral keywords dropped, single-element `type` lists spelled as a string."""
    return _normalize(document, draft, (), _protected_paths(document, draft))


def _normalize(node: Any, draft: str, at: tuple[str, ...], protected: set[tuple[str, ...]]) -> Any:
    if not isinstance(node, dict):
        return node
    single, listed, mapped = SINGLE[draft], LIST[draft], MAP[draft]
    out: dict[str, Any] = {}
    for key, value in node.items():
        here = (*at, key)
        if key in single and isinstance(value, dict | bool):
            value = _normalize(value, draft, here, protected)
        elif key in listed and isinstance(value, list):
            value = [
                _normalize(item, draft, (*here, str(index)), protected)
                for index, item in enumerate(value)
            ]
        elif key in mapped and isinstance(value, dict):
            value = {
                name: _normalize(item, draft, (*here, name), protected)
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
        if _is_neutral(key, value) and here not in protected:
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
