"""Confluent's canonical string of a JSON Schema: compact Jackson output, numbers exact."""

from __future__ import annotations

import json
from decimal import Decimal

from registry.formats.jackson import java_constant, json_number, write_json


def canonical_string(text: str) -> str:
    """A JSON Schema's canonical string: compact, keys in written order, numbers exact."""
    document = json.loads(text, parse_float=Decimal, parse_constant=java_constant)
    out: list[str] = []
    write_json(document, out, json_number)
    return "".join(out)
