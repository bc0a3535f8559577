"""Generated JSON Schemas, evolved versions of them, and instances, for property tests.

`JsonSchemaGenerator` builds random valid draft-7 schemas from a small vocabulary that
exercises every rule family (types, enums, bounds, content models, tuples, combinators,
`not`, `$ref`); `mutate` derives an evolved version the way people change schemas; and
`instance_for` builds instances that aim to satisfy a schema (callers filter with a real
validator). Hypothesis strategies wrap them, drawing the `Random` from hypothesis.
"""

from __future__ import annotations

import copy
import random
from typing import Any

from hypothesis import strategies as st

Json = Any

NAMES = ["a", "b", "c", "d"]
# Patterns with an instance known to match each.
PATTERNS = {"^a": "abc", "^[0-9]+$": "123", "z$": "xyz", "a*": "xyz", "^(b|)": "q"}
#: `propertyNames` schemas: some accept every name (a pattern every string matches, `string`),
#: some narrow (an anchored pattern, a length).
NAME_SCHEMAS: list[Any] = [
    {"pattern": "a*"},
    {"type": "string", "pattern": "^(x|)"},
    {"type": "string"},
    {"pattern": "^[a-e]$"},
    {"maxLength": 1},
    {"pattern": "^a*$"},
]
SCALAR_TYPES = ["string", "integer", "number", "boolean", "null"]


class JsonSchemaGenerator:
    """Random, valid draft-7 JSON Schemas (as decoded JSON) of bounded depth."""

    def __init__(self, rnd: random.Random, max_depth: int = 3) -> None:
        self.rnd = rnd
        self.max_depth = max_depth

    def schema(self) -> Json:
        """A root schema, sometimes with definitions referenced through `$ref`."""
        root = self.node(0)
        if self.rnd.random() < 0.2 and isinstance(root, dict):
            root = {
                "definitions": {"d": self.node(1)},
                "allOf": [root, {"$ref": "#/definitions/d"}],
            }
        return root

    def node(self, depth: int) -> Json:
        rnd = self.rnd
        kinds = ["string", "number", "integer", "boolean", "null", "enum", "const", "any"]
        if depth < self.max_depth:
            kinds += ["object", "object", "array", "tuple", "anyOf", "oneOf", "allOf", "not"]
            kinds += ["typelist", "composed"]
        kind = rnd.choice(kinds)
        return getattr(self, f"_{kind}")(depth)

    def _string(self, depth: int) -> Json:
        out: dict[str, Any] = {"type": "string"}
        if self.rnd.random() < 0.3:
            out["minLength"] = self.rnd.randint(0, 3)
        if self.rnd.random() < 0.3:
            out["maxLength"] = self.rnd.randint(3, 6)
        if self.rnd.random() < 0.2:
            out["pattern"] = self.rnd.choice(list(PATTERNS))
        return out

    def _number(self, depth: int, kind: str = "number") -> Json:
        out: dict[str, Any] = {"type": kind}
        rnd = self.rnd
        if rnd.random() < 0.3:
            out["minimum"] = rnd.randint(-5, 0)
        if rnd.random() < 0.3:
            out["maximum"] = rnd.randint(1, 10)
        if rnd.random() < 0.2:
            out["exclusiveMaximum"] = rnd.randint(2, 12)
        if rnd.random() < 0.2:
            out["exclusiveMinimum"] = rnd.randint(-8, -1)
        if rnd.random() < 0.2:
            out["multipleOf"] = rnd.choice([1, 2, 3, 4, 6])
        return out

    def _integer(self, depth: int) -> Json:
        return self._number(depth, "integer")

    def _boolean(self, depth: int) -> Json:
        return {"type": "boolean"}

    def _null(self, depth: int) -> Json:
        return {"type": "null"}

    def _any(self, depth: int) -> Json:
        return self.rnd.choice([{}, True])

    def _enum(self, depth: int) -> Json:
        pool = ["x", "y", "z", 1, 2, None, True]
        return {"enum": self.rnd.sample(pool, self.rnd.randint(1, 4))}

    def _const(self, depth: int) -> Json:
        return {"const": self.rnd.choice(["x", 1, None, False])}

    def _typelist(self, depth: int) -> Json:
        return {"type": sorted(self.rnd.sample(SCALAR_TYPES, self.rnd.randint(1, 3)))}

    def _object(self, depth: int) -> Json:
        rnd = self.rnd
        names = rnd.sample(NAMES, rnd.randint(0, 3))
        out: dict[str, Any] = {"type": "object"}
        out["properties"] = {name: self.node(depth + 1) for name in names}
        required = [name for name in names if rnd.random() < 0.4]
        if required:
            out["required"] = required
        choice = rnd.random()
        if choice < 0.35:
            out["additionalProperties"] = False
        elif choice < 0.5:
            out["additionalProperties"] = self.node(depth + 1)
        elif choice < 0.6:
            out["patternProperties"] = {"^x": self.node(depth + 1)}
            out["additionalProperties"] = False
        if rnd.random() < 0.15:
            out["maxProperties"] = rnd.randint(1, 4)
        if rnd.random() < 0.1:
            out["propertyNames"] = copy.deepcopy(rnd.choice(NAME_SCHEMAS))
        if rnd.random() < 0.1 and names:
            out["dependencies"] = {names[0]: rnd.sample(NAMES, 1)}
        return out

    def _array(self, depth: int) -> Json:
        rnd = self.rnd
        out: dict[str, Any] = {"type": "array"}
        if rnd.random() < 0.8:
            out["items"] = self.node(depth + 1)
        if rnd.random() < 0.25:
            out["minItems"] = rnd.randint(0, 2)
        if rnd.random() < 0.25:
            out["maxItems"] = rnd.randint(2, 4)
        if rnd.random() < 0.15:
            out["uniqueItems"] = True
        return out

    def _tuple(self, depth: int) -> Json:
        rnd = self.rnd
        out: dict[str, Any] = {
            "type": "array",
            "items": [self.node(depth + 1) for _ in range(rnd.randint(1, 3))],
        }
        choice = rnd.random()
        if choice < 0.4:
            out["additionalItems"] = False
        elif choice < 0.6:
            out["additionalItems"] = self.node(depth + 1)
        return out

    def _combined(self, depth: int, keyword: str) -> Json:
        return {keyword: [self.node(depth + 1) for _ in range(self.rnd.randint(1, 3))]}

    def _anyOf(self, depth: int) -> Json:  # noqa: N802
        return self._combined(depth, "anyOf")

    def _oneOf(self, depth: int) -> Json:  # noqa: N802
        return self._combined(depth, "oneOf")

    def _allOf(self, depth: int) -> Json:  # noqa: N802
        return self._combined(depth, "allOf")

    def _composed(self, depth: int) -> Json:
        """An object built from a member schema plus its own properties; closed, when it is,
        by `unevaluatedProperties` (only a keyword from 2019-09 on)."""
        rnd = self.rnd
        member = self._object(depth + 1)
        member.pop("additionalProperties", None)
        member.pop("patternProperties", None)
        out: dict[str, Any] = {
            "type": "object",
            rnd.choice(["allOf", "anyOf"]): [member],
            "properties": {name: self.node(depth + 1) for name in rnd.sample(NAMES, 2)},
        }
        if rnd.random() < 0.6:
            out["unevaluatedProperties"] = rnd.choice([False, {"type": "string"}])
        return out

    def _not(self, depth: int) -> Json:
        return {
            "type": self.rnd.choice(["string", "number", "object"]),
            "not": self.node(depth + 1),
        }


def _locations(schema: Json) -> list[Json]:
    """Every dict subschema, for picking a place to mutate."""
    found: list[Json] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if not isinstance(node, dict):
            continue
        found.append(node)
        for key in ("properties", "definitions", "patternProperties"):
            stack.extend(node.get(key, {}).values())
        for key in ("anyOf", "oneOf", "allOf"):
            stack.extend(node.get(key, []))
        items = node.get("items")
        stack.extend(items if isinstance(items, list) else [items])
        stack.extend(
            [node.get("additionalProperties"), node.get("additionalItems"), node.get("not")]
        )
    return found


def mutate(schema: Json, rnd: random.Random, steps: int = 2) -> Json:
    """An evolved copy: a few random edits of the kinds schema authors make."""
    evolved = copy.deepcopy(schema)
    if not isinstance(evolved, dict):
        return JsonSchemaGenerator(rnd).node(0)
    for _ in range(steps):
        node = rnd.choice(_locations(evolved))
        edit = rnd.choice(_EDITS)
        edit(node, rnd)
    return evolved


def _set_or_drop(node: Json, key: str, value: Any, rnd: random.Random) -> None:
    if key in node and rnd.random() < 0.5:
        del node[key]
    else:
        node[key] = value


def _edit_type(node: Json, rnd: random.Random) -> None:
    kind = node.get("type")
    if kind == "integer":
        node["type"] = "number"
    elif kind == "number":
        node["type"] = "integer"
    elif isinstance(kind, str) and rnd.random() < 0.5:
        node["type"] = sorted({kind, rnd.choice(SCALAR_TYPES)})
    elif isinstance(kind, list) and len(kind) > 1:
        node["type"] = kind[:-1]


def _edit_bounds(node: Json, rnd: random.Random) -> None:
    key = rnd.choice(["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"])
    low = key.startswith("min")
    _set_or_drop(node, key, rnd.randint(0, 3) if low else rnd.randint(3, 8), rnd)


def _edit_property(node: Json, rnd: random.Random) -> None:
    properties = node.get("properties")
    if not isinstance(properties, dict):
        return
    name = rnd.choice(NAMES)
    if name in properties and rnd.random() < 0.5:
        del properties[name]
        if name in node.get("required", []):
            node["required"].remove(name)
            if not node["required"]:
                del node["required"]
    else:
        properties[name] = JsonSchemaGenerator(rnd, max_depth=1).node(1)


def _edit_required(node: Json, rnd: random.Random) -> None:
    properties = node.get("properties")
    if not isinstance(properties, dict) or not properties:
        return
    name = rnd.choice(sorted(properties))
    required = node.setdefault("required", [])
    if name in required:
        required.remove(name)
    else:
        required.append(name)
    if not required:
        del node["required"]


def _edit_content_model(node: Json, rnd: random.Random) -> None:
    if node.get("type") == "object":
        _set_or_drop(
            node, "additionalProperties", rnd.choice([False, True, {"type": "string"}]), rnd
        )
    elif isinstance(node.get("items"), list):
        _set_or_drop(node, "additionalItems", rnd.choice([False, {"type": "string"}]), rnd)


def _edit_enum(node: Json, rnd: random.Random) -> None:
    values = node.get("enum")
    if isinstance(values, list):
        if len(values) > 1 and rnd.random() < 0.5:
            values.pop(rnd.randrange(len(values)))
        elif "w" not in values:
            values.append("w")


def _edit_wrap(node: Json, rnd: random.Random) -> None:
    inner = dict(node)
    definitions = inner.pop("definitions", None)
    node.clear()
    node["anyOf"] = [inner, {"type": "null"}] if rnd.random() < 0.5 else [inner]
    if definitions is not None:
        node["definitions"] = definitions


def _edit_replace(node: Json, rnd: random.Random) -> None:
    replacement = JsonSchemaGenerator(rnd, max_depth=1).node(1)
    definitions = node.get("definitions")
    node.clear()
    if isinstance(replacement, dict):
        node.update(replacement)
    if definitions is not None:
        node["definitions"] = definitions


def _edit_names(node: Json, rnd: random.Random) -> None:
    if node.get("type") == "object":
        _set_or_drop(node, "propertyNames", copy.deepcopy(rnd.choice(NAME_SCHEMAS)), rnd)
    elif node.get("type") == "string":
        _set_or_drop(node, "pattern", rnd.choice(list(PATTERNS)), rnd)


_EDITS = [
    _edit_type,
    _edit_names,
    _edit_bounds,
    _edit_property,
    _edit_property,
    _edit_required,
    _edit_content_model,
    _edit_enum,
    _edit_wrap,
    _edit_replace,
]


def instance_for(schema: Json, rnd: random.Random, root: Json = None, depth: int = 0) -> Json:
    """An instance that tries to satisfy `schema` (not always: validate before relying on it)."""
    root = schema if root is None else root
    if schema is True or schema == {} or depth > 6:
        return rnd.choice([0, "s", None, [], {}, True, 2.5])
    if schema is False:
        return None
    if "$ref" in schema:
        return instance_for(root["definitions"]["d"], rnd, root, depth + 1)
    if "enum" in schema:
        return rnd.choice(schema["enum"])
    if "const" in schema:
        return schema["const"]
    members = schema.get("allOf") or schema.get("anyOf")
    if schema.get("type") == "object" and members:
        member = instance_for(members[0], rnd, root, depth + 1)
        own_schema = {key: value for key, value in schema.items() if key not in ("allOf", "anyOf")}
        own = instance_for(own_schema, rnd, root, depth + 1)
        return {**member, **own} if isinstance(member, dict) else own
    for keyword in ("anyOf", "oneOf"):
        if schema.get(keyword):
            return instance_for(rnd.choice(schema[keyword]), rnd, root, depth + 1)
    if schema.get("allOf"):
        return instance_for(schema["allOf"][0], rnd, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = rnd.choice(kind)
    if kind == "string":
        if "pattern" in schema:
            return PATTERNS.get(schema["pattern"], "")
        low, high = schema.get("minLength", 0), schema.get("maxLength", 6)
        return "s" * rnd.randint(low, max(low, high))
    if kind in ("integer", "number"):
        value = rnd.randint(-3, 9)
        step = schema.get("multipleOf", 1)
        value = value - value % step
        return value + (0.5 if kind == "number" and rnd.random() < 0.3 else 0)
    if kind == "boolean":
        return rnd.random() < 0.5
    if kind == "null":
        return None
    if kind == "object":
        properties = schema.get("properties", {})
        out = {
            name: instance_for(sub, rnd, root, depth + 1)
            for name, sub in properties.items()
            if name in schema.get("required", []) or rnd.random() < 0.7
        }
        if rnd.random() < 0.3:
            extra = schema.get("additionalProperties", True)
            out[rnd.choice(["x1", "e", *NAMES])] = instance_for(extra, rnd, root, depth + 1)
        return out
    if kind == "array":
        items = schema.get("items", True)
        if isinstance(items, list):
            out = [instance_for(sub, rnd, root, depth + 1) for sub in items]
            if rnd.random() < 0.3:
                out.append(instance_for(schema.get("additionalItems", True), rnd, root, depth + 1))
            return out
        return [instance_for(items, rnd, root, depth + 1) for _ in range(rnd.randint(0, 3))]
    return instance_for(True, rnd, root, depth + 1)


@st.composite
def json_schemas(draw: st.DrawFn) -> Json:
    """A random JSON Schema document."""
    return JsonSchemaGenerator(draw(st.randoms(use_true_random=False))).schema()


@st.composite
def json_schema_histories(draw: st.DrawFn, length: int = 2) -> list[Json]:
    """`length` versions, each a mutation of the one before (or sometimes unrelated)."""
    rnd = draw(st.randoms(use_true_random=False))
    versions = [JsonSchemaGenerator(rnd).schema()]
    while len(versions) < length:
        if rnd.random() < 0.1:
            versions.append(JsonSchemaGenerator(rnd).schema())
        else:
            versions.append(mutate(versions[-1], rnd, steps=rnd.randint(1, 3)))
    return versions


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 10)
    | st.sampled_from([0.5, 2.5])
    | st.text("abxz019", max_size=4),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["a", "b", "c", "d", "x1"]), children, max_size=3)
    ),
    max_leaves=8,
)


_KEYWORDS = [
    *("type", "properties", "required", "additionalProperties", "items", "prefixItems"),
    *("additionalItems", "enum", "const", "allOf", "anyOf", "oneOf", "not", "$ref", "$id"),
    *("id", "$defs", "definitions", "minimum", "maximum", "exclusiveMinimum"),
    *("exclusiveMaximum", "multipleOf", "minLength", "maxLength", "pattern"),
    *("patternProperties", "dependencies", "dependentRequired", "dependentSchemas", "if"),
    *("then", "else", "contains", "minContains", "propertyNames", "unevaluatedProperties"),
    *("unevaluatedItems", "$schema", "$anchor", "$dynamicRef", "$dynamicAnchor"),
    *("$recursiveRef", "uniqueItems", "minItems", "maxItems", "default", "a", "b"),
]
_WORDS = [
    *("string", "object", "array", "number", "integer", "null", "boolean", "#", "#a", "a"),
    *("#/definitions/a", "#/$defs/a", "http://example.com/y", "^a"),
    "https://json-schema.org/draft/2020-12/schema",
    "http://json-schema.org/draft-04/schema#",
]
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=16)
    | st.sampled_from(_WORDS)
)
keyword_soup = st.dictionaries(
    st.sampled_from(_KEYWORDS),
    st.recursive(
        _scalars,
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.sampled_from(_KEYWORDS), children, max_size=4)
        ),
        max_leaves=12,
    ),
    max_size=5,
)
"""Arbitrary documents built from JSON Schema keywords: mostly invalid, sometimes odd but valid."""


DRAFT_2020 = "https://json-schema.org/draft/2020-12/schema"


def to_2020(schema: Json) -> Json:
    """The same schema spelled in draft 2020-12: tuples as `prefixItems`, `$defs`, and
    dependency arrays as `dependentRequired`."""
    out = _to_2020(schema)
    if isinstance(out, dict):
        out = {"$schema": DRAFT_2020, **out}
    return out


def _to_2020(node: Json) -> Json:
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties"):
            out[key] = {name: _to_2020(sub) for name, sub in value.items()}
        elif key == "definitions":
            out["$defs"] = {name: _to_2020(sub) for name, sub in value.items()}
        elif key == "$ref":
            out[key] = value.replace("#/definitions/", "#/$defs/")
        elif key == "items" and isinstance(value, list):
            out["prefixItems"] = [_to_2020(sub) for sub in value]
            if "additionalItems" in node:
                out["items"] = _to_2020(node["additionalItems"])
        elif key == "additionalItems":
            continue
        elif key == "dependencies":
            out["dependentRequired"] = value
        elif key in ("anyOf", "oneOf", "allOf"):
            out[key] = [_to_2020(sub) for sub in value]
        elif key in ("items", "additionalProperties", "not"):
            out[key] = _to_2020(value)
        else:
            out[key] = value
    return out
