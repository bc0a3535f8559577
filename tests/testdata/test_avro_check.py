"""The compiled check is sound: whatever it accepts, fastavro's validation accepts, for
generated values and for the same values damaged (fields dropped, retyped, out of range)."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from fastavro import parse_schema as fastavro_parse
from fastavro.validation import validate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.formats import parse_schema
from testdata import generator_for
from testdata.avro_check import compile_check
from tests.registry.strategies import avro_schemas

JUNK: list[Any] = [None, True, 0, -(2**31) - 1, 2**63, 1.5, "x", b"x", [], {}, [1], {"k": 1}]


def damage(value: Any, rnd: random.Random) -> Any:
    """A copy with one nested place replaced by junk or (in a dict) removed."""
    value = copy.deepcopy(value)
    holders: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict | list) and node:
            holders.append(node)
            for item in node.values() if isinstance(node, dict) else node:
                walk(item)

    walk(value)
    if not holders:
        return rnd.choice(JUNK)
    holder = rnd.choice(holders)
    if isinstance(holder, dict):
        key = rnd.choice(list(holder))
        if rnd.random() < 0.3:
            del holder[key]
        else:
            holder[key] = rnd.choice(JUNK)
    else:
        holder[rnd.randrange(len(holder))] = rnd.choice(JUNK)
    return value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=avro_schemas(), seed=st.integers(0, 2**32))
def test_the_check_accepts_only_what_fastavro_accepts(schema: Any, seed: int) -> None:
    named: dict[str, Any] = {}
    parsed = fastavro_parse(schema, named_schemas=named)
    check = compile_check(parsed, named)
    generator = generator_for(parse_schema("AVRO", json.dumps(schema)), seed=seed)
    rnd = random.Random(seed)
    for _ in range(5):
        value = generator.generate()
        for candidate in (damage(value, rnd), damage(value, rnd)):
            if check(candidate):
                assert validate(candidate, parsed, raise_errors=False), candidate


def test_the_check_answers_for_plain_records() -> None:
    schema = {"type": "record", "name": "R", "fields": [
        {"name": "a", "type": "int"}, {"name": "b", "type": ["null", "string"]},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["X"]}}]}  # fmt: skip
    named: dict[str, Any] = {}
    check = compile_check(fastavro_parse(schema, named_schemas=named), named)
    assert check({"a": 1, "b": None, "e": "X"})
    assert check({"a": 1, "b": "s", "e": "X"})
    assert not check({"a": 2**31, "b": None, "e": "X"})
    assert not check({"a": True, "b": None, "e": "X"})
    assert not check({"a": 1, "e": "X"})
    assert not check({"a": 1, "b": None, "e": "Y"})
