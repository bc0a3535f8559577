"""Whether every instance valid under a writer schema is valid under a reader schema.

The rules and their names follow Confluent's JSON Schema checker (`json.diff`): content
models (open, closed, partially open through `additionalProperties`/`patternProperties`),
required properties, types (integer within number), enums, bounds, tuples, combinators,
`not` and references. Where Confluent's structural rules give up (a combinator on one side
only), the comparison falls back to sound sufficient conditions. Only incompatible changes
are reported. Results for a pair of nodes are memoised by identity across calls; pairs on a
`$ref` cycle are assumed compatible while in progress (the co-inductive reading) and results
that depended on such an assumption are not memoised.
"""

from __future__ import annotations

from registry.compatibility.jsonschema import scalars
from registry.compatibility.jsonschema.arrays import ArrayRules
from registry.compatibility.jsonschema.diffs import NONE, Diff, Diffs, diff, under
from registry.compatibility.jsonschema.merge import deref, flatten
from registry.compatibility.jsonschema.model import Node, settle
from registry.compatibility.jsonschema.objects import ObjectRules

# Shared across comparisons, for nodes without `$ref`s only: such nodes hold no document, so
# the table cannot keep parsed schemas alive. Bounded; cleared when full.
_MEMO: dict[tuple[Node, Node], Diffs] = {}
_MEMO_LIMIT = 20_000
_MAX_DEPTH = 400
TOO_DEEP = "COMPARISON_TOO_DEEP"


class Comparison(ObjectRules, ArrayRules):
    """One top-level comparison: the stack of pairs in progress, for cycle detection."""

    def __init__(self) -> None:
        self._stack: dict[tuple[Node, Node], int] = {}
        self._local: dict[tuple[Node, Node], Diffs] = {}
        self._low = _MAX_DEPTH * 2

    def compare(self, writer: Node, reader: Node) -> Diffs:
        """Why `reader` rejects instances `writer` accepts (relative paths); empty if none."""
        writer, reader = deref(writer), deref(reader)
        if reader.accepts_all or writer.rejects_all or writer is reader:
            return NONE
        key = (writer, reader)
        shared = not (writer.has_refs or reader.has_refs)
        cached = (_MEMO if shared else self._local).get(key)
        if cached is not None:
            return cached
        depth = self._stack.get(key)
        if depth is not None:
            self._low = min(self._low, depth)
            return NONE
        if len(self._stack) >= _MAX_DEPTH:
            return (
                diff(
                    TOO_DEEP,
                    (),
                    "the schemas nest or reference each other too deeply to compare at {path}",
                ),
            )
        mine = len(self._stack)
        self._stack[key] = mine
        outer_low, self._low = self._low, _MAX_DEPTH * 2
        try:
            result = self._compare(writer, reader)
        finally:
            del self._stack[key]
        inner_low = self._low
        if inner_low >= mine:
            if not shared:
                self._local[key] = result
            else:
                if len(_MEMO) >= _MEMO_LIMIT:
                    _MEMO.clear()
                _MEMO[key] = result
            self._low = outer_low
        else:
            self._low = min(outer_low, inner_low)
        return result

    # -- dispatch ---------------------------------------------------------------------------

    def _compare(self, w: Node, r: Node) -> Diffs:
        if w.ref is not None:
            return self.compare(w.ref.node, r)
        if r.ref is not None:
            return self.compare(w, r.ref.node)
        flat_w, flat_r = settle(flatten(w)), settle(flatten(r))
        if flat_w is not w or flat_r is not r:
            return self.compare(flat_w, flat_r)
        if r.rejects_all:
            return (diff("TYPE_CHANGED", (), "the new schema rejects every value at {path}"),)
        w_comb, r_comb = w.combinator, r.combinator
        if r_comb is not None and w_comb is None and not w.has_applicators:
            return self._into_combinator(w, *r_comb)
        if w_comb is not None and r_comb is None and not r.has_applicators:
            return self._from_combinator(*w_comb, r)
        if w_comb is not None and r_comb is not None and w_comb[0] != r_comb[0]:
            return self._combinator_changed(w_comb, r_comb)
        found: list[Diff] = []
        self._own(w.own or w, r.own or r, found)
        self._applicators(w, r, found)
        self._unsettled(w, r, found)
        return tuple(found)

    def _unsettled(self, w: Node, r: Node, found: list[Diff]) -> None:
        """`unevaluated*` next to subschemas that evaluate too: what is left for it depends
        on which subschemas match. Safe only when the writer has the same keyword and the
        same subschemas and the reader lists at least the writer's properties or items (so
        less is left unevaluated); otherwise reported. On the writer side it is ignored,
        which only makes the writer look more permissive."""
        same_subschemas = (w.all_of, w.any_of, w.one_of, w.if_, w.then, w.else_) == (
            r.all_of,
            r.any_of,
            r.one_of,
            r.if_,
            r.then,
            r.else_,
        ) and (w.ref, w.dependent_schemas, w.contains) == (r.ref, r.dependent_schemas, r.contains)
        if r.unevaluated_properties is not None and not (
            same_subschemas
            and w.unevaluated_properties is r.unevaluated_properties
            and set(w.props) <= set(r.props)
            and {p for p, _ in w.pattern_properties} <= {p for p, _ in r.pattern_properties}
        ):
            found.append(
                diff(
                    "UNEVALUATED_PROPERTIES_NARROWED",
                    ("unevaluatedProperties",),
                    "`unevaluatedProperties` ({path}) now applies to properties the old schema "
                    "accepted otherwise",
                )
            )
        if r.unevaluated_items is not None and not (
            same_subschemas
            and w.unevaluated_items is r.unevaluated_items
            and len(w.prefix) <= len(r.prefix)
        ):
            found.append(
                diff(
                    "UNEVALUATED_ITEMS_NARROWED",
                    ("unevaluatedItems",),
                    "`unevaluatedItems` ({path}) now applies to items the old schema accepted "
                    "otherwise",
                )
            )

    # -- combinators --------------------------------------------------------------------------

    def _into_combinator(self, w: Node, keyword: str, branches: tuple[Node, ...]) -> Diffs:
        if keyword == "allOf":
            found: list[Diff] = []
            for index, branch in enumerate(branches):
                found.extend(under((keyword, str(index)), self.compare(w, branch)))
            return tuple(found)
        best: Diffs | None = None
        best_index = 0
        for index, branch in enumerate(branches):
            diffs = self.compare(w, branch)
            if not diffs:
                return NONE
            if best is None or len(diffs) < len(best):
                best, best_index = diffs, index
        return under((keyword, str(best_index)), best or NONE)

    def _from_combinator(self, keyword: str, branches: tuple[Node, ...], r: Node) -> Diffs:
        if keyword == "allOf":
            best: Diffs | None = None
            for branch in branches:
                diffs = self.compare(branch, r)
                if not diffs:
                    return NONE
                if best is None or len(diffs) < len(best):
                    best = diffs
            return best or NONE
        found: list[Diff] = []
        for index, branch in enumerate(branches):
            for rule, tokens, detail in self.compare(branch, r):
                found.append((rule, tokens, f"old `{keyword}` alternative {index}: {detail}"))
        return tuple(found)

    def _combinator_changed(
        self, w_comb: tuple[str, tuple[Node, ...]], r_comb: tuple[str, tuple[Node, ...]]
    ) -> Diffs:
        (w_key, w_branches), (r_key, r_branches) = w_comb, r_comb
        changed = diff(
            "COMBINED_TYPE_CHANGED",
            (),
            f"the combinator at {{path}} changed from `{w_key}` to `{r_key}`, and old data "
            "may not satisfy the new one",
        )
        if w_key == "allOf":
            for w_branch in w_branches:
                for r_branch in r_branches:
                    if not self.compare(w_branch, r_branch):
                        return NONE
            return (changed,)
        if r_key == "allOf":
            ok = all(not self.compare(wb, rb) for rb in r_branches for wb in w_branches)
            return NONE if ok else (changed,)
        if r_key == "oneOf" and len(w_branches) > 1:
            return (changed,)
        return self._sum_coverage(w_branches, r_key, r_branches)

    def _sum_coverage(
        self, w_branches: tuple[Node, ...], r_key: str, r_branches: tuple[Node, ...]
    ) -> Diffs:
        found: list[Diff] = []
        for index, w_branch in enumerate(w_branches):
            if any(not self.compare(w_branch, r_branch) for r_branch in r_branches):
                continue
            rule = (
                "SUM_TYPE_NARROWED"
                if len(r_branches) < len(w_branches)
                else "COMBINED_TYPE_SUBSCHEMAS_CHANGED"
            )
            found.append(
                diff(
                    rule,
                    (r_key,),
                    f"alternative {index} of the old `{r_key}` at {{path}} matches no "
                    "alternative of the new one, so old data of that shape is rejected",
                )
            )
        return tuple(found)

    def _applicators(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_own = w.own or w
        if r.all_of:
            for index, r_branch in enumerate(r.all_of):
                if any(not self.compare(wb, r_branch) for wb in w.all_of):
                    continue
                diffs = self.compare(w_own, r_branch)
                if diffs and index < len(w.all_of):
                    diffs = self.compare(w.all_of[index], r_branch)
                found.extend(under(("allOf", str(index)), diffs))
        for keyword, w_branches, r_branches in (
            ("anyOf", w.any_of, r.any_of),
            ("oneOf", w.one_of, r.one_of),
        ):
            if not r_branches:
                continue
            if w_branches:
                found.extend(self._sum_coverage(w_branches, keyword, r_branches))
            else:
                found.extend(self._into_combinator(w_own, keyword, r_branches))
        if r.not_ is not None:
            if w.not_ is None:
                found.append(
                    diff(
                        "NOT_TYPE_EXTENDED",
                        ("not",),
                        "the new schema adds `not` at {path}, which old data may match",
                    )
                )
            elif self.compare(r.not_, w.not_):
                found.append(
                    diff(
                        "NOT_TYPE_EXTENDED",
                        ("not",),
                        "`not` ({path}) now excludes values the old schema allowed",
                    )
                )
        if r.if_ is not None:
            self._conditional(w, r, found)

    def _conditional(self, w: Node, r: Node, found: list[Diff]) -> None:
        assert r.then is not None and r.else_ is not None
        if w.if_ is r.if_ and w.then is not None and w.else_ is not None:
            found.extend(under(("then",), self.compare(w.then, r.then)))
            found.extend(under(("else",), self.compare(w.else_, r.else_)))
            return
        w_own = w.own or w
        if not self.compare(w_own, r.then) and not self.compare(w_own, r.else_):
            return
        found.append(
            diff(
                "CONDITIONAL_CHANGED",
                ("if",),
                "the `if`/`then`/`else` at {path} changed and may reject old data",
            )
        )

    # -- own keywords ------------------------------------------------------------------------

    def _own(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_types, r_types = scalars.possible_types(w), scalars.possible_types(r)
        skip_scalars = False
        if w.enum is not None:
            verdicts = [scalars.scalar_accepted(r, value) for value in w.enum_values.values()]
            skip_scalars = all(verdict is True for verdict in verdicts)
            w_types = w_types & frozenset(scalars.value_type(v) for v in w.enum_values.values())
            if "integer" in w_types and "number" in scalars.possible_types(w):
                w_types = w_types | ({"number"} if "number" in w_types else set())
        if not skip_scalars:
            scalars.types(w, r, w_types, r_types, found)
            scalars.enum(w, r, found)
            if "string" in w_types and "string" in r_types:
                scalars.strings(w, r, found)
            if w_types & {"integer", "number"} and r_types & {"integer", "number"}:
                scalars.numbers(w, r, found)
        if "object" in w_types and "object" in r_types:
            self._objects(w, r, found)
        if "array" in w_types and "array" in r_types:
            self._arrays(w, r, found)
