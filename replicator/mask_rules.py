"""What a masked field becomes: the rules shared by every format (Avro, JSON Schema,
Protobuf). Pure.

`hash` is HMAC-SHA256 keyed with the flow's secret salt, so a masked value cannot be found by
hashing a list of likely values without the salt, and the same value under the same salt
always masks the same way (joins on masked columns still work in the test environment):
hex text for strings, the 32-byte digest for bytes, a non-negative 31-bit number for integers
(it fits every integer type of every format). `redact` gives the type's empty value. Booleans
become false and floating-point numbers 0.0 under both actions; null stays null. Values with
no useful empty form keep their type and lose their content under both actions: dates and
times become the Unix epoch (midnight for a time of day), decimals zero; a UUID becomes one
made from the hash (`hash`) or the nil UUID (`redact`).

Structures follow one rule in every format: an enumeration becomes its first symbol (or the
symbol a schema names as its fallback); a list or map is emptied by `redact`, and by `hash`
every element, and every map key, is hashed; a record or message is hashed all the way down.
"""

from __future__ import annotations

import datetime
import decimal
import hashlib
import hmac
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal, TypeVar

Action = Literal["hash", "redact"]
T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")

_EPOCH = datetime.datetime(1970, 1, 1)


class MaskError(Exception):
    """A record part that cannot be masked safely."""


def keyed_digest(salt: bytes, data: bytes) -> bytes:
    """HMAC-SHA256 of `data` under `salt`."""
    return hmac.new(salt, data, hashlib.sha256).digest()


def mask_value(value: Any, action: Action, salt: bytes) -> Any:
    """One tagged scalar's replacement; `MaskError` for a value that is not a scalar."""
    if value is None:
        return None
    if isinstance(value, bool):
        return False
    if isinstance(value, str):
        return keyed_digest(salt, value.encode()).hex() if action == "hash" else ""
    if isinstance(value, bytes):
        return keyed_digest(salt, value) if action == "hash" else b""
    if isinstance(value, int):
        if action == "redact":
            return 0
        return int.from_bytes(keyed_digest(salt, str(value).encode())[:4], "big") & 0x7FFFFFFF
    if isinstance(value, float):
        return 0.0
    return _mask_typed(value, action, salt)


def _mask_typed(value: Any, action: Action, salt: bytes) -> Any:
    if isinstance(value, datetime.datetime):
        return _EPOCH.replace(tzinfo=value.tzinfo)
    if isinstance(value, datetime.date):
        return _EPOCH.date()
    if isinstance(value, datetime.time):
        return datetime.time(0, tzinfo=value.tzinfo)
    if isinstance(value, decimal.Decimal):
        return decimal.Decimal(0).quantize(value) if value.is_finite() else decimal.Decimal(0)
    if isinstance(value, uuid.UUID):
        if action == "redact":
            return uuid.UUID(int=0)
        return uuid.UUID(bytes=keyed_digest(salt, value.bytes)[:16])
    raise MaskError(f"a tagged field holds a {type(value).__name__}: only scalars are masked")


def mask_fixed(value: bytes, size: int, action: Action, salt: bytes) -> bytes:
    """A fixed-size byte string's replacement, of the same size: zeros under `redact`, the
    keyed digest stretched by counter (HMAC-SHA256 of the counter and the value) under
    `hash`."""
    if action == "redact":
        return bytes(size)
    out = b""
    counter = 0
    while len(out) < size:
        out += keyed_digest(salt, counter.to_bytes(4, "big") + value)
        counter += 1
    return out[:size]


def enum_choice(symbols: Sequence[T], fallback: T | None = None) -> T:
    """What a tagged enumeration becomes under both actions: the schema's declared fallback
    symbol when it has one, else its first symbol (a hashed symbol would name none)."""
    return fallback if fallback is not None else symbols[0]


def mask_items(items: Iterable[T], action: Action, mask_item: Callable[[T], V]) -> list[V]:
    """A tagged list's replacement: empty under `redact`, each element masked under `hash`."""
    return [] if action == "redact" else [mask_item(item) for item in items]


def mask_entries(
    entries: Iterable[tuple[K, T]],
    action: Action,
    salt: bytes,
    mask_item: Callable[[T], V],
    mask_key: Callable[[K], K] | None = None,
) -> list[tuple[K, V]]:
    """A tagged map's replacement entries: none under `redact`; under `hash` every key is
    hashed (by `mask_value` unless `mask_key` is given) and every value masked."""
    if action == "redact":
        return []
    key_rule = mask_key or (lambda key: mask_value(key, "hash", salt))
    return [(key_rule(key), mask_item(value)) for key, value in entries]


#: The environment variable holding the masking salt when a flow names none.
SALT_ENV = "STREAMGOV_MASK_SALT"


def salt_from_env(environ: Mapping[str, str], name: str | None = None) -> str:
    """The masking salt from the environment variable `name` (default `SALT_ENV`); empty
    when unset. The value is a secret: callers never print it."""
    return environ.get(name or SALT_ENV, "")
