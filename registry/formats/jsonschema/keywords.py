"""Which keywords of a JSON Schema hold subschemas, per draft, and a walker over them.

Everything that looks into a schema (reference resolution, tags, normalization, the
compatibility model) uses this one table, so a property named `type` or `$ref` is never
mistaken for a keyword.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from registry.formats.jsonschema.loading import DRAFT4, DRAFT6, DRAFT7, DRAFT2019, DRAFT2020

_SINGLE_BASE = {"additionalItems", "additionalProperties", "items", "not"}
_LIST_BASE = {"allOf", "anyOf", "oneOf", "items"}
_MAP_BASE = {"definitions", "properties", "patternProperties", "dependencies"}

SINGLE: dict[str, frozenset[str]] = {
    DRAFT4: frozenset(_SINGLE_BASE),
    DRAFT6: frozenset(_SINGLE_BASE | {"contains", "propertyNames"}),
    DRAFT7: frozenset(_SINGLE_BASE | {"contains", "propertyNames", "if", "then", "else"}),
    DRAFT2019: frozenset(
        _SINGLE_BASE
        | {"contains", "propertyNames", "if", "then", "else", "contentSchema"}
        | {"unevaluatedItems", "unevaluatedProperties"}
    ),
    DRAFT2020: frozenset(
        (_SINGLE_BASE - {"additionalItems"})
        | {"contains", "propertyNames", "if", "then", "else", "contentSchema"}
        | {"unevaluatedItems", "unevaluatedProperties"}
    ),
}
LIST: dict[str, frozenset[str]] = {
    DRAFT4: frozenset(_LIST_BASE),
    DRAFT6: frozenset(_LIST_BASE),
    DRAFT7: frozenset(_LIST_BASE),
    DRAFT2019: frozenset(_LIST_BASE),
    DRAFT2020: frozenset({"allOf", "anyOf", "oneOf", "prefixItems"}),
}
MAP: dict[str, frozenset[str]] = {
    DRAFT4: frozenset(_MAP_BASE),
    DRAFT6: frozenset(_MAP_BASE),
    DRAFT7: frozenset(_MAP_BASE),
    DRAFT2019: frozenset((_MAP_BASE - {"dependencies"}) | {"$defs", "dependentSchemas"}),
    DRAFT2020: frozenset((_MAP_BASE - {"dependencies"}) | {"$defs", "dependentSchemas"}),
}

# Reference keywords per draft (`$recursiveRef` is 2019-09 only, `$dynamicRef` 2020-12 only).
REFS: dict[str, tuple[str, ...]] = {
    DRAFT4: ("$ref",),
    DRAFT6: ("$ref",),
    DRAFT7: ("$ref",),
    DRAFT2019: ("$ref", "$recursiveRef"),
    DRAFT2020: ("$ref", "$dynamicRef"),
}

# Keywords that never change which instances validate.
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "id",
        "$anchor",
        "$dynamicAnchor",
        "$recursiveAnchor",
        "$comment",
        "$vocabulary",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
        "format",
        "contentMediaType",
        "contentEncoding",
        "contentSchema",
        "definitions",
        "$defs",
        "confluent:tags",
    }
)


def escape(token: str) -> str:
    """Escape one JSON pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(tokens: tuple[str, ...] | list[str]) -> str:
    """A JSON pointer from reference tokens; the root is the empty string."""
    return "".join("/" + escape(token) for token in tokens)


def subschemas(node: Any, draft: str) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every direct subschema of `node` with its relative pointer tokens, in document order."""
    if not isinstance(node, dict):
        return
    single, listed, mapped = SINGLE[draft], LIST[draft], MAP[draft]
    for key, value in node.items():
        if key in single and isinstance(value, dict | bool):
            yield (key,), value
        elif key in listed and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict | bool):
                    yield (key, str(index)), item
        elif key in mapped and isinstance(value, dict):
            for name, item in value.items():
                if isinstance(item, dict | bool):
                    yield (key, name), item


def walk(root: Any, draft: str) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every schema in `root` (itself first), depth-first in document order, iteratively."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), root)]
    while stack:
        tokens, node = stack.pop()
        yield tokens, node
        children = [(tokens + rel, child) for rel, child in subschemas(node, draft)]
        stack.extend(reversed(children))
