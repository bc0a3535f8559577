"""Flattening `allOf`: one node for a conjunction of subschemas, when that is exact.

Schemas are often composed (`allOf: [{"$ref": "#/$defs/base"}, {"properties": ...}]`) and
later flattened, or the other way round. Comparing branch by branch would call such
refactorings incompatible; merging the branches into one node first compares what the
conjunction accepts. A merge is only made when it is exact: keywords that interact across
subschemas (`additionalProperties` next to another branch's `properties`, two different
patterns) make `flatten` leave the node as it is.
"""

from __future__ import annotations

from typing import Any

from registry.compatibility.jsonschema.model import IDENTITY_FIELDS, Node, intern

_MAX_NESTING = 16


class _CannotMergeError(Exception):
    pass


def deref(node: Node, hops: int = 10_000) -> Node:
    """Follow `$ref`s to the referenced node (bounded, for reference cycles)."""
    while node.ref is not None and hops > 0:
        node = node.ref.node
        hops -= 1
    return node


def flatten(node: Node) -> Node:
    """`node` with its `allOf` merged into its own keywords, or `node` when not exact."""
    if not node.all_of:
        return node
    if node.flat is None:
        # Kept on the node (not in a global table) so that nothing outlives the schemas.
        try:
            node.flat = _flatten(node, _MAX_NESTING)
        except _CannotMergeError:
            node.flat = node
    return node.flat


def _flatten(node: Node, budget: int) -> Node:
    if budget <= 0:
        raise _CannotMergeError
    parts = [_without_all_of(node)]
    for branch in node.all_of:
        branch = deref(branch)
        if branch.ref is not None:
            raise _CannotMergeError
        parts.append(_flatten(branch, budget - 1) if branch.all_of else branch)
    merged = parts[0]
    for part in parts[1:]:
        merged = _merge(merged, part)
    return merged


def _without_all_of(node: Node) -> Node:
    values = {name: getattr(node, name) for name in IDENTITY_FIELDS}
    values["all_of"] = ()
    copy = Node(**values)
    copy.has_default = node.has_default
    copy.enum_values = node.enum_values
    return intern(copy)


def _expand(node: Node) -> frozenset[str]:
    """The node's types with `integer` spelled out when `number` allows it."""
    types = node.types or frozenset()
    return types | {"integer"} if "number" in types else types


def _pick(a: Any, b: Any, default: Any = None) -> Any:
    """The one that is set; equal values merge; two different settings cannot."""
    if a == default or a is b:
        return b
    if b == default or a == b:
        return a
    raise _CannotMergeError


def _low(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else max(a, b)


def _high(a: Any, b: Any) -> Any:
    return b if a is None else a if b is None else min(a, b)


def _names_properties(node: Node) -> bool:
    return bool(node.properties) or bool(node.pattern_properties)


def _merge(a: Node, b: Node) -> Node:
    # `additionalProperties` only sees its own subschema's properties and patterns, so it
    # cannot join another member's; `unevaluatedProperties` sees them all and can.
    if (a.additional is not None and _names_properties(b)) or (
        b.additional is not None and _names_properties(a)
    ):
        raise _CannotMergeError
    a_items, b_items = (a.prefix, a.rest), (b.prefix, b.rest)
    if a_items != ((), None) and b_items != ((), None) and a_items != b_items:
        raise _CannotMergeError
    out = Node()
    out.types = (
        b.types if a.types is None else a.types if b.types is None else _expand(a) & _expand(b)
    )
    _merge_enum(out, a, b)
    out.min_length = _low(a.min_length, b.min_length)
    out.max_length = _high(a.max_length, b.max_length)
    out.pattern = _pick(a.pattern, b.pattern)
    out.minimum = _low(a.minimum, b.minimum)
    out.maximum = _high(a.maximum, b.maximum)
    out.exclusive_minimum = _low(a.exclusive_minimum, b.exclusive_minimum)
    out.exclusive_maximum = _high(a.exclusive_maximum, b.exclusive_maximum)
    out.multiple_of = _pick(a.multiple_of, b.multiple_of)
    out.properties = _merge_properties(a, b)
    out.required = a.required | b.required
    out.additional = _pick(a.additional, b.additional)
    out.additional_keyword = a.additional_keyword if a.additional else b.additional_keyword
    patterns = dict(a.pattern_properties)
    for pattern, schema in b.pattern_properties:
        patterns[pattern] = _pick(patterns.get(pattern), schema)
    out.pattern_properties = tuple(sorted(patterns.items()))
    out.unevaluated_properties = _pick(a.unevaluated_properties, b.unevaluated_properties)
    out.unevaluated_items = _pick(a.unevaluated_items, b.unevaluated_items)
    out.min_properties = _low(a.min_properties, b.min_properties)
    out.max_properties = _high(a.max_properties, b.max_properties)
    out.dependent_required = _merge_dependencies(a.dependent_required, b.dependent_required)
    out.dependent_required_keyword = a.dependent_required_keyword
    schemas = dict(a.dependent_schemas)
    for name, schema in b.dependent_schemas:
        schemas[name] = _pick(schemas.get(name), schema)
    out.dependent_schemas = tuple(sorted(schemas.items()))
    out.dependent_schemas_keyword = a.dependent_schemas_keyword
    out.property_names = _pick(a.property_names, b.property_names)
    items = a if (a.prefix or a.rest is not None) else b
    out.prefix, out.prefix_keyword = items.prefix, items.prefix_keyword
    out.rest, out.rest_keyword = items.rest, items.rest_keyword
    out.min_items = _low(a.min_items, b.min_items)
    out.max_items = _high(a.max_items, b.max_items)
    out.unique_items = a.unique_items or b.unique_items
    out.contains = _pick(a.contains, b.contains)
    out.min_contains = _pick(a.min_contains, b.min_contains)
    out.max_contains = _pick(a.max_contains, b.max_contains)
    out.any_of = _pick(a.any_of, b.any_of, ())
    out.one_of = _pick(a.one_of, b.one_of, ())
    out.not_ = _pick(a.not_, b.not_)
    conditional = _pick((a.if_, a.then, a.else_), (b.if_, b.then, b.else_), (None, None, None))
    out.if_, out.then, out.else_ = conditional
    out.has_default = a.has_default or b.has_default
    return intern(out)


def _merge_enum(out: Node, a: Node, b: Node) -> None:
    if a.enum is None and b.enum is None:
        return
    if a.enum is None or b.enum is None:
        source = a if a.enum is not None else b
        out.enum, out.enum_keyword = source.enum, source.enum_keyword
        out.enum_values = source.enum_values
        return
    keys = sorted(set(a.enum) & set(b.enum))
    out.enum = tuple(keys)
    out.enum_values = {key: a.enum_values[key] for key in keys}
    out.enum_keyword = (
        "const" if len(keys) == 1 and "const" in (a.enum_keyword, b.enum_keyword) else "enum"
    )


def _merge_properties(a: Node, b: Node) -> tuple[tuple[str, Node], ...]:
    merged = dict(a.properties)
    for name, schema in b.properties:
        existing = merged.get(name)
        merged[name] = (
            schema
            if existing is None or existing is schema
            else intern(Node(all_of=(existing, schema)))
        )
    return tuple(sorted(merged.items()))


def _merge_dependencies(
    a: tuple[tuple[str, frozenset[str]], ...], b: tuple[tuple[str, frozenset[str]], ...]
) -> tuple[tuple[str, frozenset[str]], ...]:
    merged = dict(a)
    for name, names in b:
        merged[name] = merged.get(name, frozenset()) | names
    return tuple(sorted(merged.items()))
