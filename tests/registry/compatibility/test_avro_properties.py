"""Properties of Avro compatibility that hold for every generated schema and evolution."""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from registry.compatibility import CompatibilityLevel, VersionedSchema, check
from registry.compatibility.avro import incompatibilities
from registry.formats import SchemaError
from registry.formats.avro import AvroSchema, parse_avro
from tests.registry.strategies import avro_evolutions, avro_schemas, respell

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parsed(document: Any) -> AvroSchema:
    return parse_avro(json.dumps(document))


def valid(document: Any) -> AvroSchema:
    try:
        return parsed(document)
    except SchemaError:
        assume(False)
        raise


def verdict(reader: AvroSchema, writer: AvroSchema) -> list[str]:
    return sorted(item.rule for item in incompatibilities(reader, writer))


@SETTINGS
@given(avro_schemas())
def test_every_schema_is_full_compatible_with_itself(document: Any) -> None:
    # Two parses (different texts, same schema), so no node is shared between them.
    first, second = parsed(document), parse_avro(json.dumps(document, indent=1))
    assert first is not second
    result = check(first, [VersionedSchema(1, second)], CompatibilityLevel.FULL_TRANSITIVE)
    assert result.compatible, result.messages()


@SETTINGS
@given(avro_evolutions())
def test_full_holds_exactly_when_backward_and_forward_hold(pair: tuple[Any, Any]) -> None:
    old, new = valid(pair[0]), valid(pair[1])
    existing = [VersionedSchema(1, old)]
    backward = check(new, existing, "BACKWARD")
    forward = check(new, existing, "FORWARD")
    full = check(new, existing, "FULL")
    assert full.compatible == (backward.compatible and forward.compatible)
    assert set(full.incompatibilities) == set(backward.incompatibilities) | set(
        forward.incompatibilities
    )


@SETTINGS
@given(avro_evolutions(), st.randoms(use_true_random=False))
def test_a_transitive_level_implies_its_non_transitive_level(
    pair: tuple[Any, Any], rng: random.Random
) -> None:
    old, new = valid(pair[0]), valid(pair[1])
    history = [old, new]
    rng.shuffle(history)
    existing = [VersionedSchema(index + 1, schema) for index, schema in enumerate(history)]
    candidate = parsed(pair[rng.randrange(2)])
    for level in ("BACKWARD", "FORWARD", "FULL"):
        transitive = check(candidate, existing, f"{level}_TRANSITIVE")
        latest = check(candidate, existing, level)
        if transitive.compatible:
            assert latest.compatible
        # The latest version's findings are part of the transitive answer.
        assert set(latest.incompatibilities) <= set(transitive.incompatibilities)


@SETTINGS
@given(avro_evolutions(), st.randoms(use_true_random=False))
def test_normalization_and_respelling_preserve_verdicts(
    pair: tuple[Any, Any], rng: random.Random
) -> None:
    old, new = valid(pair[0]), valid(pair[1])
    old_normal, new_normal = parse_avro(old.normalized_form()), parse_avro(new.normalized_form())
    old_spelled, new_spelled = parsed(respell(pair[0], rng)), parsed(respell(pair[1], rng))
    for reader, writer, reader_twin, writer_twin in (
        (new, old, new_normal, old_normal),
        (old, new, old_normal, new_normal),
        (new, old, new_spelled, old_spelled),
    ):
        assert verdict(reader_twin, writer_twin) == verdict(reader, writer)


def resolve_pointer(document: Any, pointer: str) -> Any:
    """The value a JSON pointer names (KeyError/IndexError when it names nothing)."""
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        document = document[int(token)] if isinstance(document, list) else document[token]
    return document


@SETTINGS
@given(avro_evolutions())
def test_every_path_points_into_the_reader_schema(pair: tuple[Any, Any]) -> None:
    old, new = valid(pair[0]), valid(pair[1])
    for reader, writer, document in ((new, old, pair[1]), (old, new, pair[0])):
        for item in incompatibilities(reader, writer):
            resolve_pointer(document, item.path)
            assert item.message
