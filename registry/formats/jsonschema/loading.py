"""Bounded JSON loading and draft detection for JSON Schema documents: pure, no I/O."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from jsonschema import (
    Draft4Validator,
    Draft6Validator,
    Draft7Validator,
    Draft201909Validator,
    Draft202012Validator,
)
from jsonschema.protocols import Validator

from registry.formats.base import Limits, SchemaError

DRAFT4 = "draft-04"
DRAFT6 = "draft-06"
DRAFT7 = "draft-07"
DRAFT2019 = "2019-09"
DRAFT2020 = "2020-12"

VALIDATORS: dict[str, type[Validator]] = {
    DRAFT4: Draft4Validator,
    DRAFT6: Draft6Validator,
    DRAFT7: Draft7Validator,
    DRAFT2019: Draft201909Validator,
    DRAFT2020: Draft202012Validator,
}

_DIALECTS = {
    "json-schema.org/draft-04/schema": DRAFT4,
    "json-schema.org/draft-06/schema": DRAFT6,
    "json-schema.org/draft-07/schema": DRAFT7,
    "json-schema.org/draft/2019-09/schema": DRAFT2019,
    "json-schema.org/draft/2020-12/schema": DRAFT2020,
}
DEFAULT_DRAFT = DRAFT7

# Strings (with escapes) are skipped when measuring nesting, so brackets inside them don't count.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


def nesting_depth(text: str) -> int:
    """The deepest array/object nesting in JSON text, measured without parsing it."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRING.sub("", text)):
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _reject_constant(name: str) -> Any:
    raise SchemaError(f"schema is not valid JSON: {name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise SchemaError(f"schema holds the number {text[:40]}, too large to represent")
    return value


def load_json(text: str, limits: Limits, what: str = "schema") -> Any:
    """Parse JSON text after checking its nesting depth, so hostile input cannot recurse deeply."""
    depth = nesting_depth(text)
    if depth > limits.max_depth:
        raise SchemaError(f"{what} nests {depth} levels deep, over the limit of {limits.max_depth}")
    ensure_recursion_headroom(limits.max_depth)
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        raise SchemaError(
            f"{what} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except SchemaError:
        raise
    except ValueError as error:  # e.g. an integer literal beyond the interpreter's digit limit
        raise SchemaError(f"{what} is not usable JSON: {error}") from None
    except RecursionError:  # only with a depth limit raised far beyond the default
        raise SchemaError(f"{what} nests too deeply") from None


def draft_of(document: Any, default: str = DEFAULT_DRAFT) -> str:
    """The draft named by `$schema` (default draft 7); unknown dialects are an error."""
    if not isinstance(document, dict) or "$schema" not in document:
        return default
    uri = document["$schema"]
    if not isinstance(uri, str):
        raise SchemaError("`$schema` must be a string naming a JSON Schema draft", "/$schema")
    key = re.sub(r"^https?://", "", uri.strip()).rstrip("#")
    if key not in _DIALECTS:
        known = ", ".join(f"http://{name}#" for name in _DIALECTS)
        raise SchemaError(f"unsupported `$schema` {uri!r}: expected one of {known}", "/$schema")
    return _DIALECTS[key]


def ensure_recursion_headroom(depth: int) -> None:
    """Raise the interpreter's recursion ceiling enough to validate `depth` nested levels.

    Meta-schema validation recurses through several frames per nesting level; the ceiling is
    only ever raised, never lowered, so concurrent callers cannot undercut each other.
    """
    # Capped: a far higher ceiling would let deep recursion overflow the C stack instead.
    needed = min(2000 + depth * 40, 20_000)
    if sys.getrecursionlimit() < needed:
        sys.setrecursionlimit(needed)
