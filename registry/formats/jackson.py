"""JSON written as Jackson writes it, for Confluent's canonical strings (see `docs/registry.md`).

Compact, keys in the order given, non-ASCII kept, `\\u00XX` escapes upper case; numbers spelled
by the caller: Java's `Double.toString` (Avro) or `BigDecimal.toString` (JSON Schema).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

_LOWER_HEX_ESCAPE = re.compile(r"\\u00([0-9a-f]{2})")
_SURROGATE = re.compile("[\ud800-\udfff]")


def string_literal(text: str) -> str:
    """A JSON string literal as Jackson writes it (non-ASCII kept, `\\u00XX` upper case)."""
    out = json.dumps(text, ensure_ascii=False)
    if "\\u00" in out:
        out = _LOWER_HEX_ESCAPE.sub(lambda m: "\\u00" + m.group(1).upper(), out)
    if _SURROGATE.search(out):  # an unpaired surrogate cannot be stored as UTF-8
        out = _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04X}", out)
    return out


def java_double(value: float) -> str:
    """A double as Java's `Double.toString` spells it: `1.0`, `0.001`, `1.0E7`, `1.5E-4`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    magnitude = abs(value)
    shortest = Decimal(repr(magnitude))
    if 1e-3 <= magnitude < 1e7:
        plain = format(shortest, "f")
        return sign + (plain if "." in plain else plain + ".0")
    digits = "".join(str(d) for d in shortest.as_tuple().digits).rstrip("0") or "0"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{shortest.adjusted()}"


def big_decimal(value: Decimal) -> str:
    """A number as Java's `BigDecimal.toString` spells it (the scientific string of the spec)."""
    if value.is_nan():
        return "NaN"
    if value.is_infinite():
        return "Infinity" if value > 0 else "-Infinity"
    text = str(value)
    return text[1:] if value.is_zero() and text.startswith("-") else text


def write_json(value: Any, out: list[str], number: Callable[[Any], str]) -> None:
    """Compact JSON of a decoded document into `out`; `number` spells non-integer numbers."""
    if isinstance(value, str):
        out.append(string_literal(value))
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif value is None:
        out.append("null")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float | Decimal):
        out.append(number(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(string_literal(str(key)))
            out.append(":")
            write_json(item, out, number)
        out.append("}")
    elif isinstance(value, list):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            write_json(item, out, number)
        out.append("]")
    else:
        raise TypeError(f"cannot write {type(value).__name__} as JSON")


def avro_number(value: float | Decimal) -> str:
    """A number in an Avro schema: a Java double."""
    return java_double(float(value))


def json_number(value: float | Decimal) -> str:
    """A number in a JSON Schema: exact (`BigDecimal`) when decoded as a `Decimal`."""
    return big_decimal(value) if isinstance(value, Decimal) else java_double(value)


def java_constant(name: str) -> Decimal:
    """`NaN`, `Infinity`, `-Infinity` as the `Decimal` that `big_decimal` spells back."""
    return Decimal(name.replace("Infinity", "Inf"))
