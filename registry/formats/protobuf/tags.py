"""Field-level tags on Protobuf fields: `[(confluent.field_meta).tags = "PII"]`."""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor, FileDescriptor
from google.protobuf.message import Message

from registry.formats.base import FieldTag

FIELD_META = "confluent.field_meta"


def _meta_tags(options: Message) -> tuple[str, ...]:
    for field, value in options.ListFields():
        if field.is_extension and field.full_name == FIELD_META:
            return tuple(str(tag) for tag in value.tags)
    return ()


def tags_of(field: FieldDescriptor) -> tuple[str, ...]:
    """The `(confluent.field_meta).tags` of one field (none when it has no such option)."""
    return _meta_tags(field.GetOptions())


def field_tags(file: FileDescriptor) -> list[FieldTag]:
    """Every field with tags in `(confluent.field_meta)`, nested messages too, in order.

    `path` is the field's place in the file: `/Message/Nested/field`.
    """
    found: list[FieldTag] = []
    stack: list[tuple[Descriptor, tuple[str, ...]]] = [
        (message, (message.name,)) for message in reversed(file.message_types_by_name.values())
    ]
    while stack:
        message, names = stack.pop()
        if message.GetOptions().map_entry:
            continue
        for field in message.fields:
            tags = _meta_tags(field.GetOptions())
            if tags:
                path = "/" + "/".join((*names, field.name))
                found.append(FieldTag(path=path, field=field.name, tags=tags))
        stack.extend((nested, (*names, nested.name)) for nested in reversed(message.nested_types))
    return found
