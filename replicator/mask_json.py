"""Masking decoded JSON values, walking the JSON Schema they were validated against. Pure.

A property whose schema carries `confluent:tags` naming a masked tag (or whose catalog path
does) is masked whole by the rules of `mask_rules`, read from the schemas that apply to the
value (the property's schema, what its `$ref`s point to, `allOf`, `anyOf`, `oneOf`,
`then`/`else` members):

- `const` or `enum` gives the constant or the first allowed value, under both actions.
- `redact` gives the smallest value the schema accepts where that is decidable: an object
  keeps only its `required` properties (more when `minProperties` asks), each redacted per its
  own schema; an array keeps its first `minItems` elements, redacted; a string is empty, or
  `minLength` asterisks; a number is 0 moved into `minimum`/`maximum` (exclusive bounds and
  `multipleOf` too, for integers); booleans false, null null.
- `hash` hashes everything inside: object values, array elements and the keys of map-like
  objects (any key that no `properties` declares); declared property names are kept.

The masked value is validated again when it is encoded: a schema that refuses it (a
`pattern` or `maxLength` a hash cannot meet) sends the record to the dead-letter topic, with
the validation error as the reason. Untagged properties are walked into (objects, arrays,
map values) so tags at any depth apply; their values are kept.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from registry.formats.jsonschema.references import ResolvedRefs
from replicator.mask_rules import Action, enum_choice, mask_value

#: The action for a property, given its tags and its dotted path from the root, or None.
ActionOf = Callable[[tuple[str, ...], tuple[str, ...]], Action | None]

TAGS_KEYWORD = "confluent:tags"
_REFS = ("$ref", "$recursiveRef", "$dynamicRef")
_SOME = ("anyOf", "oneOf")
_BRANCHES = ("then", "else")


@dataclass
class Applicable:
    """The schemas that apply to one value: `must` (the schema, its references, `allOf`)
    all hold; `some` (`anyOf`, `oneOf`, conditionals) may. Tags and property schemas are
    read from both, constraints only from `must`."""

    must: list[dict[str, Any]] = field(default_factory=list)
    some: list[dict[str, Any]] = field(default_factory=list)

    def all(self) -> list[dict[str, Any]]:
        """Every schema, `must` first."""
        return [*self.must, *self.some]


def applicable(schemas: list[Any], refs: ResolvedRefs) -> Applicable:
    """The schemas that apply to a value described by `schemas` (see `Applicable`)."""
    out = Applicable()
    seen: set[int] = set()
    stack: list[tuple[Any, bool]] = [(s, True) for s in reversed(schemas)]
    while stack:
        node, must = stack.pop()
        if not isinstance(node, dict) or id(node) in seen:
            continue
        seen.add(id(node))
        (out.must if must else out.some).append(node)
        for keyword in _REFS:
            if keyword in node:
                with contextlib.suppress(KeyError):  # resolved nowhere: nothing to add
                    stack.append((refs.target(node, keyword), must))
        stack.extend((sub, must) for sub in _list(node.get("allOf")))
        stack.extend((sub, False) for key in _SOME for sub in _list(node.get(key)))
        stack.extend((node[key], False) for key in _BRANCHES if key in node)
        dependent = node.get("dependentSchemas")
        if isinstance(dependent, dict):
            stack.extend((sub, False) for sub in dependent.values())
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _matches(pattern: str, key: str) -> bool:
    try:
        return re.search(pattern, key) is not None
    except re.error:
        return True  # a pattern Python cannot read: assume it applies (masks more, not less)


def property_schemas(schemas: Applicable, key: str) -> tuple[list[Any], tuple[str, ...], bool]:
    """The schemas of the property `key`, the tags on its `properties` entries, and whether
    any schema declares it by name (a key that none declares is a map key)."""
    found: list[Any] = []
    tags: list[str] = []
    declared = False
    for schema in schemas.all():
        properties = schema.get("properties")
        if isinstance(properties, dict) and key in properties:
            declared = True
            found.append(properties[key])
            if isinstance(properties[key], dict):
                tags.extend(str(t) for t in _list(properties[key].get(TAGS_KEYWORD)))
            continue
        patterns = schema.get("patternProperties")
        matched = [
            sub for p, sub in (patterns or {}).items() if isinstance(p, str) and _matches(p, key)
        ]
        found.extend(matched)
        if not matched and "additionalProperties" in schema:
            found.append(schema["additionalProperties"])
    return found, tuple(tags), declared


def item_schemas(schemas: Applicable, index: int) -> list[Any]:
    """The schemas of the array element at `index` (`prefixItems`, tuple `items`,
    `additionalItems`, `items`)."""
    found: list[Any] = []
    for schema in schemas.all():
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        if isinstance(prefix, list) and index < len(prefix):
            found.append(prefix[index])
        elif isinstance(items, list):
            found.append(items[index] if index < len(items) else schema.get("additionalItems"))
        elif items is not None:
            found.append(items)
    return found


@dataclass(frozen=True)
class JsonMasker:
    """Masks decoded JSON values of one schema (`refs` resolves its `$ref`s)."""

    root: Any
    refs: ResolvedRefs
    action_of: ActionOf
    salt: bytes
    _seen: dict[tuple[int, ...], Applicable] = field(default_factory=dict, compare=False)

    def __call__(self, value: Any) -> Any:
        """`value` with every property `action_of` names masked, at any depth."""
        return self._tree(value, [self.root], ())

    def _applicable(self, schemas: list[Any]) -> Applicable:
        """`applicable`, kept per combination of schema nodes (they live as long as the
        schema, and a schema has finitely many)."""
        key = tuple(id(s) for s in schemas)
        found = self._seen.get(key)
        if found is None:
            found = self._seen[key] = applicable(schemas, self.refs)
        return found

    def _tree(self, value: Any, schemas: list[Any], path: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            here = self._applicable(schemas)
            out = {}
            for key, item in value.items():
                subs, tags, _ = property_schemas(here, key)
                item_path = (*path, key)
                action = self.action_of(tags, item_path)
                if action is not None:
                    out[key] = self.whole(item, subs, action)
                else:
                    out[key] = self._tree(item, subs, item_path)
            return out
        if isinstance(value, list):
            here = self._applicable(schemas)
            return [self._tree(v, item_schemas(here, i), path) for i, v in enumerate(value)]
        return value

    def whole(self, value: Any, schemas: list[Any], action: Action) -> Any:
        """The replacement of a tagged value described by `schemas` (module docstring)."""
        here = self._applicable(schemas)
        for schema in here.must:
            if "const" in schema:
                return schema["const"]
            if _list(schema.get("enum")):
                return enum_choice(schema["enum"])
        if isinstance(value, dict):
            return self._object(value, here, action)
        if isinstance(value, list):
            kept = value if action == "hash" else value[: _largest(here, "minItems", 0)]
            return [self.whole(v, item_schemas(here, i), action) for i, v in enumerate(kept)]
        if action == "redact" and isinstance(value, str):
            return "*" * _largest(here, "minLength", 0)
        if action == "redact" and isinstance(value, int | float) and not isinstance(value, bool):
            return _smallest_number(value, here)
        return mask_value(value, action, self.salt)

    def _object(self, value: dict[str, Any], here: Applicable, action: Action) -> Any:
        if action == "redact":
            required = {k for s in here.must for k in _list(s.get("required"))}
            keep = [k for k in value if k in required]
            extra = [k for k in value if k not in required]
            keep += extra[: max(0, _largest(here, "minProperties", 0) - len(keep))]
        else:
            keep = list(value)
        out: dict[str, Any] = {}
        for key in keep:
            subs, _, declared = property_schemas(here, key)
            name = key if declared or action == "redact" else mask_value(key, "hash", self.salt)
            out[name] = self.whole(value[key], subs, action)
        return out


def _largest(here: Applicable, keyword: str, default: int) -> int:
    values = [s[keyword] for s in here.must if isinstance(s.get(keyword), int)]
    return max([default, *values])


def _smallest_number(value: int | float, here: Applicable) -> int | float:
    """0 (0.0 for a float) moved into the bounds the schemas set; for integers strict bounds
    and `multipleOf` are met as well."""
    integral = isinstance(value, int)
    number: float = 0
    for schema in here.must:
        low, high = _number(schema, "minimum"), _number(schema, "maximum")
        if low is not None and number < low:
            number = low
        if high is not None and number > high:
            number = high
        strict_low = _number(schema, "exclusiveMinimum")
        strict_high = _number(schema, "exclusiveMaximum")
        if integral and strict_low is not None and number <= strict_low:
            number = math.floor(strict_low) + 1
        if integral and strict_high is not None and number >= strict_high:
            number = math.ceil(strict_high) - 1
    if integral:
        number = math.ceil(number)
        for schema in here.must:
            step = schema.get("multipleOf")
            if isinstance(step, int) and step > 0 and number % step:
                number += step - number % step
        return int(number)
    return float(number)


def _number(schema: dict[str, Any], keyword: str) -> float | None:
    value = schema.get(keyword)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None
