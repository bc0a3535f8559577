"""Masking decoded Avro values, walking the writer schema's type graph. Pure.

A field whose `confluent:tags` (or catalog path) names a masked tag is masked whole, whatever
its type, by the rules of `mask_rules`: scalars by `mask_value`; an enum becomes the enum's
`default` symbol when it declares one (the symbol the schema's author chose for "a value this
reader does not know", which is what a masked value is), else its first symbol; a fixed keeps
its size. Under `redact` a record becomes its smallest value, each field redacted per its
type; an array or a map becomes empty; a union containing null becomes null, any other union
is redacted within the branch the value is in. Under `hash` everything inside (array
elements, map keys and values, record fields, the union's branch) is hashed. Untagged fields
are walked into (records, arrays, map values, union branches) so tags at any depth apply;
the values of untagged fields are kept as they are.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from registry.formats.avro.model import AvroField, AvroType
from replicator.mask_rules import (
    Action,
    MaskError,
    enum_choice,
    mask_entries,
    mask_fixed,
    mask_items,
    mask_value,
)

#: The action for a field, given its tags and its dotted path from the root, or None.
ActionOf = Callable[[tuple[str, ...], tuple[str, ...]], Action | None]

TAGS_PROPERTY = "confluent:tags"


def field_tags(field: AvroField) -> tuple[str, ...]:
    """The `confluent:tags` written on a field."""
    tags = field.props.get(TAGS_PROPERTY, ())
    if isinstance(tags, str):
        return (tags,)
    return tuple(str(tag) for tag in tags) if isinstance(tags, list | tuple) else ()


def reachable_fields(root: AvroType) -> Iterator[AvroField]:
    """Every record field the type reaches (each named type once; recursion ends)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for field in node.fields:
            yield field
            stack.append(field.type)
        stack.extend(n for n in (node.items, node.values) if n is not None)
        stack.extend(node.branches)


def mask_tree(
    value: Any, node: AvroType, action_of: ActionOf, salt: bytes, path: tuple[str, ...] = ()
) -> Any:
    """`value` (of type `node`) with every field `action_of` names masked, at any depth."""
    kind = node.kind
    if kind == "record" and isinstance(value, dict):
        out = dict(value)
        for field in node.fields:
            if field.name not in value:
                continue
            field_path = (*path, field.name)
            action = action_of(field_tags(field), field_path)
            if action is not None:
                out[field.name] = mask_whole(value[field.name], field.type, action, salt)
            else:
                out[field.name] = mask_tree(
                    value[field.name], field.type, action_of, salt, field_path
                )
        return out
    if kind == "array" and isinstance(value, list) and node.items is not None:
        items = node.items
        return [mask_tree(item, items, action_of, salt, path) for item in value]
    if kind == "map" and isinstance(value, dict) and node.values is not None:
        values = node.values
        return {k: mask_tree(v, values, action_of, salt, path) for k, v in value.items()}
    if kind == "union":
        return mask_tree(value, branch_of(value, node), action_of, salt, path)
    return value


def mask_whole(value: Any, node: AvroType, action: Action, salt: bytes) -> Any:
    """The replacement of a tagged value of type `node` (see the module docstring)."""
    kind = node.kind
    if kind == "union":
        if action == "redact" and any(b.kind == "null" for b in node.branches):
            return None
        return mask_whole(value, branch_of(value, node), action, salt)
    if kind == "record":
        if not isinstance(value, dict):
            raise MaskError(f"a value of record {node.fullname} is not a record")
        return {f.name: mask_whole(value.get(f.name), f.type, action, salt) for f in node.fields}
    if kind == "array" and node.items is not None:
        items = node.items
        return mask_items(value, action, lambda item: mask_whole(item, items, action, salt))
    if kind == "map" and node.values is not None:
        values = node.values
        return dict(
            mask_entries(
                value.items(), action, salt, lambda item: mask_whole(item, values, action, salt)
            )
        )
    if kind == "enum":
        return enum_choice(node.symbols, node.enum_default)
    if kind == "fixed" and isinstance(value, bytes):
        return mask_fixed(value, node.size, action, salt)
    return mask_value(value, action, salt)


_PYTHON_KINDS: dict[str, tuple[type, ...]] = {
    "null": (type(None),),
    "boolean": (bool,),
    "int": (int, datetime.date, datetime.time),
    "long": (int, datetime.datetime, datetime.time),
    "float": (float, int),
    "double": (float, int),
    "string": (str, uuid.UUID),
    "bytes": (bytes, decimal.Decimal),
    "fixed": (bytes, decimal.Decimal, uuid.UUID),
    "enum": (str,),
    "array": (list,),
    "map": (dict,),
    "record": (dict,),
}


def _fits(value: Any, node: AvroType) -> bool:
    kinds = _PYTHON_KINDS.get(node.kind, ())
    if not isinstance(value, kinds) or (isinstance(value, bool) and node.kind != "boolean"):
        return False
    if node.kind == "enum":
        return value in node.symbol_set
    if node.kind == "fixed" and isinstance(value, bytes):
        return len(value) == node.size
    if node.kind == "record":
        return isinstance(value, dict) and set(value) == {f.name for f in node.fields}
    if isinstance(value, datetime.date):  # a timestamp is a long, a date alone an int
        return isinstance(value, datetime.datetime) == (node.kind == "long")
    return True


def branch_of(value: Any, node: AvroType) -> AvroType:
    """The branch of a union a decoded value is in: the first branch its Python type fits
    (records by their field names, enums by their symbols, fixed by size), as the serde's
    writer chooses; `MaskError` when none fits."""
    for branch in node.branches:
        if _fits(value, branch):
            return branch
    raise MaskError(f"a {type(value).__name__} fits no branch of the union at {node.path}")
