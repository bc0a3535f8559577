"""Compatibility levels and the `check` that the registry and the CI check share.

Per-format rules live in the modules `RULES` names; each provides
`incompatibilities(reader, writer) -> list[Incompatibility]`: the reasons the reader schema
cannot read data written with the writer schema (empty when it can).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

from registry.formats import ParsedSchema, SchemaType, load_entry

Direction = Literal["backward", "forward"]


class CompatibilityLevel(StrEnum):
    """Confluent's compatibility levels."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"

    @classmethod
    def parse(cls, value: str) -> CompatibilityLevel:
        """Parse a level name, case-insensitively; `ValueError` names the allowed values."""
        try:
            return cls(value.strip().upper())
        except (ValueError, AttributeError):
            allowed = ", ".join(level.value for level in cls)
            raise ValueError(
                f"invalid compatibility level {value!r}: expected one of {allowed}"
            ) from None

    @property
    def transitive(self) -> bool:
        """Whether every earlier version is checked (else only the latest)."""
        return self.value.endswith("_TRANSITIVE")

    @property
    def backward(self) -> bool:
        """Whether the new schema must read data written with the old ones."""
        return self.value.startswith(("BACKWARD", "FULL"))

    @property
    def forward(self) -> bool:
        """Whether the old schemas must read data written with the new one."""
        return self.value.startswith(("FORWARD", "FULL"))


@dataclass(frozen=True, slots=True)
class Incompatibility:
    """One reason a schema change breaks readers or writers.

    `path` is a JSON pointer into the reader schema in the direction checked (for BACKWARD,
    the new schema; for FORWARD, the old one), `rule` a stable upper-case rule name, and
    `message` a sentence that says what is wrong and how to fix it. `origin` is None when
    `path` points into the reader schema's own text, else the name of the reference (as the
    reader schema's references name it) whose text it points into.
    """

    rule: str
    path: str
    message: str
    version: int | None = None
    direction: Direction = "backward"
    origin: str | None = None

    def explained(self) -> str:
        """The message as a registry answers it: a FORWARD finding compares the other way
        round, so it says which version cannot read the new data and where the fix goes."""
        if self.direction != "forward" or self.version is None:
            return self.message
        return (
            f"version {self.version} cannot read data written with the new schema (below, the "
            f"writer and the `old` side are the new schema): {self.message.rstrip('.')}. "
            f"Version {self.version} is registered and cannot change: undo this difference in "
            "the new schema"
        )

    def confluent_message(self) -> str:
        """The `messages` string shape Confluent's verbose compatibility answers use."""
        where = f"version {self.version}" if self.version is not None else "the existing schema"
        return (
            f"{{errorType:'{self.rule}', description:'{self.explained()}', "
            f"additionalInfo:'{self.direction} check against {where} at {self.path or '/'}'}}"
        )


@dataclass(frozen=True, slots=True)
class VersionedSchema:
    """An existing version of a subject."""

    version: int
    schema: ParsedSchema


@dataclass(frozen=True, slots=True)
class CompatibilityResult:
    """The verdict of `check`, with every reason when incompatible."""

    level: CompatibilityLevel
    incompatibilities: tuple[Incompatibility, ...] = ()

    @property
    def compatible(self) -> bool:
        """True when nothing breaks at this level."""
        return not self.incompatibilities

    def messages(self) -> list[str]:
        """Confluent-style strings for the REST API's verbose answers."""
        return [item.confluent_message() for item in self.incompatibilities]


PairCheck = Callable[[ParsedSchema, ParsedSchema], list[Incompatibility]]


#: Each format's pair rules, as `module:function` (imported on first use): adding a format is
#: one line here and one in `registry.formats.FORMATS`.
RULES: dict[SchemaType, str] = {
    SchemaType.AVRO: "registry.compatibility.avro:incompatibilities",
    SchemaType.JSON: "registry.compatibility.jsonschema:incompatibilities",
    SchemaType.PROTOBUF: "registry.compatibility.protobuf:incompatibilities",
}


def _pair_checker(schema_type: SchemaType) -> PairCheck:
    entry = RULES.get(schema_type)
    if entry is None:
        raise ValueError(f"no compatibility rules for schema type {schema_type.value}")
    checker: PairCheck = load_entry(entry)  # type: ignore[assignment]
    return checker


def pair_incompatibilities(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why `reader` cannot read data written with `writer` (empty when it can)."""
    if reader.schema_type is not writer.schema_type:
        return [
            Incompatibility(
                rule="TYPE_MISMATCH",
                path="",
                message=(
                    f"schema type changed from {writer.schema_type.value} to "
                    f"{reader.schema_type.value}: a subject keeps one schema type; register the "
                    "new format under a new subject"
                ),
            )
        ]
    return _pair_checker(reader.schema_type)(reader, writer)


def check(
    new: ParsedSchema,
    existing: Sequence[VersionedSchema],
    level: CompatibilityLevel | str,
) -> CompatibilityResult:
    """Decide whether `new` may follow `existing` (oldest first) at `level`.

    Non-transitive levels check the latest version only; transitive levels check every
    version, newest first. BACKWARD: `new` reads the old data; FORWARD: the old schemas read
    the new data; FULL: both.
    """
    level = level if isinstance(level, CompatibilityLevel) else CompatibilityLevel.parse(level)
    if level is CompatibilityLevel.NONE or not existing:
        return CompatibilityResult(level)
    targets = list(reversed(existing)) if level.transitive else [existing[-1]]
    found: list[Incompatibility] = []
    for target in targets:
        if level.backward:
            found.extend(
                replace(item, version=target.version, direction="backward")
                for item in pair_incompatibilities(new, target.schema)
            )
        if level.forward:
            found.extend(
                replace(item, version=target.version, direction="forward")
                for item in pair_incompatibilities(target.schema, new)
            )
    return CompatibilityResult(level, tuple(found))


__all__ = [
    "RULES",
    "CompatibilityLevel",
    "CompatibilityResult",
    "Incompatibility",
    "VersionedSchema",
    "check",
    "pair_incompatibilities",
]
