"""Field-level tags (`confluent:tags`) on JSON Schema properties."""

from __future__ import annotations

from typing import Any

from registry.formats.base import FieldTag
from registry.formats.jsonschema.keywords import pointer, walk

TAGS_KEYWORD = "confluent:tags"


def field_tags(document: Any, draft: str) -> list[FieldTag]:
    """Every property schema carrying `confluent:tags`, nested ones too, in document order."""
    found = []
    for tokens, node in walk(document, draft):
        if len(tokens) < 2 or tokens[-2] != "properties" or not isinstance(node, dict):
            continue
        tags = node.get(TAGS_KEYWORD)
        if isinstance(tags, list) and tags:
            names = tuple(str(tag) for tag in tags)
            found.append(FieldTag(path=pointer(tokens), field=tokens[-1], tags=names))
    return found
