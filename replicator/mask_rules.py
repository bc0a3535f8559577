"""What a masked field becomes: the rules for one scalar, and for a field at a path in a
decoded Avro or JSON Schema value. Pure.

`hash` is HMAC-SHA256 keyed with the flow's secret salt, so a masked value cannot be found by
hashing a list of likely values without the salt, and the same value under the same salt
always masks the same way (joins on masked columns still work in the test environment):
hex text for strings, the 32-byte digest for bytes, a non-negative 31-bit number for integers
(it fits every integer type of every format). `redact` gives the type's empty value. Booleans
become false and floating-point numbers 0.0 under both actions; null stays null.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Literal

Action = Literal["hash", "redact"]


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
    raise MaskError(f"a tagged field holds a {type(value).__name__}: only scalars are masked")


def rewrite(document: Any, path: tuple[str, ...], action: Action, salt: bytes) -> Any:
    """`document` with the field at `path` masked (through arrays: every element)."""
    if isinstance(document, list):
        return [rewrite(item, path, action, salt) for item in document]
    if not path:
        return mask_value(document, action, salt)
    if not isinstance(document, dict) or path[0] not in document:
        return document
    out = dict(document)
    out[path[0]] = rewrite(document[path[0]], path[1:], action, salt)
    return out


#: The environment variable holding the masking salt when a flow names none.
SALT_ENV = "STREAMGOV_MASK_SALT"


def salt_from_env(environ: Mapping[str, str], name: str | None = None) -> str:
    """The masking salt from the environment variable `name` (default `SALT_ENV`); empty
    when unset. The value is a secret: callers never print it."""
    return environ.get(name or SALT_ENV, "")
