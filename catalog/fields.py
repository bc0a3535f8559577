"""The fields of a stream's schemas and their tags: schema tags (`confluent:tags`) merged with
tags the catalog declares on fields. Pure, over parsed schemas handed in by a `SchemaSource`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from catalog.model import Stream, Tag
from registry.formats.base import ParsedSchema

#: How deep the field walk goes into nested records (schemas are depth-limited already).
_MAX_DEPTH = 64


class SchemaSource(Protocol):
    """Where the catalog reads the latest schema of a subject from."""

    def latest(self, subject: str) -> ParsedSchema | None:
        """The newest live schema of the subject, or None when it has none."""
        ...


@dataclass(frozen=True, slots=True)
class FieldInfo:
    """One field of a stream's key or value schema with its tags."""

    part: str  # "key" or "value"
    path: str  # dotted field path, for example "customer.email"
    tags: tuple[Tag, ...]

    def to_dict(self) -> dict[str, object]:
        """JSON form for the REST API and the CLI."""
        return {"part": self.part, "path": self.path, "tags": [str(t) for t in self.tags]}


def stream_fields(stream: Stream, schemas: SchemaSource | None) -> list[FieldInfo]:
    """Every field of the stream's key and value schemas (when registered), with the schema's
    tags merged with the tags the catalog declares on fields (value fields by default; a path
    starting with `key.` names a key field)."""
    out: list[FieldInfo] = []
    for part, subject in zip(("key", "value"), stream.subjects(), strict=True):
        parsed = schemas.latest(subject) if schemas is not None else None
        if parsed is not None:
            out.extend(schema_fields(parsed, part))
    declared = dict(stream.field_tags)
    merged: list[FieldInfo] = []
    for info in out:
        extra = declared.pop(info.path if info.part == "value" else f"key.{info.path}", ())
        merged.append(FieldInfo(info.part, info.path, tuple(sorted(set(info.tags) | set(extra)))))
    for path, tags in sorted(declared.items()):
        part, _, rest = path.partition(".")
        if part == "key" and rest:
            merged.append(FieldInfo("key", rest, tags))
        else:
            merged.append(FieldInfo("value", path, tags))
    return merged


def schema_fields(parsed: ParsedSchema, part: str = "value") -> list[FieldInfo]:
    """The fields of one schema in schema order, each with its `confluent:tags`."""
    try:
        document = json.loads(parsed.raw)
    except ValueError:
        document = None
    tagged: dict[str, tuple[Tag, ...]] = {}
    for field_tag in parsed.field_tags():
        tags = []
        for text in field_tag.tags:
            try:
                tags.append(Tag.parse(text))
            except ValueError:
                tags.append(Tag(text.strip().lower()[:64] or "tag"))
        tagged[_pointer_to_path(document, field_tag.path)] = tuple(sorted(set(tags)))
    paths = list(dict.fromkeys([*_walk(document, (), 0), *tagged]))
    return [FieldInfo(part, path, tagged.get(path, ())) for path in paths]


def _walk(node: Any, prefix: tuple[str, ...], depth: int) -> Iterator[str]:
    """Dotted paths of Avro record fields and JSON Schema properties."""
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, prefix, depth + 1)
        return
    if not isinstance(node, dict):
        return
    fields = node.get("fields")
    if node.get("type") == "record" and isinstance(fields, list):
        for field in fields:
            if isinstance(field, dict) and isinstance(field.get("name"), str):
                path = (*prefix, field["name"])
                yield ".".join(path)
                yield from _walk(field.get("type"), path, depth + 1)
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            path = (*prefix, str(name))
            yield ".".join(path)
            yield from _walk(sub, path, depth + 1)
    for key in ("type", "items", "values", "additionalProperties"):
        if key in node and key != "properties":
            yield from _walk(node[key], prefix, depth + 1)
    for key in ("$defs", "definitions"):
        if isinstance(node.get(key), dict):
            for sub in node[key].values():
                yield from _walk(sub, prefix, depth + 1)


def _pointer_to_path(document: Any, pointer: str) -> str:
    """The dotted field path a JSON pointer into the schema names: Avro pointers step through
    `fields/N` (the field's name is read from the document), JSON Schema pointers through
    `properties/NAME`."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/") if p]
    names: list[str] = []
    node = document
    previous = ""
    for part in parts:
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if (
                previous == "fields"
                and isinstance(node, dict)
                and isinstance(node.get("name"), str)
            ):
                names.append(node["name"])
        elif isinstance(node, dict) and part in node:
            node = node[part]
            if previous == "properties":
                names.append(part)
        else:
            node = None
            if previous == "properties":
                names.append(part)
        previous = part
    return ".".join(names) if names else pointer


def tagged_fields(fields: list[FieldInfo], tag: str) -> list[FieldInfo]:
    """The fields that carry `tag`."""
    return [f for f in fields if any(t.name == tag for t in f.tags)]
