"""A compiled, hash-consed view of JSON Schema for compatibility checks.

Each schema object compiles to a `Node` holding only what constrains instances (annotations
are dropped), spelled one way across drafts: `dependencies` splits into required/schema
dependencies, draft-4 boolean exclusive bounds become numeric ones, tuples become a prefix
plus a schema for the rest. Nodes are interned: two structurally equal, reference-free
subschemas compile to the very same object, across all parsed schemas, so comparisons can be
memoised by identity. `$ref`s become `Ref` nodes compiled lazily, which handles recursion.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

from registry.formats.jsonschema import JsonSchema
from registry.formats.jsonschema.keywords import ANNOTATIONS, REFS
from registry.formats.jsonschema.loading import DRAFT4, DRAFT2019, DRAFT2020
from registry.formats.jsonschema.normalize import value_key

JSON_TYPES = frozenset({"array", "boolean", "integer", "null", "number", "object", "string"})
Number = int | float


@dataclass(eq=False, slots=True, weakref_slot=True)
class Node:
    """The constraints of one schema object. Compared by identity (nodes are interned)."""

    types: frozenset[str] | None = None
    enum: tuple[str, ...] | None = None
    enum_keyword: str = "enum"
    # strings
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    # numbers
    minimum: Number | None = None
    maximum: Number | None = None
    exclusive_minimum: Number | None = None
    exclusive_maximum: Number | None = None
    multiple_of: Number | None = None
    # objects
    properties: tuple[tuple[str, Node], ...] = ()
    required: frozenset[str] = frozenset()
    additional: Node | None = None
    additional_keyword: str = "additionalProperties"
    pattern_properties: tuple[tuple[str, Node], ...] = ()
    min_properties: int | None = None
    max_properties: int | None = None
    dependent_required: tuple[tuple[str, frozenset[str]], ...] = ()
    dependent_required_keyword: str = "dependencies"
    dependent_schemas: tuple[tuple[str, Node], ...] = ()
    dependent_schemas_keyword: str = "dependencies"
    property_names: Node | None = None
    # `unevaluatedProperties`/`unevaluatedItems` as written; see `settle`
    unevaluated_properties: Node | None = None
    unevaluated_items: Node | None = None
    # arrays
    prefix: tuple[Node, ...] = ()
    prefix_keyword: str = "items"
    rest: Node | None = None
    rest_keyword: str = "items"
    min_items: int | None = None
    max_items: int | None = None
    unique_items: bool = False
    contains: Node | None = None
    min_contains: int | None = None
    max_contains: int | None = None
    # applicators
    all_of: tuple[Node, ...] = ()
    any_of: tuple[Node, ...] = ()
    one_of: tuple[Node, ...] = ()
    not_: Node | None = None
    if_: Node | None = None
    then: Node | None = None
    else_: Node | None = None
    ref: Ref | None = None
    # annotation that matters to Confluent's required-with-default rules
    has_default: bool = False
    # derived, excluded from identity
    rejects_all: bool = field(default=False, repr=False)
    accepts_all: bool = field(default=False, repr=False)
    props: dict[str, Node] = field(default_factory=dict, repr=False)
    enum_values: dict[str, Any] = field(default_factory=dict, repr=False)
    own: Node | None = field(default=None, repr=False)
    has_refs: bool = field(default=False, repr=False)
    flat: Node | None = field(default=None, repr=False)
    settled: Node | None = field(default=None, repr=False)

    @property
    def combinator(self) -> tuple[str, tuple[Node, ...]] | None:
        """(keyword, branches) when this node is exactly one of allOf/anyOf/oneOf, else None."""
        if self.own is not None and self.own.accepts_all:
            present = [
                (keyword, branches)
                for keyword, branches in (
                    ("allOf", self.all_of),
                    ("anyOf", self.any_of),
                    ("oneOf", self.one_of),
                )
                if branches
            ]
            if len(present) == 1 and self.not_ is None and self.if_ is None:
                return present[0]
        return None

    @property
    def has_applicators(self) -> bool:
        """Whether any of allOf/anyOf/oneOf/not/if is present."""
        return bool(self.all_of or self.any_of or self.one_of or self.not_ is not None or self.if_)


# The fields that make two nodes the same node.
_DERIVED = frozenset(
    {"rejects_all", "accepts_all", "props", "own", "has_default", "enum_values", "has_refs"}
    | {"flat", "settled"}
)
IDENTITY_FIELDS = tuple(f.name for f in fields(Node) if f.name not in _DERIVED)
_APPLICATORS = ("all_of", "any_of", "one_of", "not_", "if_", "then", "else_")
_INTERNED: weakref.WeakValueDictionary[tuple[Any, ...], Node] = weakref.WeakValueDictionary()


_identity_key: Callable[[Node], tuple[Any, ...]] = attrgetter(*IDENTITY_FIELDS)


_EMPTY_KEY = _identity_key(Node())


def intern(node: Node) -> Node:
    """The one shared node equal to `node` (by constraints and `has_default`).

    Nodes holding a `$ref` are not shared: a reference leads back to its document, and a
    global table holding it would keep every parsed schema alive.
    """
    has_refs = _has_refs(node)
    key = None if has_refs else (*_identity_key(node), node.has_default)
    if key is not None:
        existing = _INTERNED.get(key)
        if existing is not None:
            return existing
    node.has_refs = has_refs
    node.props = dict(node.properties)
    node.accepts_all = key is not None and key[:-1] == _EMPTY_KEY
    node.rejects_all = node.not_ is not None and node.not_.accepts_all
    if node.has_applicators:
        own = Node(**{name: getattr(node, name) for name in _OWN_FIELDS})
        own.enum_values = node.enum_values
        node.own = intern(own)
    else:
        node.own = node
    if key is not None:
        _INTERNED[key] = node
    return node


_NODE_FIELDS = (
    *("additional", "property_names", "rest", "contains"),
    *("unevaluated_properties", "unevaluated_items"),
    *("not_", "if_", "then", "else_"),
)
_NODE_TUPLES = ("prefix", "all_of", "any_of", "one_of")
_PAIR_TUPLES = ("properties", "pattern_properties", "dependent_schemas")


def _has_refs(node: Node) -> bool:
    """Whether the node holds a `$ref`, itself or through any subschema."""
    if node.ref is not None:
        return True
    for name in _NODE_FIELDS:
        child = getattr(node, name)
        if child is not None and child.has_refs:
            return True
    for name in _NODE_TUPLES:
        if any(child.has_refs for child in getattr(node, name)):
            return True
    return any(child.has_refs for name in _PAIR_TUPLES for _, child in getattr(node, name))


_OWN_FIELDS = tuple(name for name in IDENTITY_FIELDS if name not in (*_APPLICATORS, "ref"))

TRUE = intern(Node())
FALSE = intern(Node(not_=TRUE))


class Ref:
    """A `$ref`; its target is compiled on first use, so recursive schemas terminate."""

    __slots__ = ("__weakref__", "_compiler", "_node", "_target", "text")

    def __init__(self, compiler: Compiler, target: Any, text: str) -> None:
        self._compiler = compiler
        self._target = target
        self._node: Node | None = None
        self.text = text

    @property
    def node(self) -> Node:
        """The compiled target."""
        if self._node is None:
            self._node = self._compiler.compile(self._target)
        return self._node

    def __repr__(self) -> str:
        return f"Ref({self.text!r})"


class Compiler:
    """Compiles the schema objects of one parsed schema (and its references) to nodes."""

    def __init__(self, schema: JsonSchema) -> None:
        self.schema = schema
        self._refs: dict[int, Node] = {}
        self._compiled: dict[int, Node] = {}

    def compile(self, raw: Any) -> Node:
        """The node for one schema object (a dict or a boolean)."""
        if raw is True:
            return TRUE
        if raw is False:
            return FALSE
        if not isinstance(raw, dict):
            return TRUE
        cached = self._compiled.get(id(raw))
        if cached is None:
            draft = self.schema.resolved.draft(raw, self.schema.draft)
            leaf = _leaf_key(raw, draft)
            if leaf is not None:
                cached = _LEAVES.get(leaf)
                if cached is None:
                    cached = self._compile(raw, draft)
                    _LEAVES[leaf] = cached
            else:
                cached = self._compile(raw, draft)
            self._compiled[id(raw)] = cached
        return cached

    def _ref_node(self, raw: dict[str, Any], keyword: str) -> Node:
        target = self.schema.resolved.target(raw, keyword)
        node = self._refs.get(id(target))
        if node is None:
            node = intern(Node(ref=Ref(self, target, str(raw[keyword]))))
            self._refs[id(target)] = node
        return node

    def _compile(self, raw: dict[str, Any], draft: str) -> Node:
        present = [key for key in REFS[draft] if key in raw]
        modern = draft in (DRAFT2019, DRAFT2020)
        if present:
            refs = [self._ref_node(raw, keyword) for keyword in present]
            rest = {key: value for key, value in raw.items() if key not in present}
            if not modern or (len(refs) == 1 and not set(rest) - ANNOTATIONS):
                return refs[0] if "default" not in raw else intern(_with_default(refs[0]))
            siblings = self._compile(rest, draft)
            return intern(_replace(siblings, all_of=(*refs, *siblings.all_of)))
        node = Node(has_default="default" in raw)
        self._types_and_values(node, raw)
        self._numbers(node, raw, draft)
        self._objects(node, raw, draft, modern)
        self._arrays(node, raw, draft, modern)
        self._applicators(node, raw)
        return intern(node)

    def _types_and_values(self, node: Node, raw: dict[str, Any]) -> None:
        kind = raw.get("type")
        if isinstance(kind, str):
            node.types = frozenset({kind})
        elif isinstance(kind, list):
            node.types = frozenset(item for item in kind if isinstance(item, str))
        values = [raw["const"]] if "const" in raw else raw.get("enum")
        if isinstance(values, list):
            node.enum_keyword = "const" if "const" in raw else "enum"
            for value in values:
                node.enum_values.setdefault(value_key(value), value)
            node.enum = tuple(sorted(node.enum_values))
        node.min_length = _int(raw.get("minLength"))
        if node.min_length == 0:
            node.min_length = None
        node.max_length = _int(raw.get("maxLength"))
        pattern = raw.get("pattern")
        node.pattern = pattern if isinstance(pattern, str) else None

    def _numbers(self, node: Node, raw: dict[str, Any], draft: str) -> None:
        node.minimum = _num(raw.get("minimum"))
        node.maximum = _num(raw.get("maximum"))
        low, high = raw.get("exclusiveMinimum"), raw.get("exclusiveMaximum")
        if draft == DRAFT4:
            if low is True and node.minimum is not None:
                node.exclusive_minimum, node.minimum = node.minimum, None
            if high is True and node.maximum is not None:
                node.exclusive_maximum, node.maximum = node.maximum, None
        else:
            node.exclusive_minimum = _num(low)
            node.exclusive_maximum = _num(high)
        node.multiple_of = _num(raw.get("multipleOf"))

    def _objects(self, node: Node, raw: dict[str, Any], draft: str, modern: bool) -> None:
        properties = raw.get("properties")
        if isinstance(properties, dict):
            node.properties = tuple(
                sorted((name, self.compile(value)) for name, value in properties.items())
            )
        required = raw.get("required")
        if isinstance(required, list):
            node.required = frozenset(item for item in required if isinstance(item, str))
        if "additionalProperties" in raw:
            node.additional = self._optional(raw["additionalProperties"])
        if modern and "unevaluatedProperties" in raw:
            node.unevaluated_properties = self._optional(raw["unevaluatedProperties"])
        patterns = raw.get("patternProperties")
        if isinstance(patterns, dict):
            node.pattern_properties = tuple(
                sorted((key, self.compile(value)) for key, value in patterns.items())
            )
        node.min_properties = _int(raw.get("minProperties")) or None
        node.max_properties = _int(raw.get("maxProperties"))
        dep_required: dict[str, frozenset[str]] = {}
        dep_schemas: dict[str, Node] = {}
        if modern:
            node.dependent_required_keyword = "dependentRequired"
            node.dependent_schemas_keyword = "dependentSchemas"
            for name, value in _mapping(raw.get("dependentRequired")).items():
                if isinstance(value, list):
                    dep_required[name] = frozenset(value)
            for name, value in _mapping(raw.get("dependentSchemas")).items():
                dep_schemas[name] = self.compile(value)
        else:
            for name, value in _mapping(raw.get("dependencies")).items():
                if isinstance(value, list):
                    dep_required[name] = frozenset(value)
                else:
                    dep_schemas[name] = self.compile(value)
        node.dependent_required = tuple(sorted((k, v) for k, v in dep_required.items() if v))
        node.dependent_schemas = tuple(sorted(dep_schemas.items()))
        if "propertyNames" in raw:
            node.property_names = self._optional(raw["propertyNames"])

    def _arrays(self, node: Node, raw: dict[str, Any], draft: str, modern: bool) -> None:
        items = raw.get("items")
        if draft == DRAFT2020:
            prefix = raw.get("prefixItems")
            if isinstance(prefix, list):
                node.prefix = tuple(self.compile(item) for item in prefix)
                node.prefix_keyword = "prefixItems"
            if items is not None:
                node.rest = self._optional(items)
        elif isinstance(items, list):
            node.prefix = tuple(self.compile(item) for item in items)
            if "additionalItems" in raw:
                node.rest = self._optional(raw["additionalItems"])
                node.rest_keyword = "additionalItems"
        elif items is not None:
            node.rest = self._optional(items)
        if modern and "unevaluatedItems" in raw:
            node.unevaluated_items = self._optional(raw["unevaluatedItems"])
        if not node.prefix and node.rest is None:
            node.prefix_keyword = node.rest_keyword = "items"
        node.min_items = _int(raw.get("minItems")) or None
        node.max_items = _int(raw.get("maxItems"))
        node.unique_items = raw.get("uniqueItems") is True
        if "contains" in raw:
            node.contains = self.compile(raw["contains"])
            node.min_contains = _int(raw.get("minContains")) if modern else None
            node.max_contains = _int(raw.get("maxContains")) if modern else None

    def _applicators(self, node: Node, raw: dict[str, Any]) -> None:
        for keyword, attribute in (("allOf", "all_of"), ("anyOf", "any_of"), ("oneOf", "one_of")):
            branches = raw.get(keyword)
            if isinstance(branches, list) and branches:
                setattr(node, attribute, tuple(self.compile(item) for item in branches))
        if "not" in raw:
            node.not_ = self.compile(raw["not"])
        if "if" in raw and ("then" in raw or "else" in raw):
            node.if_ = self.compile(raw["if"])
            node.then = self.compile(raw.get("then", True))
            node.else_ = self.compile(raw.get("else", True))

    def _optional(self, raw: Any) -> Node | None:
        """A subschema where `true` and `{}` mean the same as leaving the keyword out."""
        node = self.compile(raw)
        return None if node.accepts_all else node


_SCALARS = (str, int, float, bool, type(None))
_REF_KEYWORDS = frozenset(key for keys in REFS.values() for key in keys)
# Schemas whose keywords all hold scalars compile to the same node whenever their
# constraining keywords are equal: memoised on those, skipping compilation entirely.
_LEAVES: weakref.WeakValueDictionary[tuple[Any, ...], Node] = weakref.WeakValueDictionary()


def _leaf_key(raw: dict[str, Any], draft: str) -> tuple[Any, ...] | None:
    items = []
    for key, value in raw.items():
        if not isinstance(value, _SCALARS) or key in _REF_KEYWORDS:
            return None
        if key not in ANNOTATIONS:
            # `True == 1` for Python: the type keeps `const: true` apart from `const: 1`.
            items.append((key, type(value).__name__, value))
    items.sort()
    return (draft, "default" in raw, *items)


def settle(node: Node) -> Node:
    """`node` with `unevaluated*` folded into the content model where that is exact.

    With no subschema that could evaluate properties or items (no combinator, conditional,
    reference or dependent schema), `unevaluatedProperties` is `additionalProperties` and
    `unevaluatedItems` is the schema for items after the tuple (absent `contains`); next to
    `additionalProperties` or `items` it has nothing left to apply to. Otherwise it stays,
    compared conservatively (see `compare`).
    """
    if node.unevaluated_properties is None and node.unevaluated_items is None:
        return node
    if node.settled is not None:
        return node.settled
    node.settled = node
    if _evaluates_in_subschemas(node):
        return node
    changes: dict[str, Any] = {"unevaluated_properties": None, "unevaluated_items": None}
    if node.additional is None and node.unevaluated_properties is not None:
        changes["additional"] = node.unevaluated_properties
        changes["additional_keyword"] = "unevaluatedProperties"
    if node.unevaluated_items is not None and node.rest is None:
        if node.contains is not None:
            return node
        changes["rest"] = node.unevaluated_items
        changes["rest_keyword"] = "unevaluatedItems"
    node.settled = intern(_replace(node, **changes))
    return node.settled


def _evaluates_in_subschemas(node: Node) -> bool:
    return bool(
        node.all_of
        or node.any_of
        or node.one_of
        or node.if_ is not None
        or node.ref is not None
        or node.dependent_schemas
    )


def _replace(node: Node, **changes: Any) -> Node:
    values = {name: getattr(node, name) for name in IDENTITY_FIELDS}
    values["has_default"] = node.has_default
    values["enum_values"] = node.enum_values
    values.update(changes)
    return Node(**values)


def _with_default(node: Node) -> Node:
    return _replace(node, has_default=True)


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _num(value: Any) -> Number | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value


_CACHE_ATTRIBUTE = "_compatibility_root"


def root_node(schema: JsonSchema) -> Node:
    """The compiled root of a parsed schema, compiled once and kept with it."""
    cached = schema.__dict__.get(_CACHE_ATTRIBUTE)
    if cached is None:
        cached = Compiler(schema).compile(schema.document)
        schema.__dict__[_CACHE_ATTRIBUTE] = cached
    return cached
