"""Masking Protobuf messages in place: every field whose tags (or catalog path) name a masked
tag is rewritten, at any depth (nested messages, repeated fields, map values, oneof members).
Pure, over decoded messages.

A tagged scalar follows `mask_rules.mask_value`; an enum becomes its first declared value
under both actions (a hashed number would name no value). A tagged repeated field or map is
emptied by `redact`; by `hash` every element, map key and value is hashed (`mask_rules`'
list and map rules, shared with Avro and JSON Schema). A tagged message field is cleared by
`redact`, and by `hash` every scalar inside it is hashed (unknown fields dropped). A scalar
that is not on the wire (unset, or at its default value without presence) stays as it is, so
masking never adds data; the oneof member that is set stays the one set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from replicator.mask_rules import Action, enum_choice, mask_entries, mask_items, mask_value

#: The action for a field (its descriptor and its path of field names from the root), or None.
ActionOf = Callable[[FieldDescriptor, tuple[str, ...]], Action | None]

_FLOATS = (FieldDescriptor.CPPTYPE_FLOAT, FieldDescriptor.CPPTYPE_DOUBLE)


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry


def reachable_fields(descriptor: Descriptor) -> Iterator[FieldDescriptor]:
    """Every field of the message and of the message types it reaches (each type once)."""
    seen = {descriptor.full_name}
    stack = [descriptor]
    while stack:
        message = stack.pop()
        for field in message.fields:
            yield field
            nested = field.message_type
            if nested is not None and nested.full_name not in seen:
                seen.add(nested.full_name)
                stack.append(nested)


def _scalar(field: FieldDescriptor, value: Any, action: Action, salt: bytes) -> Any:
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_choice(field.enum_type.values).number
    if field.cpp_type == FieldDescriptor.CPPTYPE_BOOL:
        return False
    if field.cpp_type in _FLOATS:
        return 0.0
    return mask_value(value, action, salt)


def _submessages(message: Message, field: FieldDescriptor) -> list[Message]:
    """The messages a message-typed field holds now (map values when they are messages)."""
    if _is_map(field):
        if field.message_type.fields_by_name["value"].type != FieldDescriptor.TYPE_MESSAGE:
            return []
        return list(getattr(message, field.name).values())
    if field.is_repeated:
        return list(getattr(message, field.name))
    return [getattr(message, field.name)] if message.HasField(field.name) else []


def _mask_map(message: Message, field: FieldDescriptor, action: Action, salt: bytes) -> None:
    key_field = field.message_type.fields_by_name["key"]
    value_field = field.message_type.fields_by_name["value"]

    def mask_item(value: Any) -> Any:
        if isinstance(value, Message):
            copy = type(value)()
            copy.CopyFrom(value)
            mask_everything(copy, action, salt)
            return copy
        return _scalar(value_field, value, action, salt)

    entries = mask_entries(
        list(getattr(message, field.name).items()),
        action,
        salt,
        mask_item,
        lambda key: _scalar(key_field, key, "hash", salt),
    )
    message.ClearField(field.name)
    container = getattr(message, field.name)
    for key, value in entries:
        if isinstance(value, Message):
            container[key].CopyFrom(value)
        else:
            container[key] = value


def mask_field(message: Message, field: FieldDescriptor, action: Action, salt: bytes) -> None:
    """Mask one field of `message` (see the module docstring)."""
    name = field.name
    if _is_map(field):
        _mask_map(message, field, action, salt)
    elif field.type == FieldDescriptor.TYPE_MESSAGE:
        if action == "redact":
            message.ClearField(name)
        else:
            for sub in _submessages(message, field):
                mask_everything(sub, action, salt)
    elif field.is_repeated:
        container = getattr(message, name)
        masked = mask_items(container, action, lambda value: _scalar(field, value, action, salt))
        del container[:]
        container.extend(masked)
    elif _is_set(message, field):
        setattr(message, name, _scalar(field, getattr(message, name), action, salt))


def _is_set(message: Message, field: FieldDescriptor) -> bool:
    """Whether a singular scalar is on the wire: present, or (without presence) not at its
    default value."""
    if field.has_presence:
        return message.HasField(field.name)
    return bool(getattr(message, field.name) != field.default_value)


def mask_everything(message: Message, action: Action, salt: bytes) -> None:
    """Mask every field set in `message`, all the way down; extensions and unknown fields,
    which no schema describes, are dropped."""
    message.DiscardUnknownFields()
    for field, _ in message.ListFields():
        if field.is_extension:
            message.ClearExtension(field)
        else:
            mask_field(message, field, action, salt)


def mask_message(
    message: Message, action_of: ActionOf, salt: bytes, path: tuple[str, ...] = ()
) -> None:
    """Mask, in place, every field of `message` (and below) that `action_of` names."""
    for field in message.DESCRIPTOR.fields:
        field_path = (*path, field.name)
        action = action_of(field, field_path)
        if action is not None:
            mask_field(message, field, action, salt)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            for sub in _submessages(message, field):
                mask_message(sub, action_of, salt, field_path)
