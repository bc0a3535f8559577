"""The fields of kio's generated entity classes, read once from their annotations and field
metadata (for building entities from dicts, and for walking a request by its schema)."""

from __future__ import annotations

import dataclasses
import types
from functools import cache
from typing import Any, Union, get_args, get_origin


def _inner(tp: Any) -> tuple[Any, bool]:
    """The type inside `X | None` and whether None is allowed."""
    if get_origin(tp) in (types.UnionType, Union):
        args = [a for a in get_args(tp) if a is not type(None)]
        return args[0], True
    return tp, False


@dataclasses.dataclass(frozen=True, slots=True)
class FieldPlan:
    """One field of a kio entity class, as read from its annotations and metadata."""

    name: str
    kafka_type: str
    optional: bool
    entity: type | None  # the nested entity type (of one value, or of a tuple's items)
    array: bool
    default: Any  # dataclasses.MISSING when the field has none
    tag: int | None  # its tag when it is a tagged field (flexible versions)


@cache
def field_plan(cls: type) -> tuple[FieldPlan, ...]:
    """The fields of a kio entity class in declaration (wire) order: name, Kafka type,
    whether nullable, nested or an array, default, and tag."""
    plan = []
    for f in dataclasses.fields(cls):
        tp, optional = _inner(f.type)
        array = get_origin(tp) is tuple
        item = get_args(tp)[0] if array else tp
        item, _ = _inner(item)
        entity = item if isinstance(item, type) and dataclasses.is_dataclass(item) else None
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = dataclasses.MISSING
        kind = f.metadata.get("kafka_type", "struct")
        tag = f.metadata.get("tag")
        plan.append(
            FieldPlan(
                f.name, kind, optional, entity, array, default, None if tag is None else int(tag)
            )
        )
    return tuple(plan)
