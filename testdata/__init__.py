"""Test data from schemas: values that are valid for a registered Avro, JSON Schema or
Protobuf schema, deterministic for a seed, with realistic fake values in fields tagged PII.

Pure: no sockets, no SQLite. `generator_for` picks the format's generator from `GENERATORS`;
callers (the `streamgov generate` command, the demo) serialize and produce the values.
"""

from testdata.core import (
    GENERATORS,
    GenerationError,
    ValueGenerator,
    field_value,
    generator_for,
)

__all__ = ["GENERATORS", "GenerationError", "ValueGenerator", "field_value", "generator_for"]
