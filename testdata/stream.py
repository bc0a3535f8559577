"""Generated records as (key, value) pairs, ready for a serializer: the value from the
schema's generator, the key from one of its fields (`--key-field`)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

from testdata.core import GenerationError, ValueGenerator, field_value


def key_text(value: Any) -> bytes:
    """A field value as key bytes: text as is, times in ISO form, anything else by `str`."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat().encode()
    if isinstance(value, bool):
        return b"true" if value else b"false"
    return str(value).encode()


def records(
    generator: ValueGenerator, count: int | None, key_field: str | None = None
) -> Iterator[tuple[bytes | None, Any]]:
    """`count` (None: endless) (key, value) pairs; the key is None without `key_field`.
    `GenerationError` when `key_field` is not a field of the generated values."""
    made = 0
    while count is None or made < count:
        value = generator.generate()
        key = None
        if key_field is not None:
            try:
                key = key_text(field_value(value, key_field))
            except KeyError:
                raise GenerationError(
                    f"--key-field {key_field}: the schema's records have no such field"
                ) from None
        yield key, value
        made += 1
