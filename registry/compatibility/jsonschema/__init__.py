"""JSON Schema compatibility, with Confluent's rules and rule names.

`incompatibilities(reader, writer)` lists why the reader schema rejects data that is valid
under the writer schema (empty when it accepts all of it).
"""

from __future__ import annotations

from registry.compatibility import Incompatibility
from registry.compatibility.jsonschema.compare import Comparison
from registry.compatibility.jsonschema.messages import sentence
from registry.compatibility.jsonschema.model import root_node
from registry.formats.base import ParsedSchema
from registry.formats.jsonschema import JsonSchema
from registry.formats.jsonschema.keywords import pointer


def incompatibilities(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why `reader` cannot read every instance written under `writer`, in schema order."""
    if not isinstance(reader, JsonSchema) or not isinstance(writer, JsonSchema):
        raise TypeError("JSON Schema compatibility needs two parsed JSON schemas")
    diffs = Comparison().compare(root_node(writer), root_node(reader))
    found: list[Incompatibility] = []
    seen: set[tuple[str, str]] = set()
    for rule, tokens, detail in diffs:
        path = pointer(tokens)
        if (rule, path) in seen:
            continue
        seen.add((rule, path))
        found.append(Incompatibility(rule=rule, path=path, message=sentence(rule, path, detail)))
    return found


__all__ = ["incompatibilities"]
