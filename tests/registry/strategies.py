"""Generated schemas for property and differential tests.

`AvroGenerator` builds random, valid Avro schemas (as decoded JSON) from a `random.Random`,
and `mutate` derives an evolved version of one the way people evolve schemas: fields added
or removed with and without defaults, type promotions and demotions, enum, fixed and union
changes, renames with and without aliases. Hypothesis strategies wrap both, drawing the
`Random` from hypothesis so that failures replay.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from typing import Any

from hypothesis import strategies as st

Json = Any

PRIMITIVES = ["null", "boolean", "int", "long", "float", "double", "bytes", "string"]
PROMOTIONS = {
    "int": "long",
    "long": "float",
    "float": "double",
    "string": "bytes",
    "bytes": "string",
}
DEMOTIONS = {"long": "int", "float": "long", "double": "float"}
LOGICAL = [
    {"type": "int", "logicalType": "date"},
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "long", "logicalType": "timestamp-micros"},
    {"type": "string", "logicalType": "uuid"},
    {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
]
NAMESPACE = "com.example"


class AvroGenerator:
    """Random valid Avro schemas: a top-level record with nested and shared named types."""

    def __init__(self, rng: random.Random, max_depth: int = 3, max_fields: int = 6) -> None:
        self.rng = rng
        self.max_depth = max_depth
        self.max_fields = max_fields
        self.defined: dict[str, Json] = {}
        self.counter = 0

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def schema(self) -> Json:
        """A top-level record."""
        return self.record(0)

    def record(self, depth: int) -> Json:
        name = self.fresh("Rec")
        fullname = f"{NAMESPACE}.{name}"
        record: Json = {"type": "record", "name": name, "namespace": NAMESPACE, "fields": []}
        self.defined[fullname] = record
        for index in range(self.rng.randint(1, self.max_fields)):
            record["fields"].append(self.field(f"f{index}", depth + 1, fullname))
        return record

    def field(self, name: str, depth: int, enclosing: str) -> Json:
        rng = self.rng
        if depth > 1 and rng.random() < 0.05:
            # A recursive reference back to the enclosing record.
            return {"name": name, "type": ["null", enclosing], "default": None}
        field_type = self.type(depth)
        field: Json = {"name": name, "type": field_type}
        if rng.random() < 0.4:
            field["default"] = self.default(field_type)
        if rng.random() < 0.1:
            field["confluent:tags"] = ["PII"]
        if rng.random() < 0.1:
            field["doc"] = "documentation"
        return field

    def type(self, depth: int) -> Json:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45 or depth >= self.max_depth:
            name = rng.choice(PRIMITIVES[1:])
            return name if rng.random() < 0.8 else {"type": name}
        if roll < 0.55:
            return copy.deepcopy(rng.choice(LOGICAL))
        if roll < 0.63:
            return self.enum()
        if roll < 0.68:
            return {"type": "fixed", "name": self.fresh("Fix"), "size": rng.randint(1, 16)}
        if roll < 0.75:
            return {"type": "array", "items": self.type(depth + 1)}
        if roll < 0.80:
            return {"type": "map", "values": self.type(depth + 1)}
        if roll < 0.90:
            return self.union(depth)
        if roll < 0.95 and self.shareable():
            return rng.choice(self.shareable())
        return self.record(depth)

    def union(self, depth: int) -> Json:
        """`null` and one to three other branches, each of a different type."""
        branches: list[Json] = ["null"]
        seen = {"null"}
        for _ in range(self.rng.choice([1, 1, 2, 3])):
            branch = self.type(depth + 1)
            identity = _identity(branch)
            if identity is None or identity in seen:
                continue
            seen.add(identity)
            branches.append(branch)
        if len(branches) == 1:
            branches.append("string")
        if self.rng.random() < 0.3:
            branches.append(branches.pop(0))
        return branches

    def shareable(self) -> list[str]:
        return [name for name, body in self.defined.items() if body["type"] != "record"]

    def enum(self) -> Json:
        count = self.rng.randint(1, 5)
        enum: Json = {
            "type": "enum",
            "name": self.fresh("Enum"),
            "symbols": [f"S{index}" for index in range(count)],
        }
        if self.rng.random() < 0.3:
            enum["default"] = enum["symbols"][0]
        self.defined[f"{NAMESPACE}.{enum['name']}"] = enum
        return enum

    def default(self, schema: Json, budget: int = 20) -> Json:
        """A valid default for `schema` (union: for its first branch).

        Raises KeyError when there is none to give (a type that requires itself).
        """
        if budget <= 0:
            raise KeyError("a record that always contains itself has no finite default")
        if isinstance(schema, list):
            return self.default(schema[0], budget - 1)
        if isinstance(schema, str):
            if schema in PRIMITIVES:
                return _PRIMITIVE_DEFAULTS[schema]
            return self.default(self.defined[schema], budget - 1)
        kind = schema["type"]
        if kind in PRIMITIVES:
            return _PRIMITIVE_DEFAULTS[kind]
        if kind == "enum":
            return schema["symbols"][0]
        if kind == "fixed":
            return "\u0000" * schema["size"]
        if kind == "array":
            return []
        if kind == "map":
            return {}
        if kind == "record":
            return {f["name"]: self.default(f["type"], budget - 1) for f in schema["fields"]}
        raise AssertionError(f"no default for {schema!r}")


def _identity(schema: Json) -> str | None:
    """What makes a union branch distinct: its type, or its name for named types."""
    if isinstance(schema, list):
        return None
    if isinstance(schema, str):
        return schema
    if schema["type"] in ("record", "enum", "fixed"):
        return f"{NAMESPACE}.{schema['name']}"
    return str(schema["type"])


_PRIMITIVE_DEFAULTS: dict[str, Json] = {
    "null": None,
    "boolean": False,
    "int": 0,
    "long": 0,
    "float": 0.5,
    "double": 0.5,
    "bytes": "",
    "string": "",
}


def _containers(schema: Json) -> list[Json]:
    """Every object and array inside `schema` (default values excluded), itself included."""
    found: list[Json] = []
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            found.append(node)
            stack.extend(node)
        elif isinstance(node, dict):
            found.append(node)
            stack.extend(value for key, value in node.items() if key != "default")
    return found


def _records(schema: Json) -> list[Json]:
    """Every record definition inside `schema`."""
    return _definitions(schema, "record")


def _definitions(schema: Json, kind: str) -> list[Json]:
    """Every definition of a named type of `kind` inside `schema`."""
    return [
        node
        for node in _containers(schema)
        if isinstance(node, dict) and node.get("type") == kind and "name" in node
    ]


Mutation = Callable[[random.Random, Json, AvroGenerator], bool]


def _add_field(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    record = rng.choice(_records(schema))
    field_type = gen.type(2)
    field: Json = {"name": gen.fresh("added"), "type": field_type}
    if rng.random() < 0.6:
        field["default"] = gen.default(field_type)
    record["fields"].insert(rng.randint(0, len(record["fields"])), field)
    return True


def _remove_field(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    record = rng.choice(_records(schema))
    if len(record["fields"]) < 2:
        return False
    record["fields"].pop(rng.randrange(len(record["fields"])))
    return True


def _pick_field(rng: random.Random, schema: Json) -> Json:
    return rng.choice(rng.choice(_records(schema))["fields"])


def _primitive_of(field: Json) -> str | None:
    spelled = field["type"]
    if isinstance(spelled, dict) and set(spelled) == {"type"}:
        spelled = spelled["type"]
    return spelled if isinstance(spelled, str) and spelled in PRIMITIVES else None


def _retype(field: Json, new_type: Json, gen: AvroGenerator) -> None:
    field["type"] = new_type
    if "default" in field:
        field["default"] = gen.default(new_type)


def _promote(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    field = _pick_field(rng, schema)
    kind = _primitive_of(field)
    table = PROMOTIONS if rng.random() < 0.6 else DEMOTIONS
    if kind not in table:
        return False
    _retype(field, table[kind], gen)
    return True


def _change_type(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    _retype(_pick_field(rng, schema), gen.type(2), gen)
    return True


def _toggle_default(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    field = _pick_field(rng, schema)
    if "default" in field:
        del field["default"]
    else:
        field["default"] = gen.default(field["type"])
    return True


def _wrap_in_union(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    field = _pick_field(rng, schema)
    spelled = field["type"]
    if isinstance(spelled, list):
        if len(spelled) < 2:
            return False
        # Drop a branch, or add one.
        if rng.random() < 0.5:
            spelled.pop(rng.randrange(len(spelled)))
        else:
            extra = rng.choice(["int", "string", "boolean", "double"])
            if extra in spelled or {"type": extra} in spelled:
                return False
            spelled.append(extra)
        _retype(field, spelled if len(spelled) > 1 else spelled[0], gen)
        return True
    if spelled == "null" or spelled == {"type": "null"}:
        return False
    _retype(field, ["null", spelled], gen)
    return True


def _enum_change(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    enums = _definitions(schema, "enum")
    if not enums:
        return False
    enum = rng.choice(enums)
    roll = rng.random()
    if roll < 0.4:
        enum["symbols"].append(gen.fresh("NEW"))
    elif roll < 0.8 and len(enum["symbols"]) > 1:
        removed = enum["symbols"].pop(rng.randrange(len(enum["symbols"])))
        if enum.get("default") == removed:
            del enum["default"]
        _repair_defaults(schema, enum, gen)
    elif "default" in enum:
        del enum["default"]
    else:
        enum["default"] = enum["symbols"][0]
    return True


def _repair_defaults(schema: Json, enum: Json, gen: AvroGenerator) -> None:
    """Field defaults naming a removed symbol are regenerated (the schema must stay valid)."""
    for record in _records(schema):
        for field in record["fields"]:
            if "default" in field:
                gen.defined[f"{NAMESPACE}.{enum['name']}"] = enum
                field["default"] = gen.default(field["type"])


def _fixed_change(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    fixeds = _definitions(schema, "fixed")
    if not fixeds:
        return False
    fixed = rng.choice(fixeds)
    fixed["size"] = fixed["size"] + 1
    _repair_defaults(schema, fixed, gen)
    return True


def _rename_type(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    named = [*_records(schema), *_definitions(schema, "enum"), *_definitions(schema, "fixed")]
    target = rng.choice(named)
    old = target["name"]
    if f'"{NAMESPACE}.{old}"' in json.dumps(schema):
        return False  # referenced by name elsewhere: renaming would break the schema
    target["name"] = gen.fresh("Renamed")
    if rng.random() < 0.5:
        space = target.get("namespace", NAMESPACE)
        target["aliases"] = [f"{space}.{old}"]
    return True


def _rename_field(rng: random.Random, schema: Json, gen: AvroGenerator) -> bool:
    field = _pick_field(rng, schema)
    old = field["name"]
    field["name"] = gen.fresh("renamed")
    if rng.random() < 0.6:
        field["aliases"] = [old]
    return True


MUTATIONS: list[Mutation] = [
    _add_field,
    _remove_field,
    _promote,
    _change_type,
    _toggle_default,
    _wrap_in_union,
    _enum_change,
    _fixed_change,
    _rename_type,
    _rename_field,
]


def mutate(rng: random.Random, schema: Json, gen: AvroGenerator, steps: int = 1) -> Json:
    """An evolved copy of `schema` after `steps` random changes (the original is kept)."""
    evolved = copy.deepcopy(schema)
    done = 0
    attempts = 0
    while done < steps and attempts < steps * 10:
        attempts += 1
        gen.defined = {
            f"{d.get('namespace', NAMESPACE)}.{d['name']}": d
            for kind in ("record", "enum", "fixed")
            for d in _definitions(evolved, kind)
        }
        try:
            changed = rng.choice(MUTATIONS)(rng, evolved, gen)
        except KeyError:
            # A named type this mutation needed was removed by an earlier one: the result
            # is invalid, which the caller finds when it parses it.
            changed = True
        done += changed
    return evolved


def avro_schemas(max_depth: int = 3, max_fields: int = 6) -> st.SearchStrategy[Json]:
    """Valid Avro schemas (decoded JSON), each a top-level record."""
    return st.randoms(use_true_random=False).map(
        lambda rng: AvroGenerator(rng, max_depth, max_fields).schema()
    )


def avro_evolutions(steps: int = 2) -> st.SearchStrategy[tuple[Json, Json]]:
    """(old, new) pairs: a schema and a mutated version of it (possibly invalid: parse first)."""

    def build(rng: random.Random) -> tuple[Json, Json]:
        gen = AvroGenerator(rng)
        base = gen.schema()
        return base, mutate(rng, base, gen, rng.randint(1, steps))

    return st.randoms(use_true_random=False).map(build)


def respell(schema: Json, rng: random.Random) -> Json:
    """The same schema spelled differently: key order, `{"type": "int"}` for `"int"`, docs."""
    if isinstance(schema, list):
        return [respell(item, rng) for item in schema]
    if isinstance(schema, str):
        return {"type": schema} if schema in PRIMITIVES and rng.random() < 0.5 else schema
    if not isinstance(schema, dict):
        return schema
    out = _shuffled(schema, rng)
    for key in ("items", "values"):
        if key in out:
            out[key] = respell(out[key], rng)
    if "fields" in out:
        out["fields"] = [_respell_field(field, rng) for field in out["fields"]]
    if "name" in out and rng.random() < 0.3:
        out["doc"] = "respelled"
    return out


def _respell_field(field: Json, rng: random.Random) -> Json:
    out = _shuffled(field, rng)
    out["type"] = respell(out["type"], rng)
    if "order" not in out and rng.random() < 0.2:
        out["order"] = "ascending"
    return out


def _shuffled(mapping: dict[str, Json], rng: random.Random) -> dict[str, Json]:
    keys = list(mapping)
    rng.shuffle(keys)
    return {key: mapping[key] for key in keys}


_JUNK: list[Json] = [
    "int",
    "string",
    "null",
    "record",
    "enum",
    "fixed",
    "array",
    "map",
    "R",
    f"{NAMESPACE}.Rec1",
    "",
    "decimal",
    None,
    1,
    -1,
    2.5,
    True,
    [],
    {},
    ["x"],
    {"a": 1},
    ["null", "int"],
    {"type": "int"},
]
_KEYS = ["type", "default", "name", "logicalType", "size", "precision", "scale", "order"]
_KEYS += ["aliases", "namespace", "symbols", "fields", "items", "values"]


def corrupt(schema: Json, rng: random.Random, steps: int = 1) -> Json:
    """A copy of `schema` with `steps` random attributes or items replaced by junk or removed."""
    damaged = copy.deepcopy(schema)
    for _ in range(steps):
        target = rng.choice(_containers(damaged))
        junk = copy.deepcopy(rng.choice(_JUNK))
        if isinstance(target, dict):
            key = rng.choice([*target, *_KEYS])
            if key in target and rng.random() < 0.2:
                del target[key]
            else:
                target[key] = junk
        elif target:
            target[rng.randrange(len(target))] = junk
    return damaged


def damaged_avro_schemas() -> st.SearchStrategy[Json]:
    """Generated schemas with a few random parts replaced by junk: mostly invalid."""

    def build(rng: random.Random) -> Json:
        return corrupt(AvroGenerator(rng).schema(), rng, rng.randint(1, 3))

    return st.randoms(use_true_random=False).map(build)
