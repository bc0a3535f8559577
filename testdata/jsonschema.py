"""JSON Schema values: types, enums and consts, numeric bounds and `multipleOf`, string
lengths, `pattern` (through rstr's regex-to-string generator, seeded from the generator's
random source), `format` (email, uuid, date-time, date, time, uri, hostname, ipv4, ipv6),
objects with required and optional properties, arrays with item, tuple, length, `contains` and
uniqueness rules, `$ref` (local and to registered references), `allOf` (merged), `anyOf` /
`oneOf` (a branch), and `not` / `if` (left to the validator: a candidate that fails is drawn
again). Each value is validated with jsonschema, formats included."""

from __future__ import annotations

import datetime
import json
import math
from collections.abc import Callable
from typing import Any
from urllib.parse import urldefrag

import jsonschema
import rstr
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from testdata.core import MAX_DEPTH, GenerationError, ValueGenerator
from testdata.words import WORDS, random_uuid, text_maker

#: Where numbers fall when the schema sets no bound.
DEFAULT_LOW, DEFAULT_HIGH = 0, 10_000
#: Longest generated string and collection when the schema sets no maximum.
DEFAULT_MAX_LENGTH = 24
DEFAULT_MAX_ITEMS = 3
#: Draws of a pattern to find a string whose length also fits.
PATTERN_TRIES = 100
SIMPLE_TYPES = ("null", "boolean", "integer", "string")


def _bounds(schema: dict[str, Any], integer: bool) -> tuple[float, float]:
    """The closed interval a number must fall in (both draft-4 and draft-6+ exclusive forms)."""
    low = schema.get("minimum", -math.inf)
    high = schema.get("maximum", math.inf)
    ex_low, ex_high = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = 1 if integer else 1e-6
    if ex_low is True:
        low = low + step
    elif isinstance(ex_low, int | float) and not isinstance(ex_low, bool):
        low = max(low, ex_low + step)
    if ex_high is True:
        high = high - step
    elif isinstance(ex_high, int | float) and not isinstance(ex_high, bool):
        high = min(high, ex_high - step)
    if low == -math.inf and high == math.inf:
        return DEFAULT_LOW, DEFAULT_HIGH
    if low == -math.inf:
        low = min(high - DEFAULT_HIGH, DEFAULT_LOW)
    if high == math.inf:
        high = max(low + DEFAULT_HIGH, DEFAULT_HIGH)
    return low, high


class JsonSchemaGenerator(ValueGenerator):
    """Values for a JSON Schema document (with its registered references)."""

    def prepare(self) -> None:
        """Load the document and its references; build the validator (formats checked)."""
        self._root = json.loads(self.parsed.raw)
        self._documents: dict[str, Any] = {}
        resources = []
        for reference in self.parsed.references:
            document = json.loads(reference.schema)
            self._documents[reference.name] = document
            resources.append((reference.name, Resource.from_contents(document, DRAFT7)))
        registry: Registry[Any] = Registry().with_resources(resources)
        cls = jsonschema.validators.validator_for(self._root, default=jsonschema.Draft7Validator)
        self._validator = cls(self._root, registry=registry, format_checker=cls.FORMAT_CHECKER)
        self._xeger = rstr.Rstr(self.rng)
        # Extra properties of open objects take names the schema mentions anywhere, so that
        # rules about them (`not`, `dependencies`, `if`) get exercised.
        self._names = sorted(set(_property_names(self._root)))
        self._texts: dict[str, Callable[[], str]] = {}
        self._fakes: dict[str, Callable[[], str] | None] = {}

    def candidate(self) -> Any:
        """A value drawn from the schema (the validator has the last word)."""
        return self._value(self._root, self._root, "", 0)

    def problem(self, value: Any) -> str | None:
        """jsonschema's most relevant error, or None."""
        error = best_match(self._validator.iter_errors(value))
        if error is None:
            return None
        where = "/" + "/".join(str(p) for p in error.absolute_path)
        return f"at {where}: {error.message}"

    # --- resolution ----------------------------------------------------------------------

    def _resolve(self, ref: str, document: Any) -> tuple[Any, Any]:
        """The schema a `$ref` names and the document it lives in."""
        base, fragment = urldefrag(ref)
        if base:
            if base not in self._documents:
                raise GenerationError(f"$ref {ref!r} names no registered reference")
            document = self._documents[base]
        node = document
        for part in [p for p in fragment.split("/") if p]:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and part.isdigit():
                node = node[int(part)]
            elif isinstance(node, dict) and part in node:
                node = node[part]
            else:
                raise GenerationError(f"$ref {ref!r} points nowhere")
        return node, document

    def _flatten(self, schema: Any, document: Any, depth: int) -> tuple[Any, Any]:
        """The schema with `$ref` followed and `allOf` merged, and a chosen `anyOf`/`oneOf`
        branch merged in."""
        if not isinstance(schema, dict):
            return schema, document
        if "$ref" in schema and depth < 4 * MAX_DEPTH:
            target, document = self._resolve(str(schema["$ref"]), document)
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            target, document = self._flatten(target, document, depth + 1)
            schema = _merge(target, rest) if isinstance(target, dict) else target
            if not isinstance(schema, dict):
                return schema, document
        for keyword in ("allOf", "anyOf", "oneOf"):
            members = schema.get(keyword)
            if not isinstance(members, list) or not members:
                continue
            rest = {k: v for k, v in schema.items() if k != keyword}
            chosen = members if keyword == "allOf" else [self.rng.choice(members)]
            for member in chosen:
                member, _ = self._flatten(member, document, depth + 1)
                if member is False:
                    return False, document
                if isinstance(member, dict):
                    rest = _merge(rest, member)
            schema = rest
        return schema, document

    # --- values --------------------------------------------------------------------------

    def _value(self, schema: Any, document: Any, path: str, depth: int) -> Any:
        schema, document = self._flatten(schema, document, depth)
        if schema is False:
            raise GenerationError(f"no value is valid at {path or '/'} (the schema is false)")
        if schema is True or not isinstance(schema, dict):
            schema = {}
        if "const" in schema:
            return schema["const"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return self.rng.choice(schema["enum"])
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = self.rng.choice(kind) if kind else None
        if kind is None:
            kind = _implied_type(schema) or self.rng.choice(SIMPLE_TYPES)
        if kind == "null":
            return None
        if kind == "boolean":
            return self.rng.random() < 0.5
        if kind in ("integer", "number"):
            return self._number(schema, kind == "integer")
        if kind == "string":
            return self._string(schema, path)
        if kind == "object":
            return self._object(schema, document, path, depth)
        if kind == "array":
            return self._array(schema, document, path, depth)
        raise GenerationError(f"unknown type {kind!r} at {path or '/'}")

    def _number(self, schema: dict[str, Any], integer: bool) -> int | float:
        low, high = _bounds(schema, integer)
        if low > high or (integer and math.ceil(low) > math.floor(high)):
            raise GenerationError(
                f"no {'integer' if integer else 'number'} lies in [{low}, {high}]"
            )
        step = schema.get("multipleOf")
        if isinstance(step, int | float) and step > 0:
            first, last = math.ceil(low / step), math.floor(high / step)
            if first > last:
                raise GenerationError(f"no multiple of {step} lies in [{low}, {high}]")
            value = self.rng.randint(int(first), int(min(last, first + 100_000))) * step
            return int(value) if integer and float(value).is_integer() else value
        if integer:
            return self.rng.randint(math.ceil(low), math.floor(high))
        return round(self.rng.uniform(low, high), 2) if high - low > 0.02 else low

    def _string(self, schema: dict[str, Any], path: str) -> str:
        low = int(schema.get("minLength", 0))
        high = int(schema.get("maxLength", max(low, DEFAULT_MAX_LENGTH)))
        fmt = schema.get("format")
        if isinstance(fmt, str) and fmt in FORMATS:
            return FORMATS[fmt](self)
        pattern = schema.get("pattern")
        if isinstance(pattern, str):
            try:
                for _ in range(PATTERN_TRIES):
                    text = str(self._xeger.xeger(pattern))
                    if len(text) < low:  # a pattern matches anywhere: pad an open end
                        if not pattern.endswith("$"):
                            text += "x" * (low - len(text))
                        elif not pattern.startswith("^"):
                            text = "x" * (low - len(text)) + text
                    if low <= len(text) <= high:
                        break
                return text
            except Exception as exc:  # rstr cannot read every regex flavour
                raise GenerationError(f"pattern {pattern!r}: {exc}") from None
        fake = self._fake(path, schema)
        if fake is not None:
            text = fake()
            if low <= len(text) <= high:
                return text
        text = self._text(path)()
        if len(text) > high:
            text = text[:high]
        if len(text) < low:
            text = text + "x" * (low - len(text))
        return text

    def _fake(self, path: str, schema: dict[str, Any]) -> Callable[[], str] | None:
        if path not in self._fakes:
            tags = schema.get("confluent:tags") or ()
            name = path.rpartition(".")[2]
            self._fakes[path] = self.tags.fake(path, name, tags)
        return self._fakes[path]

    def _text(self, path: str) -> Callable[[], str]:
        found = self._texts.get(path)
        if found is None:
            found = self._texts[path] = text_maker(self.rng, path.rpartition(".")[2])
        return found

    def _object(self, schema: dict[str, Any], document: Any, path: str, depth: int) -> Any:
        properties = schema.get("properties") or {}
        required = set(schema.get("required") or ())
        out: dict[str, Any] = {}
        extra = schema.get("additionalProperties", True)
        for name, sub in properties.items():
            if name in required or (depth < MAX_DEPTH and self.rng.random() < 0.7):
                out[name] = self._value(sub, document, _join(path, name), depth + 1)
        for name in sorted(required - set(out)):  # required but not described: anything
            out[name] = self._value(extra, document, _join(path, name), depth + 1)
        for keyword in ("dependencies", "dependentRequired"):  # present names pull in others
            rules = schema.get(keyword)
            for name, needed in rules.items() if isinstance(rules, dict) else ():
                if name in out and isinstance(needed, list):
                    for other in needed:
                        if other not in out:
                            sub = properties.get(other, extra)
                            out[other] = self._value(sub, document, _join(path, other), depth + 1)
        minimum = int(schema.get("minProperties", 0))
        if extra is not False and depth < MAX_DEPTH and self.rng.random() < 0.3:
            minimum = max(minimum, len(out) + 1 + self.rng.getrandbits(1))  # open: some extras
        spare = [n for n in properties if n not in out]
        index = 0
        while len(out) < minimum:
            if spare:
                name = spare.pop(0)
                out[name] = self._value(properties[name], document, name, depth + 1)
            elif extra is not False:
                unused = [n for n in self._names if n not in out]
                name = self.rng.choice(unused) if unused else f"extra{index}"
                out[name] = self._value(extra, document, "", depth + 1)
                index += 1
            else:
                break
        return out

    def _array(self, schema: dict[str, Any], document: Any, path: str, depth: int) -> Any:
        items = schema.get("items", True)
        prefix = schema.get("prefixItems")
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = items, schema.get("additionalItems", True)
        prefix = prefix if isinstance(prefix, list) else []
        low = int(schema.get("minItems", 0))
        high = int(schema.get("maxItems", max(low, len(prefix) + DEFAULT_MAX_ITEMS)))
        count = low if depth >= MAX_DEPTH else self.rng.randint(low, max(low, min(high, low + 3)))
        count = max(count, min(len(prefix), high)) if items is False else count
        out = [
            self._value(prefix[i] if i < len(prefix) else items, document, path, depth + 1)
            for i in range(count)
            if i < len(prefix) or items is not False
        ]
        contains = schema.get("contains")
        if contains is not None and len(out) < high:
            out.append(self._value(contains, document, path, depth + 1))
        if schema.get("uniqueItems"):
            seen: set[str] = set()
            unique = []
            for item in out:
                key = json.dumps(item, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    unique.append(item)
            out = unique
        return out

    # --- formats -------------------------------------------------------------------------

    def _email(self) -> str:
        return f"{WORDS[self.rng.getrandbits(5)]}.{self.rng.getrandbits(12)}@example.com"

    def _uuid(self) -> str:
        return random_uuid(self.rng.getrandbits)

    def _instant(self) -> datetime.datetime:
        start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
        return start + datetime.timedelta(seconds=self.rng.randrange(10 * 365 * 86_400))

    def _uri(self) -> str:
        return f"https://example.com/{WORDS[self.rng.getrandbits(5)]}/{self.rng.getrandbits(16)}"

    def _ipv4(self) -> str:
        return ".".join(str(self.rng.randrange(1, 255)) for _ in range(4))

    def _ipv6(self) -> str:
        return ":".join(f"{self.rng.getrandbits(16):x}" for _ in range(8))


#: `format` -> what makes a value of it.
FORMATS: dict[str, Callable[[JsonSchemaGenerator], str]] = {
    "email": JsonSchemaGenerator._email,
    "idn-email": JsonSchemaGenerator._email,
    "uuid": JsonSchemaGenerator._uuid,
    "date-time": lambda g: g._instant().isoformat().replace("+00:00", "Z"),
    "date": lambda g: g._instant().date().isoformat(),
    "time": lambda g: g._instant().time().isoformat() + "Z",
    "uri": JsonSchemaGenerator._uri,
    "iri": JsonSchemaGenerator._uri,
    "uri-reference": JsonSchemaGenerator._uri,
    "hostname": lambda g: f"{WORDS[g.rng.getrandbits(5)]}.example.com",
    "ipv4": JsonSchemaGenerator._ipv4,
    "ipv6": JsonSchemaGenerator._ipv6,
}


def _property_names(node: Any, depth: int = 0) -> list[str]:
    """Every property name the schema document declares, at any depth."""
    if depth > 64:
        return []
    found: list[str] = []
    if isinstance(node, dict):
        properties = node.get("properties")
        if isinstance(properties, dict):
            found.extend(str(name) for name in properties)
        for value in node.values():
            found.extend(_property_names(value, depth + 1))
    elif isinstance(node, list):
        for item in node:
            found.extend(_property_names(item, depth + 1))
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _implied_type(schema: dict[str, Any]) -> str | None:
    """The type a schema without `type` implies through its keywords."""
    if any(k in schema for k in ("properties", "required", "additionalProperties")):
        return "object"
    if any(k in schema for k in ("items", "prefixItems", "minItems", "maxItems", "contains")):
        return "array"
    if any(k in schema for k in ("minLength", "maxLength", "pattern", "format")):
        return "string"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf", "exclusiveMinimum")):
        return "number"
    return None


def _merge(left: dict[str, Any], right: dict[str, Any]) -> dict[str, Any]:
    """Two schemas' keywords together: properties merged, required united, bounds tightened,
    other keywords from `right`."""
    out = dict(left)
    for key, value in right.items():
        if key == "properties" and isinstance(out.get(key), dict) and isinstance(value, dict):
            merged = dict(out[key])
            for name, sub in value.items():
                old = merged.get(name)
                if isinstance(old, dict) and isinstance(sub, dict):
                    merged[name] = _merge(old, sub)
                else:
                    merged[name] = sub
            out[key] = merged
        elif key == "required" and isinstance(out.get(key), list) and isinstance(value, list):
            out[key] = sorted(set(out[key]) | set(value))
        elif key == "pattern" and key in out:  # keep the anchored, more specific one
            anchored = str(value).startswith("^") or str(value).endswith("$")
            out[key] = value if anchored else out[key]
        elif key in ("minimum", "minLength", "minItems", "minProperties") and key in out:
            out[key] = max(out[key], value)
        elif key in ("maximum", "maxLength", "maxItems", "maxProperties") and key in out:
            out[key] = min(out[key], value)
        elif key == "type" and key in out and isinstance(value, str | list):
            mine = set(out[key]) if isinstance(out[key], list) else {out[key]}
            theirs = set(value) if isinstance(value, list) else {value}
            if ("number" in mine and "integer" in theirs) or (
                "integer" in mine and "number" in theirs
            ):
                mine |= {"integer"}
                theirs |= {"integer"}
            common = sorted(mine & theirs)
            out[key] = common if common else value
        else:
            out[key] = value
    return out
