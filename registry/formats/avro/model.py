"""The Avro type graph: one node per place a type is written, fields, JSON pointers."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

PRIMITIVE_TYPES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)
NAMED_TYPES = frozenset({"record", "error", "enum", "fixed"})
FIELD_ORDERS = frozenset({"ascending", "descending", "ignore"})


class _EmptyMapping(Mapping[str, Any]):
    """A shared, immutable, hashable empty mapping (most nodes have no extra attributes)."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __hash__(self) -> int:
        return 0


EMPTY: Mapping[str, Any] = _EmptyMapping()


@dataclass(eq=False, slots=True)
class AvroField:
    """A record field as written at `path` (a JSON pointer such as `/fields/3`)."""

    name: str
    index: int
    type: AvroType
    path: str
    has_default: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()
    order: str = "ascending"
    doc: str | None = None
    props: Mapping[str, Any] = EMPTY


@dataclass(eq=False, slots=True)
class AvroType:
    """One Avro type as written at `path`; identity is the node, not its content.

    `key` is a hashable summary of the type's structure as far as reading is concerned
    (kinds, unqualified names, field names, symbols, sizes, decimal precision and scale):
    two nodes with equal keys read each other, which lets the compatibility check skip
    identical subtrees. It is None where no summary is made (recursive types, and types
    containing them). `origin` is None for types written in this schema, else the name of the
    reference that defined it.
    """

    kind: str
    path: str
    origin: str | None = None
    logical: str | None = None
    precision: int = 0
    scale: int = 0
    props: Mapping[str, Any] = EMPTY
    key: object = None
    label: str = ""
    # named types
    fullname: str = ""
    namespace: str = ""
    aliases: tuple[str, ...] = ()
    doc: str | None = None
    # record
    is_error: bool = False
    fields: tuple[AvroField, ...] = ()
    field_by_name: Mapping[str, AvroField] = EMPTY
    simple_fields: frozenset[tuple[str, object]] = frozenset()
    complex_fields: tuple[AvroField, ...] = ()
    # enum
    symbols: tuple[str, ...] = ()
    symbol_set: frozenset[str] = frozenset()
    enum_default: str | None = None
    # fixed
    size: int = 0
    # array / map / union
    items: AvroType | None = None
    values: AvroType | None = None
    branches: tuple[AvroType, ...] = ()

    @property
    def short_name(self) -> str:
        """The unqualified name of a named type."""
        return self.fullname.rpartition(".")[2]

    def describe(self) -> str:
        """A short spelling of the type for messages: `int`, `record com.acme.User`, ..."""
        if self.kind in NAMED_TYPES:
            return f"{self.kind} {self.fullname}"
        if self.kind == "array" and self.items is not None:
            return f"array<{self.items.describe_brief()}>"
        if self.kind == "map" and self.values is not None:
            return f"map<{self.values.describe_brief()}>"
        if self.kind == "union":
            return "[" + ", ".join(b.describe_brief() for b in self.branches) + "]"
        if self.logical == "decimal":
            return f"{self.kind} decimal({self.precision},{self.scale})"
        return self.kind

    def describe_brief(self) -> str:
        """The fullname of a named type, else the kind: `com.acme.User`, `int`, `array`."""
        return self.fullname if self.kind in NAMED_TYPES else self.kind


def pointer(path: str, token: str | int) -> str:
    """`path` extended by one JSON-pointer token (escaped when it needs to be)."""
    text = str(token)
    if "~" in text or "/" in text:
        text = text.replace("~", "~0").replace("/", "~1")
    return f"{path}/{text}"
