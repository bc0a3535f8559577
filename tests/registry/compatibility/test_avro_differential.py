"""Differential test: our Avro verdicts against the Apache `avro` package's checker.

Thousands of generated (schema, evolved schema) pairs are checked in both directions by
both implementations; any disagreement fails the test. `AVRO_DIFFERENTIAL_PAIRS` sets how
many base schemas to evolve (default 1000, giving about 1,900 checked pairs; raise it for a
longer run). The cases where the two knowingly disagree are pinned below, each with the
reason ours is right; docs/compatibility.md lists them.
"""

from __future__ import annotations

import json
import os
import random
import warnings
from dataclasses import dataclass

import avro.schema
import pytest
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from registry.compatibility.avro import incompatibilities
from registry.formats import SchemaError
from registry.formats.avro import parse_avro
from tests.registry.strategies import AvroGenerator, mutate

PAIRS = int(os.environ.get("AVRO_DIFFERENTIAL_PAIRS", "1000"))


def apache_compatible(reader: str, writer: str) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reader_schema, writer_schema = avro.schema.parse(reader), avro.schema.parse(writer)
    result = ReaderWriterCompatibilityChecker().get_compatibility(reader_schema, writer_schema)
    return result.compatibility is SchemaCompatibilityType.compatible


def ours_compatible(reader: str, writer: str) -> bool:
    return not incompatibilities(parse_avro(reader), parse_avro(writer))


@dataclass(frozen=True)
class Disagreement:
    seed: int
    reader: str
    writer: str
    ours: bool
    apache: bool


def test_verdicts_agree_with_the_avro_package_on_generated_evolutions() -> None:
    disagreements: list[Disagreement] = []
    checked = incompatible = 0
    for seed in range(PAIRS):
        rng = random.Random(seed)
        generator = AvroGenerator(rng)
        base = generator.schema()
        evolved = mutate(rng, base, generator, rng.randint(1, 3))
        old, new = json.dumps(base), json.dumps(evolved)
        try:
            parse_avro(new)
        except SchemaError:
            continue  # the mutation broke the schema (e.g. a default no longer fits)
        for reader, writer in ((new, old), (old, new)):
            ours, apache = ours_compatible(reader, writer), apache_compatible(reader, writer)
            checked += 1
            incompatible += not ours
            if ours != apache:
                disagreements.append(Disagreement(seed, reader, writer, ours, apache))
    assert checked >= PAIRS  # most mutations keep the schema valid
    assert 0.2 < incompatible / checked < 0.8  # both verdicts are well represented
    assert not disagreements, "\n".join(str(item) for item in disagreements[:5])


def test_verdicts_agree_on_unrelated_schemas() -> None:
    # Two independent schemas share the top-level name (Rec1), so the comparison goes deep.
    disagreements: list[Disagreement] = []
    for seed in range(PAIRS // 4):
        rng = random.Random(seed)
        first = json.dumps(AvroGenerator(rng).schema())
        second = json.dumps(AvroGenerator(rng).schema())
        for reader, writer in ((first, second), (second, first)):
            ours, apache = ours_compatible(reader, writer), apache_compatible(reader, writer)
            if ours != apache:
                disagreements.append(Disagreement(seed, reader, writer, ours, apache))
    assert not disagreements, "\n".join(str(item) for item in disagreements[:5])


def record(fields: list[dict[str, object]], **extra: object) -> str:
    body = {"type": "record", "name": "User", "namespace": "com.acme", "fields": fields}
    return json.dumps({**body, **extra})


# (case, reader, writer, our verdict, the avro package's verdict)
KNOWN_DISAGREEMENTS = [
    (
        # Spec: decimals match only when scale and precision match. The avro package (and
        # Java's checker) ignore logical types; data written at scale 2 read at scale 3
        # silently changes every value tenfold.
        "decimal scale differs",
        record(
            [
                {
                    "name": "amount",
                    "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3},
                }
            ]
        ),
        record(
            [
                {
                    "name": "amount",
                    "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2},
                }
            ]
        ),
        False,
        True,
    ),
    (
        # Spec: an alias without a dot is relative to the namespace of the type it names, so
        # "User" on com.acme.Customer means com.acme.User. The avro package compares the raw
        # alias text with the writer's fullname and misses it (Java resolves it as we do).
        "relative alias",
        record([{"name": "id", "type": "long"}], name="Customer", aliases=["User"]),
        record([{"name": "id", "type": "long"}]),
        True,
        False,
    ),
]


@pytest.mark.parametrize(
    ("reader", "writer", "ours", "apache"),
    [case[1:] for case in KNOWN_DISAGREEMENTS],
    ids=[case[0] for case in KNOWN_DISAGREEMENTS],
)
def test_known_disagreements(reader: str, writer: str, ours: bool, apache: bool) -> None:
    assert ours_compatible(reader, writer) is ours
    assert apache_compatible(reader, writer) is apache
