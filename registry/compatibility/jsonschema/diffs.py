"""The findings comparisons produce, and the base the rule families share."""

from __future__ import annotations

from typing import Any

from registry.compatibility.jsonschema.model import Node

Tokens = tuple[str, ...]
Diff = tuple[str, Tokens, str]
"""(rule, JSON pointer tokens relative to the pair compared, detail with `{path}`)."""
Diffs = tuple[Diff, ...]
NONE: Diffs = ()


def diff(rule: str, tokens: Tokens, detail: str) -> Diff:
    """One finding."""
    return (rule, tokens, detail)


def under(prefix: Tokens, diffs: Diffs) -> Diffs:
    """Findings of a nested pair, re-rooted at `prefix`."""
    if not prefix or not diffs:
        return diffs
    return tuple((rule, prefix + tokens, detail) for rule, tokens, detail in diffs)


def names(types: frozenset[str] | set[str]) -> str:
    """A list of names for a sentence."""
    return ", ".join(f"`{name}`" for name in sorted(types))


def bound(rule: str, keyword: str, old: Any, new: Any) -> Diff:
    """A finding about a numeric keyword that went from `old` to `new`."""
    was = "absent" if old is None else f"{old}"
    return diff(
        rule,
        (keyword,),
        f"`{keyword}` went from {was} to {new} ({{path}}), so old data may fall outside it",
    )


class Rules:
    """What the rule families need from the comparison that drives them."""

    def compare(self, writer: Node, reader: Node) -> Diffs:
        """Why `reader` rejects instances `writer` accepts; empty if none."""
        raise NotImplementedError

    def covered(
        self, w: Node, r: Node, at: Tokens, rule: str, detail: str, found: list[Diff]
    ) -> None:
        """A property or tuple position moved between an explicit schema and the schema for
        the rest: compatible when the reader's side accepts all the writer's side did."""
        diffs = self.compare(w, r)
        if diffs:
            found.extend(under(at, diffs))
            found.append(diff(rule, at, detail))
