"""Resolving a schema's references to the texts a parser needs, dependencies first."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from registry.check.config import ReferenceSpec
from registry.formats import DEFAULT_LIMITS, Limits, ResolvedReference


class UnresolvedReferenceError(ValueError):
    """A reference cannot be resolved; the message names it and why."""


@dataclass(frozen=True, slots=True)
class Referenced:
    """What a lookup finds for a reference: the text, its version, and its own references."""

    text: str
    version: int
    references: tuple[ReferenceSpec, ...] = ()


#: (subject, pinned version or None for "the one in this tree" / latest) -> found or None.
Lookup = Callable[[str, int | None], Referenced | None]


def resolve(
    specs: Sequence[ReferenceSpec], lookup: Lookup, limits: Limits = DEFAULT_LIMITS
) -> tuple[ResolvedReference, ...]:
    """The transitive closure of `specs`, dependencies before the schemas that use them."""
    ordered: list[ResolvedReference] = []
    done: set[tuple[str, str]] = set()

    def visit(spec: ReferenceSpec, trail: tuple[str, ...]) -> None:
        key = (spec.name, spec.subject)
        if key in done:
            return
        if spec.subject in trail:
            chain = " -> ".join((*trail, spec.subject))
            raise UnresolvedReferenceError(f"references form a cycle: {chain}")
        if len(trail) >= limits.max_depth:
            raise UnresolvedReferenceError(f"references nest deeper than {limits.max_depth}")
        found = lookup(spec.subject, spec.version)
        if found is None:
            pinned = f" version {spec.version}" if spec.version is not None else ""
            raise UnresolvedReferenceError(
                f"reference {spec.name!r} names subject {spec.subject!r}{pinned}, "
                "which is not found"
            )
        for child in found.references:
            visit(child, (*trail, spec.subject))
        done.add(key)
        ordered.append(ResolvedReference(spec.name, spec.subject, found.version, found.text))
        if len(ordered) > limits.max_references:
            raise UnresolvedReferenceError(f"more than {limits.max_references} references")

    for spec in specs:
        visit(spec, ())
    return tuple(ordered)
