"""The Protobuf format: `.proto` text or a base64 `FileDescriptorProto`, compiled by protoc.

A schema is one `.proto` file; each `import` is resolved through the references given with it
(by the reference's name, as Confluent does) or is one of the built-in files
(`registry.formats.protobuf.builtins`). Nothing else is ever read.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from functools import cached_property

from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import Descriptor, FileDescriptor

from registry.formats.base import (
    DEFAULT_LIMITS,
    FieldTag,
    Limits,
    ResolvedReference,
    SchemaError,
    SchemaType,
)
from registry.formats.protobuf.builtins import builtin_files
from registry.formats.protobuf.compiler import (
    ROOT_NAME,
    FileProto,
    check_import_name,
    compile_files,
    decode_descriptor,
    is_base64_descriptor,
)
from registry.formats.protobuf.printer import print_file
from registry.formats.protobuf.tags import field_tags


class ProtobufSchema:
    """A compiled Protobuf schema with its imports resolved (see `ParsedSchema`)."""

    def __init__(
        self,
        raw: str,
        proto: FileProto,
        files: dict[str, FileProto],
        references: tuple[ResolvedReference, ...],
    ) -> None:
        self._raw = raw
        self.proto = proto
        #: every file the schema imports, transitively, by import name (built-ins included)
        self.files = files
        self._references = references

    @property
    def schema_type(self) -> SchemaType:
        """Always PROTOBUF."""
        return SchemaType.PROTOBUF

    @property
    def raw(self) -> str:
        """The schema text exactly as given."""
        return self._raw

    @property
    def references(self) -> tuple[ResolvedReference, ...]:
        """The references it was parsed with."""
        return self._references

    @property
    def name(self) -> str | None:
        """The full name of the first message, as Confluent's RecordNameStrategy uses it."""
        if not self.proto.message_type:
            return None
        first = self.proto.message_type[0].name
        return f"{self.proto.package}.{first}" if self.proto.package else first

    @cached_property
    def pool(self) -> descriptor_pool.DescriptorPool:
        """A descriptor pool holding this schema and everything it imports."""
        return build_pool([*self.files.values(), self.proto])

    @cached_property
    def file(self) -> FileDescriptor:
        """The runtime descriptor of the schema's file."""
        return self.pool.FindFileByName(self.proto.name)

    def canonical_string(self) -> str:
        """The `.proto` text written from the descriptor (`registry.formats.protobuf.printer`):
        what the registry stores and keys ids on, so respellings and the base64 descriptor of
        the same file share one id."""
        return self._canonical

    @cached_property
    def _canonical(self) -> str:
        return print_file(self.proto, self.pool)

    def parsing_form(self) -> str:
        """The same text as `canonical_string`: it is already free of spelling."""
        return self._canonical

    def normalized_form(self) -> str:
        """The canonical string with imports, options, fields and ranges sorted."""
        return self._normalized

    @cached_property
    def _normalized(self) -> str:
        return print_file(self.proto, self.pool, normalize=True)

    def serialized(self) -> str:
        """The schema as a base64 `FileDescriptorProto`: Confluent's `format=serialized`."""
        return base64.standard_b64encode(self.proto.SerializeToString()).decode("ascii")

    def field_tags(self) -> list[FieldTag]:
        """Every field carrying `(confluent.field_meta).tags`, in schema order."""
        return field_tags(self.file)

    def message(self, indexes: Sequence[int]) -> Descriptor:
        """The message at a message-index path (`[0]` is the first top-level message)."""
        if not indexes:
            raise SchemaError("a message-index path is empty")
        try:
            found = self.file.message_types_by_name[self.proto.message_type[indexes[0]].name]
            for index in indexes[1:]:
                found = found.nested_types[index]
        except IndexError:
            raise SchemaError(
                f"message indexes {list(indexes)} point to no message in the schema"
            ) from None
        return found

    def message_named(self, full_name: str) -> Descriptor:
        """The message of that full name, defined in this file."""
        for message in self.messages():
            if message.full_name == full_name:
                return message
        raise SchemaError(f"the schema defines no message {full_name!r}")

    def messages(self) -> Iterator[Descriptor]:
        """Every message defined in the file, depth first, in declaration order."""
        stack = list(reversed(self.file.message_types_by_name.values()))
        while stack:
            message = stack.pop()
            yield message
            stack.extend(reversed(message.nested_types))

    def __repr__(self) -> str:
        return f"ProtobufSchema({self.canonical_string()[:80]!r})"


def build_pool(files: Sequence[FileProto]) -> descriptor_pool.DescriptorPool:
    """A pool with the built-in files, then `files` (dependencies first); duplicates by name
    are taken once. `SchemaError` says which file does not build."""
    pool = descriptor_pool.DescriptorPool()
    added: set[str] = set()
    for proto in (*builtin_files().values(), *files):
        if proto.name in added:
            continue
        added.add(proto.name)
        try:
            pool.Add(proto)
        except (TypeError, KeyError, ValueError) as exc:
            raise SchemaError(f"file {proto.name!r} is not a valid schema: {exc}") from None
    return pool


def _depth(messages: Sequence[descriptor_pb2.DescriptorProto], limit: int) -> None:
    stack = [(message, 1) for message in messages]
    while stack:
        message, depth = stack.pop()
        if depth > limit:
            raise SchemaError(f"messages nest deeper than the limit of {limit}")
        stack.extend((nested, depth + 1) for nested in message.nested_type)


def _reference_texts(
    references: Sequence[ResolvedReference], limits: Limits
) -> tuple[list[tuple[str, str]], list[FileProto]]:
    """Each reference as `.proto` text; base64 ones decoded and written out in order."""
    texts: list[tuple[str, str]] = []
    decoded: list[FileProto] = []
    for reference in references:
        what = f"referenced schema {reference.name!r}"
        check_import_name(reference.name, "reference")
        if len(reference.schema.encode("utf-8")) > limits.max_schema_bytes:
            raise SchemaError(f"{what} is over the limit of {limits.max_schema_bytes} bytes")
        if not is_base64_descriptor(reference.schema):
            texts.append((reference.name, reference.schema))
            continue
        proto = decode_descriptor(reference.schema, reference.name)
        known = [*compile_closure(texts), *decoded, proto] if texts else [*decoded, proto]
        pool = build_pool(known)
        decoded.append(proto)
        texts.append((reference.name, print_file(proto, pool)))
    return texts, decoded


def compile_closure(texts: Sequence[tuple[str, str]]) -> list[FileProto]:
    """Descriptors of the given `.proto` texts (name, text), each compiled with the others."""
    out: dict[str, FileProto] = {}
    for name, text in texts:
        if name not in out:
            for proto in compile_files(text, texts, name):
                out.setdefault(proto.name, proto)
    return list(out.values())


def parse_protobuf(
    schema: str,
    references: Sequence[ResolvedReference] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> ProtobufSchema:
    """Compile a Protobuf schema; `SchemaError` names what is wrong, with line and column."""
    if len(schema.encode("utf-8")) > limits.max_schema_bytes:
        raise SchemaError(f"schema is over the limit of {limits.max_schema_bytes} bytes")
    if len(references) > limits.max_references:
        raise SchemaError(
            f"schema has {len(references)} references, over the limit of {limits.max_references}"
        )
    if not schema.strip():
        raise SchemaError("the schema is empty: give a .proto file's text")
    texts, _ = _reference_texts(references, limits)
    text = schema
    if is_base64_descriptor(schema):
        proto = decode_descriptor(schema, ROOT_NAME)
        referenced = [pair for pair in texts if pair[0] in proto.dependency]
        pool_files = compile_closure(referenced) if referenced else []
        text = print_file(proto, build_pool([*pool_files, proto]))
    compiled = compile_files(text, texts)
    root = compiled[-1]
    _depth(root.message_type, limits.max_depth)
    files = {proto.name: proto for proto in compiled[:-1]}
    parsed = ProtobufSchema(schema, root, files, tuple(references))
    _ = parsed.file  # the pool builds: every type resolves
    return parsed


__all__ = ["ProtobufSchema", "build_pool", "parse_protobuf"]
