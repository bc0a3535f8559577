"""`$ref` resolution confined to the schema itself and the references given with it.

A `referencing.Registry` holds the root document and every given reference (by its name);
its retrieve function refuses, so no URL is ever fetched. Every reference in the schema is
resolved up front, so a dangling or remote `$ref` fails at parse time with its location.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import referencing.jsonschema as rj
from referencing import Registry, Resource
from referencing._core import Resolver
from referencing.exceptions import NoSuchResource, Unresolvable

from registry.formats.base import Limits, ResolvedReference, SchemaError
from registry.formats.jsonschema.keywords import REFS, pointer, subschemas, walk
from registry.formats.jsonschema.loading import (
    DRAFT4,
    DRAFT6,
    DRAFT7,
    DRAFT2019,
    DRAFT2020,
    draft_of,
    load_json,
)

SPECIFICATIONS = {
    DRAFT4: rj.DRAFT4,
    DRAFT6: rj.DRAFT6,
    DRAFT7: rj.DRAFT7,
    DRAFT2019: rj.DRAFT201909,
    DRAFT2020: rj.DRAFT202012,
}


def _refuse(uri: str) -> Resource[Any]:
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


@dataclass(frozen=True, slots=True)
class Document:
    """One loaded JSON Schema document (the root or a given reference) and its draft."""

    name: str
    contents: Any
    draft: str


@dataclass(slots=True)
class ResolvedRefs:
    """Where each `$ref` points: keyed by `id()` of the schema object carrying it and the
    reference keyword."""

    targets: dict[tuple[int, str], Any]
    drafts: dict[int, str]
    registry: Registry[Any]

    def target(self, node: dict[str, Any], keyword: str = "$ref") -> Any:
        """The schema `node`'s `$ref` (or other reference `keyword`) resolves to."""
        return self.targets[(id(node), keyword)]

    def draft(self, node: Any, default: str) -> str:
        """The draft of the document `node` belongs to."""
        return self.drafts.get(id(node), default)


def load_references(
    references: Sequence[ResolvedReference], default_draft: str, limits: Limits
) -> list[Document]:
    """Load each given reference's schema text, with the same bounds as the root."""
    if len(references) > limits.max_references:
        raise SchemaError(
            f"schema has {len(references)} references, over the limit of {limits.max_references}"
        )
    documents = []
    for reference in references:
        what = f"referenced schema {reference.name!r}"
        if len(reference.schema.encode("utf-8")) > limits.max_schema_bytes:
            raise SchemaError(
                f"{what} is over the limit of {limits.max_schema_bytes} bytes",
                origin=reference.name,
            )
        try:
            contents = load_json(reference.schema, limits, what)
        except SchemaError as exc:
            raise SchemaError(exc.reason, exc.path, origin=reference.name) from None
        if not isinstance(contents, dict | bool):
            raise SchemaError(f"{what} must be a JSON object or boolean", origin=reference.name)
        documents.append(Document(reference.name, contents, draft_of(contents, default_draft)))
    return documents


def resolve_references(root: Document, references: Sequence[Document]) -> ResolvedRefs:
    """Resolve every `$ref` reachable from `root`; `SchemaError` names any that cannot be."""
    root_resource = SPECIFICATIONS[root.draft].create_resource(root.contents)
    base = root_resource.id() or ""
    registry: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]
    drafts: dict[int, str] = {}
    for document in (root, *references):
        resource = SPECIFICATIONS[document.draft].create_resource(document.contents)
        if document is not root:
            names = {document.name, urljoin(base, document.name)} if base else {document.name}
            if resource.id():
                names.add(resource.id() or "")
            registry = registry.with_resources((name, resource) for name in names if name)
        for _, node in walk(document.contents, document.draft):
            drafts[id(node)] = document.draft
    registry = registry.crawl()
    resolver = registry.resolver_with_root(root_resource)
    targets: dict[tuple[int, str], Any] = {}
    seen: set[int] = set()
    work: list[tuple[Any, Resolver[Any], str, str]] = [(root.contents, resolver, root.draft, "")]
    while work:
        node, node_resolver, draft, where = work.pop()
        if id(node) not in seen:
            _resolve_tree(node, node_resolver, draft, where, targets, drafts, work, seen)
    return ResolvedRefs(targets, drafts, registry)


def _resolve_tree(
    top: Any,
    resolver: Resolver[Any],
    draft: str,
    where: str,
    targets: dict[tuple[int, str], Any],
    drafts: dict[int, str],
    work: list[tuple[Any, Resolver[Any], str, str]],
    seen: set[int],
) -> None:
    specification = SPECIFICATIONS[draft]
    stack: list[tuple[tuple[str, ...], Any, Resolver[Any]]] = [((), top, resolver)]
    while stack:
        tokens, node, node_resolver = stack.pop()
        seen.add(id(node))
        if not isinstance(node, dict):
            continue
        if tokens and ("$id" in node or "id" in node):
            resource = specification.create_resource(node)
            if resource.id() is not None:
                node_resolver = node_resolver.in_subresource(resource)
        for keyword in REFS[draft]:
            if keyword not in node:
                continue
            ref = node[keyword]
            location = where + pointer((*tokens, keyword))
            if not isinstance(ref, str):
                raise SchemaError(f"`{keyword}` must be a string", location)
            try:
                resolved = node_resolver.lookup(ref)
            except Unresolvable as error:
                raise SchemaError(_unresolvable(ref, error), location) from None
            if not isinstance(resolved.contents, dict | bool):
                raise SchemaError(f"`{keyword}` {ref!r} does not point to a schema", location)
            targets[(id(node), keyword)] = resolved.contents
            target_draft = drafts.get(id(resolved.contents), draft)
            work.append((resolved.contents, resolved.resolver, target_draft, f"{ref} -> "))
        stack.extend((tokens + rel, child, node_resolver) for rel, child in subschemas(node, draft))


def _unresolvable(ref: str, error: Unresolvable) -> str:
    if ref.startswith("#"):
        return f"`$ref` {ref!r} points to nothing inside the schema"
    return (
        f"`$ref` {ref!r} is not allowed: references resolve only inside the schema or to the "
        "schema references registered with it (by their name), and are never fetched"
    )
