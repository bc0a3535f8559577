"""`.proto` files in a checked tree: their imports become references to the files they name.

An import names a file by its path below some include root (`import "common/money.proto";`).
A file of the tree answers to each tail of its path (`protos/common/money.proto` to
`protos/common/money.proto`, `common/money.proto` and `money.proto`), unless two files share
that tail. Each import that a tree file answers to becomes a reference named like the import to
that file's subject, exactly as confluent-kafka registers imports; the built-in files need none.
Only the tree's own `.proto` files are ever given to the compiler.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from pathlib import PurePosixPath

from google.protobuf.descriptor_pb2 import DescriptorProto, FileDescriptorProto

from registry.check.config import ReferenceSpec
from registry.formats.base import SchemaError
from registry.formats.protobuf.builtins import is_builtin
from registry.formats.protobuf.compiler import compile_files, source_lines

PROTO_SUFFIXES = (".proto",)


def import_names(texts: Mapping[str, str]) -> dict[str, str]:
    """Import name -> tree path, for every unambiguous tail of every `.proto` path."""
    found: dict[str, str | None] = {}
    for path in texts:
        parts = PurePosixPath(path).parts
        for start in range(len(parts)):
            tail = "/".join(parts[start:])
            found[tail] = None if tail in found and found[tail] != path else path
    return {name: path for name, path in found.items() if path is not None}


@functools.lru_cache(maxsize=512)
def _compiled(text: str, available: tuple[tuple[str, str], ...]) -> FileDescriptorProto | None:
    try:
        return compile_files(text, available)[-1]
    except SchemaError:
        return None  # the judge compiles it again and reports the error with its line


def compiled(text: str, texts: Mapping[str, str]) -> FileDescriptorProto | None:
    """The file's descriptor, its imports served from the tree; None when it does not compile."""
    names = import_names(texts)
    return _compiled(text, tuple(sorted((name, texts[path]) for name, path in names.items())))


def message_name(text: str, texts: Mapping[str, str]) -> str | None:
    """The full name of the file's first message (what record strategies name subjects by)."""
    proto = compiled(text, texts)
    if proto is None or not proto.message_type:
        return None
    first = proto.message_type[0].name
    return f"{proto.package}.{first}" if proto.package else first


def imported_references(
    text: str, texts: Mapping[str, str], subjects: Mapping[str, str]
) -> tuple[ReferenceSpec, ...]:
    """A reference per import the tree serves: (import name, subject of that file)."""
    proto = compiled(text, texts)
    if proto is None:
        return ()
    names = import_names(texts)
    specs = []
    for name in proto.dependency:
        path = names.get(name)
        if path is None or is_builtin(name) or path not in subjects:
            continue
        specs.append(ReferenceSpec(name, subjects[path]))
    return tuple(specs)


def finding_line(text: str, references: Sequence[tuple[str, str]], path: str) -> int | None:
    """The line of a Protobuf finding's path (`#/Order/Line/2`, `#/Order/payment`) in `text`:
    the deepest message, oneof or field it names; None when the text does not compile."""
    try:
        proto = compile_files(text, references)[-1]
        lines = source_lines(text, references)
    except SchemaError:
        return None
    where: tuple[int, ...] = ()
    messages: Sequence[DescriptorProto] = proto.message_type
    message: DescriptorProto | None = None
    for token in path.removeprefix("#/").split("/"):
        names = [m.name for m in messages]
        if token in names:
            index = names.index(token)
            where = (*where, 3 if message is not None else 4, index)
            message = messages[index]
            messages = message.nested_type
        elif message is not None and token.isdigit():
            numbers = [f.number for f in message.field]
            if int(token) not in numbers:
                break
            where = (*where, 2, numbers.index(int(token)))
            break
        elif message is not None and token in (o.name for o in message.oneof_decl):
            where = (*where, 8, [o.name for o in message.oneof_decl].index(token))
        else:
            break
    while where and where not in lines:
        where = where[:-1]
    return lines.get(where)
