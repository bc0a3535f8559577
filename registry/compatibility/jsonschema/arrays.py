"""Rules for arrays: items, tuples and the schema for the rest, counts, `contains`."""

from __future__ import annotations

from registry.compatibility.jsonschema.diffs import Diff, Rules, Tokens, bound, diff, under
from registry.compatibility.jsonschema.model import TRUE, Node


class ArrayRules(Rules):
    """Confluent's array rules: open, closed and partially open tuples."""

    def _arrays(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_rest = w.rest if w.rest is not None else TRUE
        r_rest = r.rest if r.rest is not None else TRUE
        tuple_form = bool(w.prefix or r.prefix)
        for index in range(max(len(w.prefix), len(r.prefix))):
            w_item = w.prefix[index] if index < len(w.prefix) else None
            r_item = r.prefix[index] if index < len(r.prefix) else None
            at = (r.prefix_keyword if r.prefix else w.prefix_keyword, str(index))
            if w_item is not None and r_item is not None:
                found.extend(under(at, self.compare(w_item, r_item)))
            elif w_item is not None:
                self._item_removed(w_item, r_rest, at, found)
            elif r_item is not None:
                self._item_added(w_rest, r_item, at, found)
        keyword = r.rest_keyword if r.rest is not None else w.rest_keyword
        prefix = "UNEVALUATED_ITEMS" if keyword == "unevaluatedItems" else "ADDITIONAL_ITEMS"
        if r_rest.accepts_all:
            pass
        elif r_rest.rejects_all and not w_rest.rejects_all:
            found.append(
                diff(
                    f"{prefix}_REMOVED",
                    (keyword,),
                    f"arrays with more than {_items(len(r.prefix))} are now rejected ({{path}})",
                )
            )
        elif not tuple_form and w_rest.accepts_all:
            found.append(
                diff(
                    "SCHEMA_ADDED",
                    (keyword,),
                    "array items at {path} are now constrained; old arrays may hold other items",
                )
            )
        elif tuple_form and w_rest.accepts_all:
            found.append(
                diff(
                    f"{prefix}_NARROWED",
                    (keyword,),
                    "items after the tuple are now constrained at {path}; old arrays may hold "
                    "other items there",
                )
            )
        else:
            found.extend(under((keyword,), self.compare(w_rest, r_rest)))
        self._item_counts(w, r, found)

    def _item_removed(self, w_item: Node, r_rest: Node, at: Tokens, found: list[Diff]) -> None:
        if r_rest.accepts_all or w_item.rejects_all:
            return
        if r_rest.rejects_all:
            found.append(
                diff(
                    "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                    at,
                    "tuple position {path} was removed from a closed tuple: old arrays that "
                    "have it are rejected",
                )
            )
            return
        self.covered(
            w_item,
            r_rest,
            at,
            "ITEM_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "tuple position {path} was removed, and the schema for additional items rejects "
            "some of its old values",
            found,
        )

    def _item_added(self, w_rest: Node, r_item: Node, at: Tokens, found: list[Diff]) -> None:
        if w_rest.rejects_all or r_item.accepts_all:
            return
        if w_rest.accepts_all:
            found.append(
                diff(
                    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
                    at,
                    "tuple position {path} was added to an open tuple: old arrays may already "
                    "hold other values there",
                )
            )
            return
        self.covered(
            w_rest,
            r_item,
            at,
            "ITEM_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
            "tuple position {path} was added, but the old schema for additional items allowed "
            "values it rejects",
            found,
        )

    def _item_counts(self, w: Node, r: Node, found: list[Diff]) -> None:
        if r.max_items is not None and (w.max_items is None or r.max_items < w.max_items):
            rule = "MAX_ITEMS_ADDED" if w.max_items is None else "MAX_ITEMS_DECREASED"
            found.append(bound(rule, "maxItems", w.max_items, r.max_items))
        if r.min_items is not None and r.min_items > (w.min_items or 0):
            rule = "MIN_ITEMS_ADDED" if w.min_items is None else "MIN_ITEMS_INCREASED"
            found.append(bound(rule, "minItems", w.min_items, r.min_items))
        if r.unique_items and not w.unique_items:
            found.append(
                diff(
                    "UNIQUE_ITEMS_ADDED",
                    ("uniqueItems",),
                    "`uniqueItems` was added ({path}); old arrays may repeat items",
                )
            )
        if r.contains is None:
            return
        if w.contains is None:
            found.append(
                diff(
                    "CONTAINS_ADDED",
                    ("contains",),
                    "`contains` was added ({path}); old arrays may hold no matching item",
                )
            )
            return
        if self.compare(w.contains, r.contains):
            found.append(
                diff(
                    "CONTAINS_NARROWED",
                    ("contains",),
                    "`contains` ({path}) now matches fewer items than before",
                )
            )
        w_min = w.min_contains if w.min_contains is not None else 1
        if r.min_contains is not None and r.min_contains > w_min:
            rule = "MIN_CONTAINS_ADDED" if w.min_contains is None else "MIN_CONTAINS_INCREASED"
            found.append(bound(rule, "minContains", w.min_contains, r.min_contains))
        if r.max_contains is not None and (
            w.max_contains is None or r.max_contains < w.max_contains
        ):
            rule = "MAX_CONTAINS_ADDED" if w.max_contains is None else "MAX_CONTAINS_DECREASED"
            found.append(bound(rule, "maxContains", w.max_contains, r.max_contains))


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"
