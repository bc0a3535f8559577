"""JSON Schema compatibility, with Confluent's rules and rule names.

`incompatibilities(reader, writer)` lists why the reader schema rejects data that is valid
under the writer schema (empty when it accepts all of it).
"""

from __future__ import annotations

from registry.compatibility import Incompatibility
from registry.compatibility.jsonschema.compare import TOO_DEEP, Comparison
from registry.compatibility.jsonschema.messages import sentence
from registry.compatibility.jsonschema.model import root_node
from registry.formats.base import DEFAULT_LIMITS, ParsedSchema
from registry.formats.jsonschema import JsonSchema
from registry.formats.jsonschema.keywords import pointer
from registry.formats.jsonschema.loading import ensure_recursion_headroom


def incompatibilities(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why `reader` cannot read every instance written under `writer`: one entry per rule and
    path, in a deterministic order (keywords in a fixed order, properties by name)."""
    if not isinstance(reader, JsonSchema) or not isinstance(writer, JsonSchema):
        raise TypeError("JSON Schema compatibility needs two parsed JSON schemas")
    # Comparison recurses a few frames per nesting level and `$ref` hop (bounded in compare).
    ensure_recursion_headroom(DEFAULT_LIMITS.max_depth)
    try:
        old, new = root_node(writer), root_node(reader)
        if (old.has_refs or new.has_refs) and _same_text(reader, writer):
            return []  # equal nodes without references are the same node: compared at once
        diffs = Comparison().compare(old, new)
    except RecursionError:  # only with nesting limits raised far beyond the defaults
        diffs = ((TOO_DEEP, (), "the schemas nest too deeply to compare at {path}"),)
    found: dict[tuple[str, str, str], Incompatibility] = {}
    for rule, tokens, detail in diffs:
        path = pointer(tokens)
        message = sentence(rule, path, detail)
        found.setdefault((rule, path, message), Incompatibility(rule, path, message))
    return list(found.values())


def _same_text(a: JsonSchema, b: JsonSchema) -> bool:
    """Equal parsing forms and references: the same schema, whatever its depth."""
    return a.parsing_form() == b.parsing_form() and [
        (ref.name, ref.schema) for ref in a.references
    ] == [(ref.name, ref.schema) for ref in b.references]


__all__ = ["incompatibilities"]
