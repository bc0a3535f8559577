"""Rules for objects: content models, properties, required, dependencies, names."""

from __future__ import annotations

import re

from registry.compatibility.jsonschema.diffs import Diff, Rules, Tokens, bound, diff, names, under
from registry.compatibility.jsonschema.model import TRUE, Node
from registry.compatibility.jsonschema.scalars import accepts_every_string


class ObjectRules(Rules):
    """Confluent's object rules: open, closed and partially open content models."""

    def _objects(self, w: Node, r: Node, found: list[Diff]) -> None:
        # Tuples of (name, node) pairs compare by node identity: equal means unchanged.
        if w.properties != r.properties:
            self._properties(w, r, found)
        for name in sorted(r.required - w.required):
            r_prop = r.props.get(name)
            if r_prop is None or (name in w.props and not r_prop.has_default):
                found.append(
                    diff(
                        "REQUIRED_ATTRIBUTE_ADDED",
                        ("required",),
                        f"`{name}` became required at {{path}}: old data may lack it",
                    )
                )
        self._additional(w, r, found)
        self._pattern_properties(w, r, found)
        self._property_counts(w, r, found)
        self._dependencies(w, r, found)
        # Property names are strings: a reader's `propertyNames` that accepts every string
        # (`{"pattern": "a*"}`, `{"type": "string"}`) narrows nothing.
        if r.property_names is not None and not accepts_every_string(r.property_names):
            if w.property_names is None:
                found.append(
                    diff(
                        "PROPERTY_NAMES_NARROWED",
                        ("propertyNames",),
                        "`propertyNames` ({path}) now restricts property names old data may use",
                    )
                )
            else:
                found.extend(
                    under(("propertyNames",), self.compare(w.property_names, r.property_names))
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
                found.extend(under(at, self.compare(w_prop, r_prop)))
            else:
                self._property_added(w, w_open, name, r_prop, name in r.required, at, found)
        for name, w_prop in w.properties:
            if name not in r_props:
                self._property_removed(r, r_open, name, w_prop, ("properties", name), found)

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
                diff(
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
            self.covered(
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
                diff(
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
            self.covered(
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
            diff(
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
                    diff(
                        f"{prefix}_REMOVED",
                        (keyword,),
                        "the new schema forbids additional properties at {path}, which old "
                        "data may carry",
                    )
                )
            return
        if w_extra.accepts_all:
            found.append(
                diff(
                    f"{prefix}_NARROWED",
                    (keyword,),
                    "additional properties at {path} are now constrained; old data may carry "
                    "others",
                )
            )
            return
        found.extend(under((keyword,), self.compare(w_extra, r.additional)))

    def _pattern_properties(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_patterns = dict(w.pattern_properties)
        for pattern, r_schema in r.pattern_properties:
            at = ("patternProperties", pattern)
            w_schema = w_patterns.get(pattern)
            if w_schema is not None:
                found.extend(under(at, self.compare(w_schema, r_schema)))
                continue
            sources = [w.additional if w.additional is not None else TRUE]
            sources += [prop for name, prop in w.properties if _matches(pattern, name)]
            for source in sources:
                diffs = self.compare(source, r_schema)
                if diffs:
                    found.append(
                        diff(
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
            found.append(bound(rule, "maxProperties", w.max_properties, r.max_properties))
        if r.min_properties is not None and r.min_properties > (w.min_properties or 0):
            rule = (
                "MIN_PROPERTIES_ADDED" if w.min_properties is None else "MIN_PROPERTIES_INCREASED"
            )
            found.append(bound(rule, "minProperties", w.min_properties, r.min_properties))

    def _dependencies(self, w: Node, r: Node, found: list[Diff]) -> None:
        w_required = dict(w.dependent_required)
        for name, needed in r.dependent_required:
            at = (r.dependent_required_keyword, name)
            old = w_required.get(name)
            if old is None:
                rule = "DEPENDENCY_ARRAY_ADDED"
            elif needed <= old:
                continue
            else:
                rule = "DEPENDENCY_ARRAY_EXTENDED" if old <= needed else "DEPENDENCY_ARRAY_CHANGED"
            found.append(
                diff(
                    rule,
                    at,
                    f"when `{name}` is present, {names(needed - (old or frozenset()))} must now be "
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
                        diff(
                            "DEPENDENCY_SCHEMA_ADDED",
                            at,
                            f"a schema dependency on `{name}` was added at {{path}}; old data "
                            "may not satisfy it",
                        )
                    )
            else:
                found.extend(under(at, self.compare(old_schema, schema)))


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
