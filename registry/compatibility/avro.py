"""Avro reader/writer compatibility, per the Avro specification's schema resolution.

Rule names follow Apache Avro's `SchemaCompatibility` checker (NAME_MISMATCH,
FIXED_SIZE_MISMATCH, MISSING_ENUM_SYMBOLS, READER_FIELD_MISSING_DEFAULT_VALUE, TYPE_MISMATCH,
MISSING_UNION_BRANCH), plus DECIMAL_MISMATCH for decimals whose precision or scale differ,
which the specification says do not resolve. Paths are JSON pointers into the reader's schema
text (into a referenced schema's text when the type came from a reference: `origin` names it,
and so does the message).
"""

from __future__ import annotations

from registry.compatibility import Incompatibility
from registry.formats.avro import PRIMITIVE_TYPES, AvroField, AvroSchema, AvroType
from registry.formats.base import ParsedSchema

# Writer types that each reader type accepts besides its own (the spec's promotions).
PROMOTIONS: dict[str, frozenset[str]] = {
    "long": frozenset({"int"}),
    "float": frozenset({"int", "long"}),
    "double": frozenset({"int", "long", "float"}),
    "string": frozenset({"bytes"}),
    "bytes": frozenset({"string"}),
}
_PROMOTES_TO: dict[str, tuple[str, ...]] = {
    "int": ("long", "float", "double"),
    "long": ("float", "double"),
    "float": ("double",),
    "string": ("bytes",),
    "bytes": ("string",),
}
_NAMED = frozenset({"record", "enum", "fixed"})
_IN_PROGRESS: list[Incompatibility] = []


def incompatibilities(reader: ParsedSchema, writer: ParsedSchema) -> list[Incompatibility]:
    """Why `reader` cannot read data written with `writer`; empty when it can."""
    if not isinstance(reader, AvroSchema) or not isinstance(writer, AvroSchema):
        raise TypeError("Avro compatibility needs two parsed Avro schemas")
    if reader is writer:
        return []
    checker = _Checker()
    try:
        checker.check(reader.root, writer.root, checker.found)
    except RecursionError:
        return [
            Incompatibility(
                rule="SCHEMA_TOO_DEEP",
                path="",
                message=(
                    "the schemas nest too deeply to compare; flatten the nesting of named types"
                ),
            )
        ]
    return list(dict.fromkeys(checker.found))


def _in_reference(node: AvroType) -> str:
    return f" (in referenced schema `{node.origin}`)" if node.origin is not None else ""


class _Checker:
    """One comparison of two type graphs; memoises named pairs so recursion terminates."""

    __slots__ = ("found", "memo")

    def __init__(self) -> None:
        self.found: list[Incompatibility] = []
        self.memo: dict[tuple[int, int], list[Incompatibility]] = {}

    def readable(self, reader: AvroType, writer: AvroType) -> bool:
        """Whether `reader` reads `writer` (a probe: nothing is reported)."""
        if reader.key is not None and reader.key == writer.key:
            return True
        rkind = reader.kind
        wkind = writer.kind
        if (
            rkind != wkind
            and rkind != "union"
            and wkind != "union"
            and wkind not in PROMOTIONS.get(rkind, ())
        ):
            return False
        probe: list[Incompatibility] = []
        self.check(reader, writer, probe)
        return not probe

    def check(self, reader: AvroType, writer: AvroType, out: list[Incompatibility]) -> None:
        """Append to `out` every reason `reader` cannot read `writer`."""
        key = reader.key
        if key is not None and key == writer.key:
            return
        rkind = reader.kind
        wkind = writer.kind
        if rkind == wkind:
            if rkind in PRIMITIVE_TYPES:
                self.decimal(reader, writer, out)
                return
            if rkind == "array":
                assert reader.items is not None and writer.items is not None
                self.check(reader.items, writer.items, out)
            elif rkind == "map":
                assert reader.values is not None and writer.values is not None
                self.check(reader.values, writer.values, out)
            elif rkind == "union":
                for index, branch in enumerate(writer.branches):
                    if not self.union_reads(reader, branch):
                        self.explain_union(reader, branch, index, out)
            else:
                self.named(reader, writer, out)
            return
        if wkind == "union":
            # Whatever branch the writer picked, the reader must read it.
            promotable = PROMOTIONS.get(rkind, frozenset())
            for branch in writer.branches:
                if branch.kind == rkind:
                    self.check(reader, branch, out)
                elif branch.kind not in promotable:
                    out.append(_type_mismatch(reader, branch, writer))
            return
        if rkind == "union":
            if not self.union_reads(reader, writer):
                self.explain_union(reader, writer, None, out)
            return
        if wkind in PROMOTIONS.get(rkind, ()):
            return
        out.append(_type_mismatch(reader, writer))

    def union_reads(self, reader: AvroType, writer: AvroType) -> bool:
        return any(self.readable(branch, writer) for branch in reader.branches)

    def explain_union(
        self, reader: AvroType, writer: AvroType, index: int | None, out: list[Incompatibility]
    ) -> None:
        """Say why no branch of the reader's union reads `writer`.

        When a branch is the one resolution would pick (the same named type, or the array or
        map), what breaks inside it is the useful answer; otherwise the branch is missing.
        """
        for branch in reader.branches:
            if branch.kind == writer.kind and (
                branch.kind in ("array", "map")
                or (branch.kind in _NAMED and _names_match(branch, writer))
            ):
                self.check(branch, writer, out)
                return
        out.append(_missing_branch(reader, writer, index))

    def decimal(self, reader: AvroType, writer: AvroType, out: list[Incompatibility]) -> None:
        if (
            reader.logical == "decimal"
            and writer.logical == "decimal"
            and (reader.precision, reader.scale) != (writer.precision, writer.scale)
        ):
            out.append(_decimal_mismatch(reader, writer))

    def named(self, reader: AvroType, writer: AvroType, out: list[Incompatibility]) -> None:
        pair = (id(reader), id(writer))
        known = self.memo.get(pair)
        if known is not None:
            # Done before, or in progress further up (a recursive type): assume it reads,
            # which is the coinductive answer for the cycle.
            out.extend(known)
            return
        self.memo[pair] = _IN_PROGRESS
        found: list[Incompatibility] = []
        if not _names_match(reader, writer):
            found.append(_name_mismatch(reader, writer))
        if reader.kind == "record":
            self.record(reader, writer, found)
        elif reader.kind == "enum":
            missing = writer.symbol_set - reader.symbol_set
            if missing and reader.enum_default is None:
                found.append(_missing_symbols(reader, writer, missing))
        else:
            if reader.size != writer.size:
                found.append(_fixed_size(reader, writer))
            else:
                self.decimal(reader, writer, found)
        self.memo[pair] = found
        out.extend(found)

    def record(self, reader: AvroType, writer: AvroType, out: list[Incompatibility]) -> None:
        by_name = writer.field_by_name
        fields = reader.field_by_name
        # Fields whose name and structural key both match read trivially; a set difference
        # finds the rest without a Python-level loop over every field.
        pending = [fields[name] for name, _ in reader.simple_fields - writer.simple_fields]
        pending.extend(reader.complex_fields)
        found: list[Incompatibility] = []
        spans: list[tuple[int, int, int]] = []  # (field index, start, end) in `found`
        for reader_field in pending:
            start = len(found)
            writer_field = by_name.get(reader_field.name)
            if writer_field is None:
                for alias in reader_field.aliases:
                    writer_field = by_name.get(alias)
                    if writer_field is not None:
                        break
            if writer_field is None:
                if not reader_field.has_default:
                    found.append(_missing_default(reader_field, reader))
            else:
                self.check(reader_field.type, writer_field.type, found)
            if len(found) > start:
                spans.append((reader_field.index, start, len(found)))
        # Report in field order (the set difference has none), sorting only what was found.
        for _, start, end in sorted(spans):
            out.extend(found[start:end])


def _names_match(reader: AvroType, writer: AvroType) -> bool:
    # The spec compares unqualified names; a reader alias may name the writer's fullname.
    return reader.short_name == writer.short_name or writer.fullname in reader.aliases


def _subject(node: AvroType) -> str:
    """`field `email` at `/fields/3/type``, or just the pointer when not a field's type."""
    where = f"`{node.path or '/'}`{_in_reference(node)}"
    return f"{node.label} at {where}" if node.label else where


def _type_mismatch(
    reader: AvroType, writer: AvroType, union: AvroType | None = None
) -> Incompatibility:
    """`writer` is what was written; `union` the writer's union it is a branch of, if any."""
    wrote = writer.describe()
    if union is not None:
        where = f"the writer's union `{union.describe()}` may hold `{wrote}` there"
        fix = f"make it a union that includes `{wrote}`"
    else:
        where = f"the writer's schema has `{wrote}` there"
        targets = _PROMOTES_TO.get(writer.kind, ())
        options = ", ".join(f"`{t}`" for t in (wrote, *targets))
        fix = f"make it {options}, or a union that includes one of them"
    return Incompatibility(
        rule="TYPE_MISMATCH",
        path=reader.path,
        origin=reader.origin,
        message=(
            f"{_subject(reader)} is `{reader.describe()}` but {where}, which "
            f"`{reader.describe_brief()}` cannot read; {fix}"
        ),
    )


def _missing_branch(reader: AvroType, writer: AvroType, index: int | None) -> Incompatibility:
    wrote = writer.describe()
    which = f"branch {index} of the writer's union, " if index is not None else ""
    return Incompatibility(
        rule="MISSING_UNION_BRANCH",
        path=reader.path,
        origin=reader.origin,
        message=(
            f"union {_subject(reader)} has no branch that can read the writer's `{wrote}` "
            f"({which}which the data may contain); add `{wrote}` to the union"
        ),
    )


def _name_mismatch(reader: AvroType, writer: AvroType) -> Incompatibility:
    return Incompatibility(
        rule="NAME_MISMATCH",
        path=reader.path + "/name",
        origin=reader.origin,
        message=(
            f"{reader.kind} `{reader.fullname}` at `{reader.path or '/'}`{_in_reference(reader)} "
            f"does not match the writer's {writer.kind} `{writer.fullname}`: named types resolve "
            f"only when their names match; keep the name `{writer.short_name}` or add "
            f'`"aliases": ["{writer.fullname}"]` to `{reader.fullname}`'
        ),
    )


def _fixed_size(reader: AvroType, writer: AvroType) -> Incompatibility:
    return Incompatibility(
        rule="FIXED_SIZE_MISMATCH",
        path=reader.path + "/size",
        origin=reader.origin,
        message=(
            f"fixed `{reader.fullname}`{_in_reference(reader)} has size {reader.size} but the "
            f"writer's has size {writer.size}: fixed values of another size cannot be read; "
            f"keep size {writer.size}"
        ),
    )


def _missing_symbols(
    reader: AvroType, writer: AvroType, missing: frozenset[str]
) -> Incompatibility:
    ordered = [symbol for symbol in writer.symbols if symbol in missing]
    listed = ", ".join(f"`{symbol}`" for symbol in ordered)
    plural = "s" if len(ordered) > 1 else ""
    return Incompatibility(
        rule="MISSING_ENUM_SYMBOLS",
        path=reader.path + "/symbols",
        origin=reader.origin,
        message=(
            f"enum `{reader.fullname}`{_in_reference(reader)} lacks symbol{plural} {listed} "
            f"that the writer's enum has, and has no default: data carrying {listed} cannot "
            f"be read; the reader's enum needs the symbol{plural}, or a `default` symbol to "
            "read unknown symbols as"
        ),
    )


def _missing_default(reader_field: AvroField, record: AvroType) -> Incompatibility:
    name = reader_field.name
    return Incompatibility(
        rule="READER_FIELD_MISSING_DEFAULT_VALUE",
        path=reader_field.path,
        origin=record.origin,
        message=(
            f"field `{reader_field.path}` `{name}`{_in_reference(record)} has no default and "
            f"the writer's record `{record.fullname}` has no such field: a reader cannot fill "
            f"it from data written without it; add a default to `{name}`, or keep the field "
            "in both schemas"
        ),
    )


def _decimal_mismatch(reader: AvroType, writer: AvroType) -> Incompatibility:
    return Incompatibility(
        rule="DECIMAL_MISMATCH",
        path=reader.path,
        origin=reader.origin,
        message=(
            f"decimal {_subject(reader)} has precision "
            f"{reader.precision} and scale {reader.scale} but the writer's has precision "
            f"{writer.precision} and scale {writer.scale}: decimals resolve only when both "
            f"match; keep precision {writer.precision} and scale {writer.scale}"
        ),
    )


__all__ = ["PROMOTIONS", "incompatibilities"]
