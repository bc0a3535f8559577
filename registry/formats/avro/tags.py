"""Field tags (`confluent:tags`) as Avro schemas write them."""

from __future__ import annotations

from typing import Any

from registry.formats.avro.model import pointer
from registry.formats.base import SchemaError

TAGS_PROPERTY = "confluent:tags"


def read_tags(value: Any, path: str) -> tuple[str, ...]:
    """The tags written as `confluent:tags` at `path`: a string or an array of strings."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(tag, str) for tag in value):
        return tuple(value)
    raise SchemaError(
        f"`{TAGS_PROPERTY}` must be an array of strings", pointer(path, TAGS_PROPERTY)
    )
