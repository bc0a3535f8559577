"""What every format's generator shares: the random source, PII tags by field path, and the
rule that a value is checked against its schema before anyone gets it."""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping
from typing import Any

from registry.formats import load_entry
from registry.formats.base import ParsedSchema, SchemaType
from testdata.fakes import Fakes, is_pii

#: Each format's generator class, as `module:class` (imported on first use).
GENERATORS: dict[SchemaType, str] = {
    SchemaType.AVRO: "testdata.avro:AvroGenerator",
    SchemaType.JSON: "testdata.jsonschema:JsonSchemaGenerator",
    SchemaType.PROTOBUF: "testdata.protobuf:ProtobufGenerator",
}

#: How many candidates a generator tries before it says the schema defeats it.
ATTEMPTS = 200

#: How deep generated values nest; past it, unions and optional fields take their shortest
#: branch and collections are empty, so recursive schemas end.
MAX_DEPTH = 6


class GenerationError(ValueError):
    """No valid value can be generated for the schema; the message says why."""


class Tags:
    """Where the fake-data rule applies: tags by dotted field path (the catalog's paths),
    merged with the tags the schema itself gives a field."""

    def __init__(self, rng: random.Random, by_path: Mapping[str, Collection[str]]) -> None:
        self._by_path = {path: tuple(tags) for path, tags in by_path.items()}
        self._rng = rng
        self._fakes: Fakes | None = None

    def fake(
        self, path: str, name: str, schema_tags: Collection[str] = (), *aliases: str
    ) -> Callable[[], str] | None:
        """A fake-value maker when the field at `path` is tagged PII, else None."""
        tags = [*schema_tags, *self._by_path.get(path, ())]
        for alias in aliases:
            tags.extend(self._by_path.get(alias, ()))
        if not is_pii(tags):
            return None
        if self._fakes is None:
            self._fakes = Fakes(self._rng)
        return self._fakes.maker(name)


class ValueGenerator(ABC):
    """Values valid for one schema. `generate()` returns only values `problem()` accepts."""

    def __init__(
        self,
        parsed: ParsedSchema,
        *,
        seed: int | None = None,
        field_tags: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.parsed = parsed
        self.rng = random.Random(seed)
        self.tags = Tags(self.rng, field_tags or {})
        self.prepare()

    @abstractmethod
    def prepare(self) -> None:
        """Compile `self.parsed` (called once, at construction)."""

    @abstractmethod
    def candidate(self) -> Any:
        """A value meant to be valid (not yet checked)."""

    @abstractmethod
    def problem(self, value: Any) -> str | None:
        """Why `value` is not valid for the schema, or None when it is (the format's own
        validator decides: fastavro, jsonschema, protobuf)."""

    def generate(self) -> Any:
        """A value that the schema's validator accepts; `GenerationError` if none is found."""
        problem = "no attempt"
        for _ in range(ATTEMPTS):
            try:
                value = self.candidate()
            except GenerationError as exc:  # this draw chose a branch with no value: redraw
                problem = str(exc)
                continue
            found = self.problem(value)
            if found is None:
                return value
            problem = found
        raise GenerationError(
            f"no valid value found in {ATTEMPTS} attempts (last: {problem}); the schema may "
            "be unsatisfiable or use constraints the generator does not model"
        )


def generator_for(
    parsed: ParsedSchema,
    *,
    seed: int | None = None,
    field_tags: Mapping[str, Collection[str]] | None = None,
) -> ValueGenerator:
    """The generator for a parsed schema of any format; `field_tags` adds tags (the
    catalog's) by dotted field path. Equal seeds give equal value sequences."""
    entry = GENERATORS.get(parsed.schema_type)
    if entry is None:
        raise GenerationError(f"{parsed.schema_type.value} schemas have no generator")
    cls: type[ValueGenerator] = load_entry(entry)  # type: ignore[assignment]
    return cls(parsed, seed=seed, field_tags=field_tags)


def field_value(value: Any, path: str) -> Any:
    """The value at a dotted field path of a generated record (`--key-field`)."""
    current = value
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise KeyError(path)
    return current
