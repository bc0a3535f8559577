"""Compatibility check speed: a new version of a 200-field schema, FULL_TRANSITIVE against 1,000.

Avro: our checker against the Apache `avro` package's `ReaderWriterCompatibilityChecker` on the
same 2,000 reader/writer pairs (both directions of each of the 1,000 versions), in one run.
JSON Schema: our checker alone (there is no independent anchor installed), on versions that
differ in real constraints, at BACKWARD_TRANSITIVE and FULL_TRANSITIVE.

Run: `python -m benchmarks.compat [--versions N] [--fields N] [--repeat N]`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

from registry.compatibility import (
    CompatibilityLevel,
    CompatibilityResult,
    VersionedSchema,
    check,
)
from registry.formats import parse_schema

NAMESPACE = "com.example.bench"
_CORE_TYPES: list[Any] = [
    "int",
    "long",
    "string",
    "double",
    "boolean",
    {"type": "long", "logicalType": "timestamp-millis"},
    {"type": "bytes", "logicalType": "decimal", "precision": 12, "scale": 2},
]


def avro_version(version: int, fields: int) -> dict[str, Any]:
    """Version `version` of a record with `fields` fields, FULL-compatible with every other.

    Three quarters of the fields never change (primitives, logical types, a union, an enum,
    an array, a map, a nested record); the last quarter is a window of optional fields that
    slides by one each version (one optional field added with a default, one removed).
    """
    core = fields * 3 // 4
    window = fields - core
    body: list[dict[str, Any]] = []
    for index in range(core):
        kind = index % 12
        name = f"core_{index}"
        if kind < len(_CORE_TYPES):
            body.append({"name": name, "type": _CORE_TYPES[kind]})
        elif kind == 7:
            body.append({"name": name, "type": ["null", "string"], "default": None})
        elif kind == 8:
            body.append({"name": name, "type": {"type": "array", "items": "string"}})
        elif kind == 9:
            body.append({"name": name, "type": {"type": "map", "values": "long"}})
        elif kind == 10:
            enum = {"type": "enum", "name": f"Status{index}", "symbols": ["ACTIVE", "GONE"]}
            body.append({"name": name, "type": enum})
        else:
            nested = {
                "type": "record",
                "name": f"Address{index}",
                "fields": [{"name": "street", "type": "string"}, {"name": "zip", "type": "int"}],
            }
            body.append({"name": name, "type": nested})
    for offset in range(window):
        body.append({"name": f"opt_{version + offset}", "type": "long", "default": 0})
    return {"type": "record", "name": "Order", "namespace": NAMESPACE, "fields": body}


def json_version(version: int, fields: int) -> dict[str, Any]:
    """Version `version` of a JSON Schema object of `fields` properties; versions really differ.

    Every version raises the bounds on a quarter of the properties (`maxLength` of the
    strings, `maximum` of the integers) and swaps the one optional property that accepts
    anything (open content model: adding or removing it is compatible both ways). So each
    version can read every earlier one (BACKWARD_TRANSITIVE holds), while no earlier version
    can read the wider values of a later one (FORWARD fails once per raised bound): the
    comparison walks every property and never short-circuits.
    """
    kinds = ["string", "integer", "number", "boolean"]
    properties: dict[str, Any] = {}
    for index in range(fields):
        kind = kinds[index % 4]
        prop: dict[str, Any] = {"type": kind, "description": f"property {index}"}
        if kind == "string" and index % 8 == 0:
            prop["maxLength"] = 64 + version
        elif kind == "integer" and index % 8 == 1:
            prop["maximum"] = 1_000 + version
        elif kind == "number":
            prop["minimum"] = 0
        properties[f"p{index}"] = prop
    properties[f"extra{version}"] = {}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": properties,
        "required": [f"p{index}" for index in range(0, fields, 3)],
    }


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds over `repeat` runs, and the last result."""
    times: list[float] = []
    result: object = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def timed_fresh(
    new_text: Callable[[int], str],
    schema_type: str,
    existing: list[VersionedSchema],
    level: CompatibilityLevel,
    repeat: int,
) -> tuple[float, CompatibilityResult]:
    """Median seconds of `check` over `repeat` runs, each with a newly parsed new schema.

    What a registry does when a version is proposed: the existing versions are parsed (and
    their comparison models built) already, the new one is not. Each run proposes the next
    version (`new_text(run)`), so what changed in it was never compared before and no result
    of an earlier run is reused for it.
    """
    times: list[float] = []
    result: CompatibilityResult | None = None
    for run in range(repeat):
        new = parse_schema(schema_type, new_text(run))
        start = time.perf_counter()
        result = check(new, existing, level)
        times.append(time.perf_counter() - start)
    assert result is not None
    return statistics.median(times), result


def bench_avro(versions: int, fields: int, repeat: int) -> None:
    """Ours against the Apache `avro` checker on the same pairs."""
    import avro.schema
    from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

    texts = [json.dumps(avro_version(v, fields)) for v in range(1, versions + 2)]
    start = time.perf_counter()
    parsed = [parse_schema("AVRO", text) for text in texts]
    parse_seconds = time.perf_counter() - start
    existing = [VersionedSchema(v + 1, schema) for v, schema in enumerate(parsed[:-1])]

    def new_text(run: int) -> str:
        return json.dumps(avro_version(versions + 1 + run, fields))

    ours_seconds, result = timed_fresh(
        new_text, "AVRO", existing, CompatibilityLevel.FULL_TRANSITIVE, repeat
    )
    ours_ok = result.compatible

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        anchor_parsed = [avro.schema.parse(text) for text in texts]
    anchor_new = anchor_parsed[-1]
    anchor_old = list(reversed(anchor_parsed[:-1]))

    def anchor_check() -> bool:
        ok = True
        for old in anchor_old:
            for reader, writer in ((anchor_new, old), (old, anchor_new)):
                verdict = ReaderWriterCompatibilityChecker().get_compatibility(reader, writer)
                ok = ok and verdict.compatibility is SchemaCompatibilityType.compatible
        return ok

    anchor_seconds, anchor_ok = timed(anchor_check, max(1, repeat // 3))
    pairs = 2 * versions
    print(f"Avro: record of {fields} fields, FULL_TRANSITIVE against {versions} versions")
    print(f"  parsing {versions + 1} versions (ours, once): {parse_seconds:8.3f} s")
    print(
        f"  streamgov check:         {ours_seconds * 1000:8.1f} ms  "
        f"({ours_seconds / pairs * 1e6:6.1f} us/pair)  compatible={ours_ok}"
    )
    print(
        f"  apache avro checker:     {anchor_seconds * 1000:8.1f} ms  "
        f"({anchor_seconds / pairs * 1e6:6.1f} us/pair)  compatible={anchor_ok}"
    )
    print(f"  ratio (avro / streamgov): {anchor_seconds / ours_seconds:6.1f}x")


def bench_json(versions: int, fields: int, repeat: int) -> None:
    """Ours alone, at BACKWARD_TRANSITIVE (compatible) and FULL_TRANSITIVE (not)."""
    texts = [json.dumps(json_version(v, fields)) for v in range(1, versions + 1)]
    start = time.perf_counter()
    parsed = [parse_schema("JSON", text) for text in texts]
    parse_seconds = time.perf_counter() - start
    existing = [VersionedSchema(v + 1, schema) for v, schema in enumerate(parsed)]
    # The first check builds the existing versions' comparison models, which a registry keeps.
    check(parsed[-1], existing, CompatibilityLevel.FULL_TRANSITIVE)

    def new_text(run: int) -> str:
        return json.dumps(json_version(versions + 1 + run, fields))

    print(
        f"JSON Schema: object of {fields} properties (a quarter of the bounds raised and an "
        f"optional property swapped per version), against {versions} versions"
    )
    print(f"  parsing {versions} versions (ours, once):  {parse_seconds:8.3f} s")
    for level in (CompatibilityLevel.BACKWARD_TRANSITIVE, CompatibilityLevel.FULL_TRANSITIVE):
        seconds, result = timed_fresh(new_text, "JSON", existing, level, repeat)
        print(
            f"  {level.value + ':':<21}   {seconds * 1000:8.1f} ms  "
            f"compatible={result.compatible}, {len(result.incompatibilities)} findings"
        )
    print("  (no independent JSON Schema compatibility checker is installed to compare with)")


def main() -> None:
    """Run both benchmarks and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--versions", type=int, default=1000)
    parser.add_argument("--fields", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    bench_avro(args.versions, args.fields, args.repeat)
    bench_json(args.versions, args.fields, args.repeat)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
