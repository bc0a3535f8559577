"""Compatible means readable: data written with the writer's schema decodes with the reader's.

An independent check of the verdicts against fastavro's schema resolution, which is what
consumers run: whenever we call a (reader, writer) pair compatible, random data written with
the writer's schema must decode with the reader's.
"""

from __future__ import annotations

import datetime
import decimal
import io
import json
import random
import uuid
from typing import Any

import fastavro
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from registry.compatibility.avro import incompatibilities
from registry.formats import SchemaError
from registry.formats.avro import AvroSchema, AvroType, parse_avro
from tests.registry.strategies import avro_evolutions

EPOCH_SECONDS = (0, 2_000_000_000)


def value_of(node: AvroType, rng: random.Random, depth: int = 0) -> Any:
    """A random value of `node`, as fastavro's writer takes it."""
    kind, logical = node.kind, node.logical
    if kind == "union":
        branches = node.branches
        if depth > 3:
            quiet = [b for b in branches if b.kind == "null"]
            return value_of(quiet[0] if quiet else branches[0], rng, depth + 1)
        return value_of(rng.choice(branches), rng, depth + 1)
    if logical == "decimal":
        return decimal.Decimal(rng.randint(-(10**6), 10**6)).scaleb(-node.scale)
    if logical == "date":
        return datetime.date.fromordinal(rng.randint(700_000, 750_000))
    if logical in ("timestamp-millis", "timestamp-micros"):
        seconds = rng.randint(*EPOCH_SECONDS)
        return datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    if logical == "uuid":
        return uuid.UUID(int=rng.getrandbits(128))

    def text() -> str:
        return "".join(rng.choice("abé€") for _ in range(rng.randint(0, 6)))

    simple = {
        "null": lambda: None,
        "boolean": lambda: rng.random() < 0.5,
        "int": lambda: rng.randint(-(2**31), 2**31 - 1),
        "long": lambda: rng.randint(-(2**63), 2**63 - 1),
        "float": lambda: rng.uniform(-1e3, 1e3),
        "double": lambda: rng.uniform(-1e9, 1e9),
        # UTF-8, since the spec's bytes-to-string promotion assumes text in the bytes.
        "bytes": lambda: text().encode(),
        "string": text,
        # ASCII: fastavro may write a fixed-sized value into a `bytes` branch of a union, and
        # reads `bytes` with the first reader branch that matches, which can be `string`.
        "fixed": lambda: bytes(rng.choice(b"abcxyz") for _ in range(node.size)),
        "enum": lambda: rng.choice(node.symbols),
    }
    if kind in simple:
        return simple[kind]()
    if kind == "array":
        assert node.items is not None
        return [value_of(node.items, rng, depth + 1) for _ in range(rng.randint(0, 2))]
    if kind == "map":
        assert node.values is not None
        return {f"k{i}": value_of(node.values, rng, depth + 1) for i in range(rng.randint(0, 2))}
    return {field.name: value_of(field.type, rng, depth + 1) for field in node.fields}


def decodes(reader: AvroSchema, writer: AvroSchema, value: Any) -> None:
    """Write `value` with `writer` and read it back with `reader`, which must not fail.

    fastavro's writer picks a union branch by the value's Python type and can pick one
    that does not hold the value (an enum symbol into a `uuid` string branch); values that
    do not survive a round trip through the writer's own schema are skipped, since they say
    nothing about resolution.
    """
    buffer = io.BytesIO()
    try:
        fastavro.schemaless_writer(buffer, writer.fastavro_schema(), value)
        buffer.seek(0)
        fastavro.schemaless_reader(buffer, writer.fastavro_schema())
    except ValueError:
        return
    buffer.seek(0)
    fastavro.schemaless_reader(buffer, writer.fastavro_schema(), reader.fastavro_schema())
    assert buffer.read() == b""  # the reader consumed exactly what was written


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(avro_evolutions(), st.randoms(use_true_random=False))
def test_data_written_with_the_writer_decodes_with_a_compatible_reader(
    pair: tuple[Any, Any], rng: random.Random
) -> None:
    try:
        old, new = parse_avro(json.dumps(pair[0])), parse_avro(json.dumps(pair[1]))
    except SchemaError:
        assume(False)
        raise
    for reader, writer in ((new, old), (old, new)):
        if incompatibilities(reader, writer):
            continue
        for _ in range(3):
            decodes(reader, writer, value_of(writer.root, rng))
