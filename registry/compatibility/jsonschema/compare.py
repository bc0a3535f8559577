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

import re
from fractions import Fraction
from typing import Any

from registry.compatibility.jsonschema.merge import deref, flatten
from registry.compatibility.jsonschema.model import JSON_TYPES, TRUE, Node, settle

Tokens = tuple[str, ...]
Diff = tuple[str, Tokens, str]
Diffs = tuple[Diff, ...]

# Shared across comparisons, for nodes without `$ref`s only: such nodes hold no document, so
# the table cannot keep parsed schemas alive. Bounded; cleared when full.
_MEMO: dict[tuple[Node, Node], Diffs] = {}
_MEMO_LIMIT = 20_000
_MAX_DEPTH = 400
_NONE: Diffs = ()


def _diff(rule: str, tokens: Tokens, detail: str) -> Diff:
    return (rule, tokens, detail)


def _under(prefix: Tokens, diffs: Diffs) -> Diffs:
    if not prefix or not diffs:
        return diffs
    return tuple((rule, prefix + tokens, detail) for rule, tokens, detail in diffs)


def _possible_types(node: Node) -> frozenset[str]:
    types = JSON_TYPES if node.types is None else node.types
    return types | {"integer"} if "number" in types else types


def _value_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _scalar_accepted(node: Node, value: Any) -> bool | None:
    """Whether `node`'s own scalar keywords accept `value`; None when it cannot tell."""
    kind = _value_type(value)
    if kind in ("array", "object"):
        return None
    if node.types is not None and kind not in _possible_types(node):
        return False
    if node.enum is not None and not _enum_contains(node, value):
        return False
    if kind == "string":
        length = len(value)
        if node.min_length is not None and length < node.min_length:
            return False
        if node.max_length is not None and length > node.max_length:
            return False
        if node.pattern is not None:
            try:
                if re.search(node.pattern, value) is None:
                    return False
            except re.error:
                return None
    if kind in ("integer", "number"):
        if node.minimum is not None and value < node.minimum:
            return False
        if node.maximum is not None and value > node.maximum:
            return False
        if node.exclusive_minimum is not None and value <= node.exclusive_minimum:
            return False
        if node.exclusive_maximum is not None and value >= node.exclusive_maximum:
            return False
        if node.multiple_of is not None and Fraction(str(value)) % _fraction(node.multiple_of):
            return False
    return True


def _enum_contains(node: Node, value: Any) -> bool:
    from registry.formats.jsonschema.normalize import value_key

    return node.enum is not None and value_key(value) in node.enum_values


def _fraction(value: float | int) -> Fraction:
    return Fraction(str(value))


class Comparison:
    """One top-level comparison: the stack of pairs in progress, for cycle detection."""

    def __init__(self) -> None:
        self._stack: dict[tuple[Node, Node], int] = {}
        self._local: dict[tuple[Node, Node], Diffs] = {}
        self._low = _MAX_DEPTH * 2

    def compare(self, writer: Node, reader: Node) -> Diffs:
        """Why `reader` rejects instances `writer` accepts (relative paths); empty if none."""
        writer, reader = deref(writer), deref(reader)
        if reader.accepts_all or writer.rejects_all or writer is reader:
            return _NONE
        key = (writer, reader)
        shared = not (writer.has_refs or reader.has_refs)
        cached = (_MEMO if shared else self._local).get(key)
        if cached is not None:
            return cached
        depth = self._stack.get(key)
        if depth is not None:
            self._low = min(self._low, depth)
            return _NONE
        if len(self._stack) >= _MAX_DEPTH:
            return (
                _diff(
                    "COMPARISON_TOO_DEEP",
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
            return (_diff("TYPE_CHANGED", (), "the new schema rejects every value at {path}"),)
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
                _diff(
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
                _diff(
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
                found.extend(_under((keyword, str(index)), self.compare(w, branch)))
            return tuple(found)
        best: Diffs | None = None
        best_index = 0
        for index, branch in enumerate(branches):
            diffs = self.compare(w, branch)
            if not diffs:
                return _NONE
            if best is None or len(diffs) < len(best):
                best, best_index = diffs, index
        return _under((keyword, str(best_index)), best or _NONE)

    def _from_combinator(self, keyword: str, branches: tuple[Node, ...], r: Node) -> Diffs:
        if keyword == "allOf":
            best: Diffs | None = None
            for branch in branches:
                diffs = self.compare(branch, r)
                if not diffs:
                    return _NONE
                if best is None or len(diffs) < len(best):
                    best = diffs
            return best or _NONE
        found: list[Diff] = []
        for index, branch in enumerate(branches):
            for rule, tokens, detail in self.compare(branch, r):
                found.append((rule, tokens, f"old `{keyword}` alternative {index}: {detail}"))
        return tuple(found)

    def _combinator_changed(
        self, w_comb: tuple[str, tuple[Node, ...]], r_comb: tuple[str, tuple[Node, ...]]
    ) -> Diffs:
        (w_key, w_branches), (r_key, r_branches) = w_comb, r_comb
        changed = _diff(
            "COMBINED_TYPE_CHANGED",
            (),
            f"the combinator at {{path}} changed from `{w_key}` to `{r_key}`, and old data "
            "may not satisfy the new one",
        )
        if w_key == "allOf":
            for w_branch in w_branches:
                for r_branch in r_branches:
                    if not self.compare(w_branch, r_branch):
                        return _NONE
            return (changed,)
        if r_key == "allOf":
            ok = all(not self.compare(wb, rb) for rb in r_branches for wb in w_branches)
            return _NONE if ok else (changed,)
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
                _diff(
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
                found.extend(_under(("allOf", str(index)), diffs))
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
                    _diff(
                        "NOT_TYPE_EXTENDED",
                        ("not",),
                        "the new schema adds `not` at {path}, which old data may match",
                    )
                )
            elif self.compare(r.not_, w.not_):
                found.append(
                    _diff(
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
            found.extend(_under(("then",), self.compare(w.then, r.then)))
            found.extend(_under(("else",), self.compare(w.else_, r.else_)))
            return
        w_own = w.own or w
        if not self.compare(w_own, r.then) and not self.compare(w_own, r.else_):
            return
        found.append(
            _diff(
                "CONDITIONAL_CHANGED",
                ("if",),
                "the `if`/`then`/`else` at {path} changed and may reject old data",
            )
        )

    # -- own keywords ------------------------------------------------------------------------

    def _own(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_types, r_types = _possible_types(w), _possible_types(r)
        skip_scalars = False
        if w.enum is not None:
            verdicts = [_scalar_accepted(r, value) for value in w.enum_values.values()]
            skip_scalars = all(verdict is True for verdict in verdicts)
            w_types = w_types & frozenset(_value_type(v) for v in w.enum_values.values())
            if "integer" in w_types and "number" in _possible_types(w):
                w_types = w_types | ({"number"} if "number" in w_types else set())
        if not skip_scalars:
            self._types(w, r, w_types, r_types, found)
            self._enum(w, r, found)
            if "string" in w_types and "string" in r_types:
                self._strings(w, r, found)
            if w_types & {"integer", "number"} and r_types & {"integer", "number"}:
                self._numbers(w, r, found)
        if "object" in w_types and "object" in r_types:
            self._objects(w, r, found)
        if "array" in w_types and "array" in r_types:
            self._arrays(w, r, found)

    def _types(
        self,
        w: Node,
        r: Node,
        w_types: frozenset[str],
        r_types: frozenset[str],
        found: list[Diff],
    ) -> None:
        if r.types is None:
            return
        lost = w_types - r_types
        if not lost:
            return
        old = "any type" if w.types is None else _names(w.types)
        if w_types & r_types:
            found.append(
                _diff(
                    "TYPE_NARROWED",
                    (),
                    f"the type at {{path}} was narrowed from {old} to {_names(r.types)}: old "
                    f"data may hold {_names(lost)}",
                )
            )
        else:
            found.append(
                _diff(
                    "TYPE_CHANGED",
                    (),
                    f"the type at {{path}} changed from {old} to {_names(r.types)}",
                )
            )

    def _enum(self, w: Node, r: Node, found: list[Diff]) -> None:
        if r.enum is None:
            return
        keyword = r.enum_keyword
        if w.enum is None:
            found.append(
                _diff(
                    "ENUM_ARRAY_NARROWED",
                    (keyword,),
                    f"`{keyword}` ({{path}}) now restricts values the old schema left open",
                )
            )
            return
        missing = [key for key in w.enum if key not in r.enum_values]
        if not missing:
            return
        rule = "ENUM_ARRAY_NARROWED" if set(r.enum) <= set(w.enum) else "ENUM_ARRAY_CHANGED"
        found.append(
            _diff(
                rule,
                (keyword,),
                f"`{keyword}` ({{path}}) no longer allows {', '.join(missing[:5])}",
            )
        )

    def _strings(self, w: Node, r: Node, found: list[Diff]) -> None:
        if r.min_length is not None and r.min_length > (w.min_length or 0):
            rule = "MIN_LENGTH_ADDED" if w.min_length is None else "MIN_LENGTH_INCREASED"
            found.append(_bound(rule, "minLength", w.min_length, r.min_length))
        if r.max_length is not None and (w.max_length is None or r.max_length < w.max_length):
            rule = "MAX_LENGTH_ADDED" if w.max_length is None else "MAX_LENGTH_DECREASED"
            found.append(_bound(rule, "maxLength", w.max_length, r.max_length))
        if r.pattern is not None and r.pattern != w.pattern:
            rule = "PATTERN_ADDED" if w.pattern is None else "PATTERN_CHANGED"
            found.append(
                _diff(
                    rule,
                    ("pattern",),
                    f"strings must now match `{r.pattern}` ({{path}})"
                    + (f" instead of `{w.pattern}`" if w.pattern is not None else ""),
                )
            )

    def _numbers(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_high = _upper(w)
        r_high = _upper(r)
        if r_high is not None and (w_high is None or _tighter_upper(r_high, w_high)):
            keyword = r_high[2]
            same = w_high is not None and w_high[2] == keyword
            rule = _rule_for(keyword) + ("_DECREASED" if same else "_ADDED")
            found.append(_bound(rule, keyword, w_high[0] if w_high else None, r_high[0]))
        w_low = _lower(w)
        r_low = _lower(r)
        if r_low is not None and (w_low is None or _tighter_lower(r_low, w_low)):
            keyword = r_low[2]
            same = w_low is not None and w_low[2] == keyword
            rule = _rule_for(keyword) + ("_INCREASED" if same else "_ADDED")
            found.append(_bound(rule, keyword, w_low[0] if w_low else None, r_low[0]))
        if r.multiple_of is not None and r.multiple_of != w.multiple_of:
            if w.multiple_of is None:
                rule = "MULTIPLE_OF_ADDED"
                if r.multiple_of == 1 and w.types is not None and w.types <= {"integer"}:
                    return
            else:
                ratio = _fraction(w.multiple_of) / _fraction(r.multiple_of)
                if ratio.denominator == 1:
                    return
                inverse = _fraction(r.multiple_of) / _fraction(w.multiple_of)
                rule = "MULTIPLE_OF_EXPANDED" if inverse.denominator == 1 else "MULTIPLE_OF_CHANGED"
            found.append(_bound(rule, "multipleOf", w.multiple_of, r.multiple_of))

    # -- objects ----------------------------------------------------------------------------

    def _objects(self, w: Node, r: Node, found: list[Diff]) -> None:
        # Tuples of (name, node) pairs compare by node identity: equal means unchanged.
        if w.properties != r.properties:
            self._properties(w, r, found)
        for name in sorted(r.required - w.required):
            r_prop = r.props.get(name)
            if r_prop is None or (name in w.props and not r_prop.has_default):
                found.append(
                    _diff(
                        "REQUIRED_ATTRIBUTE_ADDED",
                        ("required",),
                        f"`{name}` became required at {{path}}: old data may lack it",
                    )
                )
        self._additional(w, r, found)
        self._pattern_properties(w, r, found)
        self._property_counts(w, r, found)
        self._dependencies(w, r, found)
        if r.property_names is not None:
            if w.property_names is None:
                found.append(
                    _diff(
                        "PROPERTY_NAMES_NARROWED",
                        ("propertyNames",),
                        "`propertyNames` ({path}) now restricts property names old data may use",
                    )
                )
            else:
                found.extend(
                    _under(("propertyNames",), self.compare(w.property_names, r.property_names))
                )

    def _properties(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_open, r_open = _is_open(w), _is_open(r)
        w_props, r_props = w.props, r.props
        for name, r_prop in r.properties:
            w_prop = w_props.get(name)
            if w_prop is r_prop:
                continue
            at = ("properties", name)
            if w_prop is not None:
                found.extend(_under(at, self.compare(w_prop, r_prop)))
            else:
                self._property_added(w, w_open, name, r_prop, name in r.required, at, found)
        for name, w_prop in w.properties:
            if name not in r_props:
                self._property_removed(r, r_open, name, w_prop, ("properties", name), found)

    def _covered(
        self, w: Node, r: Node, at: Tokens, rule: str, detail: str, found: list[Diff]
    ) -> None:
        """A property or tuple position moved between an explicit schema and the schema for
        the rest: compatible when the reader's side accepts all the writer's side did."""
        diffs = self.compare(w, r)
        if diffs:
            found.extend(_under(at, diffs))
            found.append(_diff(rule, at, detail))

    def _property_added(
        self,
        w: Node,
        w_open: bool,
        name: str,
        r_prop: Node,
        required: bool,
        at: Tokens,
        found: list[Diff],
    ) -> None:
        if w_open:
            if r_prop.accepts_all and not required:
                return
            if not required:
                rule = "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            elif r_prop.has_default:
                rule = "REQUIRED_PROPERTY_WITH_DEFAULT_ADDED_TO_OPEN_CONTENT_MODEL"
            else:
                rule = "REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
            found.append(
                _diff(
                    rule,
                    at,
                    f"property {{path}} was added to an open content model: old data may "
                    f"already carry `{name}` with another type"
                    + (" or lack it" if required else ""),
                )
            )
            return
        covering = _schema_for_unlisted(w, name)
        if covering is not None:
            self._covered(
                covering,
                r_prop,
                at,
                "PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                f"property {{path}} was added, but old data may carry `{name}` with values the "
                "old `additionalProperties`/`patternProperties` allowed and the new property "
                "schema rejects",
                found,
            )
        if required and not r_prop.has_default:
            found.append(
                _diff(
                    "REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL",
                    at,
                    f"required property {{path}} was added: old data lacks `{name}`",
                )
            )

    def _property_removed(
        self, r: Node, r_open: bool, name: str, w_prop: Node, at: Tokens, found: list[Diff]
    ) -> None:
        if r_open:
            return
        covering = _schema_for_unlisted(r, name)
        if covering is not None:
            self._covered(
                w_prop,
                covering,
                at,
                "PROPERTY_REMOVED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL",
                "property {path} was removed, and the new `additionalProperties`/"
                "`patternProperties` reject some of its old values, so old data carrying "
                f"`{name}` is rejected",
                found,
            )
            return
        if w_prop.rejects_all:
            return
        found.append(
            _diff(
                "PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                at,
                f"property {{path}} was removed from a closed content model: old data carrying "
                f"`{name}` is rejected",
            )
        )

    def _additional(self, w: Node, r: Node, found: list[Diff]) -> None:
        keyword = r.additional_keyword
        prefix = (
            "UNEVALUATED_PROPERTIES"
            if keyword == "unevaluatedProperties"
            else ("ADDITIONAL_PROPERTIES")
        )
        if r.additional is None:
            return
        w_extra = w.additional if w.additional is not None else TRUE
        if r.additional.rejects_all:
            if not w_extra.rejects_all:
                found.append(
                    _diff(
                        f"{prefix}_REMOVED",
                        (keyword,),
                        "the new schema forbids additional properties at {path}, which old "
                        "data may carry",
                    )
                )
            return
        if w_extra.accepts_all:
            found.append(
                _diff(
                    f"{prefix}_NARROWED",
                    (keyword,),
                    "additional properties at {path} are now constrained; old data may carry "
                    "others",
                )
            )
            return
        found.extend(_under((keyword,), self.compare(w_extra, r.additional)))

    def _pattern_properties(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_patterns = dict(w.pattern_properties)
        for pattern, r_schema in r.pattern_properties:
            at = ("patternProperties", pattern)
            w_schema = w_patterns.get(pattern)
            if w_schema is not None:
                found.extend(_under(at, self.compare(w_schema, r_schema)))
                continue
            sources = [w.additional if w.additional is not None else TRUE]
            sources += [prop for name, prop in w.properties if _matches(pattern, name)]
            for source in sources:
                diffs = self.compare(source, r_schema)
                if diffs:
                    found.append(
                        _diff(
                            "PATTERN_PROPERTIES_NARROWED",
                            at,
                            f"properties matching `{pattern}` are now constrained at {{path}}; "
                            "old data may carry such properties with other values",
                        )
                    )
                    break

    def _property_counts(self, w: Node, r: Node, found: list[Diff]) -> None:
        if r.max_properties is not None and (
            w.max_properties is None or r.max_properties < w.max_properties
        ):
            rule = (
                "MAX_PROPERTIES_ADDED" if w.max_properties is None else "MAX_PROPERTIES_DECREASED"
            )
            found.append(_bound(rule, "maxProperties", w.max_properties, r.max_properties))
        if r.min_properties is not None and r.min_properties > (w.min_properties or 0):
            rule = (
                "MIN_PROPERTIES_ADDED" if w.min_properties is None else "MIN_PROPERTIES_INCREASED"
            )
            found.append(_bound(rule, "minProperties", w.min_properties, r.min_properties))

    def _dependencies(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_required = dict(w.dependent_required)
        for name, names in r.dependent_required:
            at = (r.dependent_required_keyword, name)
            old = w_required.get(name)
            if old is None:
                rule = "DEPENDENCY_ARRAY_ADDED"
            elif names <= old:
                continue
            else:
                rule = "DEPENDENCY_ARRAY_EXTENDED" if old <= names else "DEPENDENCY_ARRAY_CHANGED"
            found.append(
                _diff(
                    rule,
                    at,
                    f"when `{name}` is present, {_names(names - (old or frozenset()))} must now be "
                    "present too ({path}); old data may lack them",
                )
            )
        w_schemas = dict(w.dependent_schemas)
        for name, schema in r.dependent_schemas:
            at = (r.dependent_schemas_keyword, name)
            old_schema = w_schemas.get(name)
            if old_schema is None:
                if not schema.accepts_all:
                    found.append(
                        _diff(
                            "DEPENDENCY_SCHEMA_ADDED",
                            at,
                            f"a schema dependency on `{name}` was added at {{path}}; old data "
                            "may not satisfy it",
                        )
                    )
            else:
                found.extend(_under(at, self.compare(old_schema, schema)))

    # -- arrays -----------------------------------------------------------------------------

    def _arrays(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_rest = w.rest if w.rest is not None else TRUE
        r_rest = r.rest if r.rest is not None else TRUE
        tuple_form = bool(w.prefix or r.prefix)
        for index in range(max(len(w.prefix), len(r.prefix))):
            w_item = w.prefix[index] if index < len(w.prefix) else None
            r_item = r.prefix[index] if index < len(r.prefix) else None
            at = (r.prefix_keyword if r.prefix else w.prefix_keyword, str(index))
            if w_item is not None and r_item is not None:
                found.extend(_under(at, self.compare(w_item, r_item)))
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
                _diff(
                    f"{prefix}_REMOVED",
                    (keyword,),
                    f"arrays with more than {_items(len(r.prefix))} are now rejected ({{path}})",
                )
            )
        elif not tuple_form and w_rest.accepts_all:
            found.append(
                _diff(
                    "SCHEMA_ADDED",
                    (keyword,),
                    "array items at {path} are now constrained; old arrays may hold other items",
                )
            )
        elif tuple_form and w_rest.accepts_all:
            found.append(
                _diff(
                    f"{prefix}_NARROWED",
                    (keyword,),
                    "items after the tuple are now constrained at {path}; old arrays may hold "
                    "other items there",
                )
            )
        else:
            found.extend(_under((keyword,), self.compare(w_rest, r_rest)))
        self._item_counts(w, r, found)

    def _item_removed(self, w_item: Node, r_rest: Node, at: Tokens, found: list[Diff]) -> None:
        if r_rest.accepts_all or w_item.rejects_all:
            return
        if r_rest.rejects_all:
            found.append(
                _diff(
                    "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL",
                    at,
                    "tuple position {path} was removed from a closed tuple: old arrays that "
                    "have it are rejected",
                )
            )
            return
        self._covered(
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
                _diff(
                    "ITEM_ADDED_TO_OPEN_CONTENT_MODEL",
                    at,
                    "tuple position {path} was added to an open tuple: old arrays may already "
                    "hold other values there",
                )
            )
            return
        self._covered(
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
            found.append(_bound(rule, "maxItems", w.max_items, r.max_items))
        if r.min_items is not None and r.min_items > (w.min_items or 0):
            rule = "MIN_ITEMS_ADDED" if w.min_items is None else "MIN_ITEMS_INCREASED"
            found.append(_bound(rule, "minItems", w.min_items, r.min_items))
        if r.unique_items and not w.unique_items:
            found.append(
                _diff(
                    "UNIQUE_ITEMS_ADDED",
                    ("uniqueItems",),
                    "`uniqueItems` was added ({path}); old arrays may repeat items",
                )
            )
        if r.contains is None:
            return
        if w.contains is None:
            found.append(
                _diff(
                    "CONTAINS_ADDED",
                    ("contains",),
                    "`contains` was added ({path}); old arrays may hold no matching item",
                )
            )
            return
        if self.compare(w.contains, r.contains):
            found.append(
                _diff(
                    "CONTAINS_NARROWED",
                    ("contains",),
                    "`contains` ({path}) now matches fewer items than before",
                )
            )
        w_min = w.min_contains if w.min_contains is not None else 1
        if r.min_contains is not None and r.min_contains > w_min:
            rule = "MIN_CONTAINS_ADDED" if w.min_contains is None else "MIN_CONTAINS_INCREASED"
            found.append(_bound(rule, "minContains", w.min_contains, r.min_contains))
        if r.max_contains is not None and (
            w.max_contains is None or r.max_contains < w.max_contains
        ):
            rule = "MAX_CONTAINS_ADDED" if w.max_contains is None else "MAX_CONTAINS_DECREASED"
            found.append(_bound(rule, "maxContains", w.max_contains, r.max_contains))


# -- helpers ----------------------------------------------------------------------------------


def _names(types: frozenset[str] | set[str]) -> str:
    return ", ".join(f"`{name}`" for name in sorted(types))


def _bound(rule: str, keyword: str, old: Any, new: Any) -> Diff:
    was = "absent" if old is None else f"{old}"
    return _diff(
        rule,
        (keyword,),
        f"`{keyword}` went from {was} to {new} ({{path}}), so old data may fall outside it",
    )


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _rule_for(keyword: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", keyword).upper()


Bound = tuple[float | int, bool, str]


def _upper(node: Node) -> Bound | None:
    """The tightest upper bound: the smallest value, exclusive before inclusive on ties."""
    candidates = _bounds((node.maximum, "maximum"), (node.exclusive_maximum, "exclusiveMaximum"))
    return min(candidates, key=lambda bound: (bound[0], not bound[1]), default=None)


def _lower(node: Node) -> Bound | None:
    """The tightest lower bound: the largest value, exclusive before inclusive on ties."""
    candidates = _bounds((node.minimum, "minimum"), (node.exclusive_minimum, "exclusiveMinimum"))
    return max(candidates, key=lambda bound: (bound[0], bound[1]), default=None)


def _bounds(inclusive: tuple[Any, str], exclusive: tuple[Any, str]) -> list[Bound]:
    found: list[Bound] = []
    if inclusive[0] is not None:
        found.append((inclusive[0], False, inclusive[1]))
    if exclusive[0] is not None:
        found.append((exclusive[0], True, exclusive[1]))
    return found


def _tighter_upper(new: Bound, old: Bound) -> bool:
    return new[0] < old[0] or (new[0] == old[0] and new[1] and not old[1])


def _tighter_lower(new: Bound, old: Bound) -> bool:
    return new[0] > old[0] or (new[0] == old[0] and new[1] and not old[1])


def _is_open(node: Node) -> bool:
    """Confluent's open content model: anything not listed is accepted, with any value."""
    return not node.pattern_properties and node.additional is None


def _schema_for_unlisted(node: Node, name: str) -> Node | None:
    """The schema an unlisted property `name` falls under in a partially open model; None
    when the model is closed for it."""
    for pattern, schema in node.pattern_properties:
        if _matches(pattern, name):
            return schema
    if node.additional is None:
        return TRUE if node.pattern_properties else None
    return None if node.additional.rejects_all else node.additional


def _matches(pattern: str, name: str) -> bool:
    try:
        return re.search(pattern, name) is not None
    except re.error:
        return False
