"""Rules for scalar keywords: types, `enum`/`const`, string and number bounds."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from registry.compatibility.jsonschema.diffs import Diff, bound, diff, names
from registry.compatibility.jsonschema.model import JSON_TYPES, Node
from registry.compatibility.jsonschema.patterns import matches_every_string
from registry.formats.jsonschema.normalize import value_key


def possible_types(node: Node) -> frozenset[str]:
    """The JSON types `node` may accept (`integer` whenever `number`)."""
    types = JSON_TYPES if node.types is None else node.types
    return types | {"integer"} if "number" in types else types


def value_type(value: Any) -> str:
    """The JSON Schema type of a JSON value (`1.0` is an integer)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def scalar_accepted(node: Node, value: Any) -> bool | None:
    """Whether `node`'s own scalar keywords accept `value`; None when it cannot tell."""
    kind = value_type(value)
    if kind in ("array", "object"):
        return None
    if node.types is not None and kind not in possible_types(node):
        return False
    if node.enum is not None and not _enum_contains(node, value):
        return False
    if kind == "string":
        length = len(value)
        if node.min_length is not None and length < node.min_length:
            return False
        if node.max_length is not None and length > node.max_length:
            return False
        if node.pattern is not None:
            try:
                if re.search(node.pattern, value) is None:
                    return False
            except re.error:
                return None
    if kind in ("integer", "number"):
        if node.minimum is not None and value < node.minimum:
            return False
        if node.maximum is not None and value > node.maximum:
            return False
        if node.exclusive_minimum is not None and value <= node.exclusive_minimum:
            return False
        if node.exclusive_maximum is not None and value >= node.exclusive_maximum:
            return False
        if node.multiple_of is not None and Fraction(str(value)) % _fraction(node.multiple_of):
            return False
    return True


def _enum_contains(node: Node, value: Any) -> bool:
    return node.enum is not None and value_key(value) in node.enum_values


def _fraction(value: float | int) -> Fraction:
    return Fraction(str(value))


def types(
    w: Node,
    r: Node,
    w_types: frozenset[str],
    r_types: frozenset[str],
    found: list[Diff],
) -> None:
    """Types the writer allows that the reader no longer does."""
    if r.types is None:
        return
    lost = w_types - r_types
    if not lost:
        return
    old = "any type" if w.types is None else names(w.types)
    if w_types & r_types:
        found.append(
            diff(
                "TYPE_NARROWED",
                (),
                f"the type at {{path}} was narrowed from {old} to {names(r.types)}: old "
                f"data may hold {names(lost)}",
            )
        )
    else:
        found.append(
            diff(
                "TYPE_CHANGED",
                (),
                f"the type at {{path}} changed from {old} to {names(r.types)}",
            )
        )


def enum(w: Node, r: Node, found: list[Diff]) -> None:
    """`enum`/`const` values the writer allows that the reader no longer does."""
    if r.enum is None:
        return
    keyword = r.enum_keyword
    if w.enum is None:
        found.append(
            diff(
                "ENUM_ARRAY_NARROWED",
                (keyword,),
                f"`{keyword}` ({{path}}) now restricts values the old schema left open",
            )
        )
        return
    missing = [key for key in w.enum if key not in r.enum_values]
    if not missing:
        return
    rule = "ENUM_ARRAY_NARROWED" if set(r.enum) <= set(w.enum) else "ENUM_ARRAY_CHANGED"
    found.append(
        diff(
            rule,
            (keyword,),
            f"`{keyword}` ({{path}}) no longer allows {', '.join(missing[:5])}",
        )
    )


def accepts_every_string(node: Node) -> bool:
    """Whether `node` accepts every string (sound: False whenever unsure).

    Only the keywords that constrain strings count; applicators and references are not
    looked into.
    """
    if node.accepts_all:
        return True
    if node.has_applicators or node.ref is not None or node.rejects_all:
        return False
    if node.types is not None and "string" not in node.types:
        return False
    if node.enum is not None or node.min_length or node.max_length is not None:
        return False
    return node.pattern is None or matches_every_string(node.pattern)


def strings(w: Node, r: Node, found: list[Diff]) -> None:
    """`minLength`, `maxLength` and `pattern` that reject old strings."""
    if r.min_length is not None and r.min_length > (w.min_length or 0):
        rule = "MIN_LENGTH_ADDED" if w.min_length is None else "MIN_LENGTH_INCREASED"
        found.append(bound(rule, "minLength", w.min_length, r.min_length))
    if r.max_length is not None and (w.max_length is None or r.max_length < w.max_length):
        rule = "MAX_LENGTH_ADDED" if w.max_length is None else "MAX_LENGTH_DECREASED"
        found.append(bound(rule, "maxLength", w.max_length, r.max_length))
    if r.pattern is not None and r.pattern != w.pattern and not matches_every_string(r.pattern):
        rule = "PATTERN_ADDED" if w.pattern is None else "PATTERN_CHANGED"
        found.append(
            diff(
                rule,
                ("pattern",),
                f"strings must now match `{r.pattern}` ({{path}})"
                + (f" instead of `{w.pattern}`" if w.pattern is not None else ""),
            )
        )


def numbers(w: Node, r: Node, found: list[Diff]) -> None:
    """Bounds and `multipleOf` that reject old numbers."""
    for side, tighter, moved in (
        (_upper, _tighter_upper, "_DECREASED"),
        (_lower, _tighter_lower, "_INCREASED"),
    ):
        old, new = side(w), side(r)
        if new is not None and (old is None or tighter(new, old)):
            keyword = new[2]
            same = old is not None and old[2] == keyword
            rule = _rule_for(keyword) + (moved if same else "_ADDED")
            found.append(bound(rule, keyword, old[0] if old else None, new[0]))
    if r.multiple_of is not None and r.multiple_of != w.multiple_of:
        if w.multiple_of is None:
            rule = "MULTIPLE_OF_ADDED"
            if r.multiple_of == 1 and w.types is not None and w.types <= {"integer"}:
                return
        else:
            ratio = _fraction(w.multiple_of) / _fraction(r.multiple_of)
            if ratio.denominator == 1:
                return
            inverse = _fraction(r.multiple_of) / _fraction(w.multiple_of)
            rule = "MULTIPLE_OF_EXPANDED" if inverse.denominator == 1 else "MULTIPLE_OF_CHANGED"
        found.append(bound(rule, "multipleOf", w.multiple_of, r.multiple_of))


def _rule_for(keyword: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", keyword).upper()


Bound = tuple[float | int, bool, str]


def _upper(node: Node) -> Bound | None:
    """The tightest upper bound: the smallest value, exclusive before inclusive on ties."""
    candidates = _bounds((node.maximum, "maximum"), (node.exclusive_maximum, "exclusiveMaximum"))
    return min(candidates, key=lambda bound: (bound[0], not bound[1]), default=None)


def _lower(node: Node) -> Bound | None:
    """The tightest lower bound: the largest value, exclusive before inclusive on ties."""
    candidates = _bounds((node.minimum, "minimum"), (node.exclusive_minimum, "exclusiveMinimum"))
    return max(candidates, key=lambda bound: (bound[0], bound[1]), default=None)


def _bounds(inclusive: tuple[Any, str], exclusive: tuple[Any, str]) -> list[Bound]:
    found: list[Bound] = []
    if inclusive[0] is not None:
        found.append((inclusive[0], False, inclusive[1]))
    if exclusive[0] is not None:
        found.append((exclusive[0], True, exclusive[1]))
    return found


def _tighter_upper(new: Bound, old: Bound) -> bool:
    return new[0] < old[0] or (new[0] == old[0] and new[1] and not old[1])


def _tighter_lower(new: Bound, old: Bound) -> bool:
    return new[0] > old[0] or (new[0] == old[0] and new[1] and not old[1])
