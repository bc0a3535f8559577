"""Meta-schema validation, one schema object at a time.

A JSON Schema is valid when every schema object in it is valid against the meta-schema with
its subschemas taken as given: the meta-schema checks each subschema separately, through
its own reference back to itself. So each object is validated shallowly (its subschemas
replaced by `{}`), objects are validated in document order, and results for identical
shallow objects are remembered across documents (descriptions and titles, which the
meta-schemas only require to be strings, do not count). Repeated shapes, like the hundreds
of similar properties of a large schema or the many versions of one subject, are checked
once; nothing recurses, whatever the depth.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator

from registry.formats.base import SchemaError
from registry.formats.jsonschema.keywords import LIST, MAP, SINGLE, pointer, walk
from registry.formats.jsonschema.loading import VALIDATORS

_STRING_ANNOTATIONS = ("title", "description", "$comment")
_VALID: dict[str, set[str]] = {draft: set() for draft in VALIDATORS}
_VALID_LIMIT = 50_000
_VALIDATORS: dict[str, Validator] = {}


def _validator(draft: str) -> Validator:
    validator = _VALIDATORS.get(draft)
    if validator is None:
        cls = VALIDATORS[draft]
        validator = cls(cls.META_SCHEMA, format_checker=cls.FORMAT_CHECKER)
        _VALIDATORS[draft] = validator
    return validator


def _shallow(node: dict[str, Any], draft: str) -> dict[str, Any]:
    """`node` with each subschema object replaced by `{}` and string annotations blanked.

    Boolean subschemas stay: draft 4 accepts them in some places only, which the
    meta-schema checks in place.
    """
    single, listed, mapped = SINGLE[draft], LIST[draft], MAP[draft]
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in single and isinstance(value, dict):
            value = {}
        elif key in listed and isinstance(value, list):
            value = [{} if isinstance(item, dict) else item for item in value]
        elif key in mapped and isinstance(value, dict):
            value = {name: {} if isinstance(item, dict) else item for name, item in value.items()}
        elif key in _STRING_ANNOTATIONS and isinstance(value, str):
            value = ""
        out[key] = value
    return out


def check_against_meta_schema(document: Any, draft: str) -> None:
    """Raise `SchemaError` naming the first place where `document` breaks its meta-schema."""
    if not isinstance(document, dict):
        _raise_first_error(document, draft, ())
        return
    known = _VALID[draft]
    for tokens, node in walk(document, draft):
        if not isinstance(node, dict):
            continue
        shallow = _shallow(node, draft)
        key = json.dumps(shallow, sort_keys=True, separators=(",", ":"))
        if key in known:
            continue
        _raise_first_error(shallow, draft, tokens)
        if len(known) >= _VALID_LIMIT:
            known.clear()
        known.add(key)


def _raise_first_error(node: Any, draft: str, tokens: tuple[str, ...]) -> None:
    error = best_match(_validator(draft).iter_errors(node))
    if error is not None:
        where = pointer([*tokens, *(str(token) for token in error.path)])
        raise SchemaError(f"not a valid {draft} JSON Schema: {error.message}", where)
