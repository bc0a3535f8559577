"""`.proto` text to descriptors with protoc, the reference compiler, run in-process.

protoc comes from the `grpcio-tools` wheel (`grpc_tools._protoc_compiler`): the parser, the
type checker and the error messages are the ones every Protobuf user knows, with line and
column. It reads files only from a private temporary directory holding the schema and its given
references, and from the built-in files; an import of anything else (another path, `..`, an
absolute path, a URL) is not found and fails the schema.
"""

from __future__ import annotations

import ast
import base64
import binascii
import contextlib
import functools
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path, PurePosixPath

from google.protobuf import descriptor_pool
from google.protobuf.descriptor_pb2 import FileDescriptorProto as FileProto
from google.protobuf.descriptor_pb2 import FileDescriptorSet
from google.protobuf.message import DecodeError
from grpc_tools import _protoc_compiler

from registry.formats.base import SchemaError
from registry.formats.protobuf.builtins import BUILTIN_PREFIXES, builtin_files
from registry.formats.protobuf.printer import print_file

ROOT_NAME = "schema.proto"
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")
# One compiler at a time: protoc's in-process importer is not documented as reentrant.
_LOCK = threading.Lock()


class ProtoCompileError(SchemaError):
    """protoc refused the schema: `line` and `column` (1-based) of the first error in the
    schema's own text, or `origin`, the reference it is in."""

    def __init__(
        self, message: str, line: int | None, column: int | None, origin: str | None
    ) -> None:
        super().__init__(message, origin=origin)
        self.line = line
        self.column = column


def is_base64_descriptor(text: str) -> bool:
    """Whether the text looks like a base64 `FileDescriptorProto` rather than `.proto` text."""
    stripped = text.strip()
    return len(stripped) % 4 == 0 and bool(_BASE64.fullmatch(stripped))


def decode_descriptor(text: str, name: str) -> FileProto:
    """A base64 `FileDescriptorProto` (confluent-kafka's serializers send these)."""
    try:
        data = base64.b64decode(text.strip(), validate=True)
        proto = FileProto.FromString(data)
    except (binascii.Error, DecodeError, ValueError):
        raise SchemaError(
            "the schema is neither valid .proto text nor a base64-encoded FileDescriptorProto"
        ) from None
    if not proto.message_type and not proto.enum_type and not proto.service:
        raise SchemaError(
            "the schema is neither valid .proto text nor a base64-encoded FileDescriptorProto "
            "(it decodes to a file that defines nothing)"
        )
    proto.name = name
    return proto


def check_import_name(name: str, what: str) -> None:
    """Reference names are import paths: relative, without `.` or `..` segments."""
    if (
        not _NAME.fullmatch(name)
        or any(part in (".", "..") for part in PurePosixPath(name).parts)
        or len(name) > 512
    ):
        raise SchemaError(
            f"{what} {name!r} is not a valid import path: use a relative path such as "
            "'common/money.proto' (letters, digits, '_', '-', '.', '/'; no '..')"
        )


@functools.cache
def _include_dirs() -> tuple[bytes, ...]:
    """The built-in files' directories: grpcio-tools ships `google/protobuf/*.proto`; the
    others are written once per process as `.proto` text from their descriptors."""
    root = Path(tempfile.mkdtemp(prefix="streamgov-proto-builtins-"))
    files = builtin_files()
    pool = descriptor_pool.DescriptorPool()
    for proto in files.values():
        pool.Add(proto)
    for name, proto in files.items():
        if name.startswith("google/protobuf/"):
            continue
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(print_file(proto, pool), encoding="utf-8")
    shipped = resources.files("grpc_tools") / "_proto"
    return (str(root).encode(), str(shipped).encode())


def _error_text(error: object, shown: dict[str, str]) -> str:
    filename = _text(getattr(error, "filename", b""))
    message = _text(getattr(error, "message", b""))
    line = int(getattr(error, "line", -1))
    column = int(getattr(error, "column", -1))
    where = shown.get(filename, f"imported file {filename!r}")
    if line >= 0:
        return f"{message} ({where}, line {line + 1}, column {column + 1})"
    return f"{message} ({where})"


def _compile_error(errors: list[object], shown: dict[str, str], root: str) -> ProtoCompileError:
    texts = [_error_text(error, shown) for error in errors]
    message = "; ".join(texts[:5]) or "the schema does not compile"
    first = errors[0] if errors else None
    filename = _text(getattr(first, "filename", b""))
    line = int(getattr(first, "line", -1)) + 1 if first is not None else 0
    column = int(getattr(first, "column", -1)) + 1 if first is not None else 0
    origin = None if filename == root or filename not in shown else filename
    return ProtoCompileError(message, line if line > 0 else None, column or None, origin)


def source_lines(root: str, references: Sequence[tuple[str, str]]) -> dict[tuple[int, ...], int]:
    """Line (1-based) of each element of a schema that compiles, by its descriptor path
    (`SourceCodeInfo`: `(4, 0, 2, 1)` is the second field of the first message)."""
    with _source_tree(root, references) as (tmp, root_name, _):
        out = Path(tmp) / "descriptor.pb"
        args = ["protoc", f"--descriptor_set_out={out}", "--include_source_info", f"-I{tmp}"]
        args += [f"-I{path.decode()}" for path in _include_dirs()]
        with _LOCK:
            status = _protoc_compiler.run_main([arg.encode() for arg in [*args, root_name]])
        if status != 0 or not out.exists():
            return {}
        files = FileDescriptorSet.FromString(out.read_bytes())
    lines: dict[tuple[int, ...], int] = {}
    for location in files.file[-1].source_code_info.location:
        lines.setdefault(tuple(location.path), location.span[0] + 1)
    return lines


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


@functools.lru_cache(maxsize=256)
def _generated_descriptor(code: bytes) -> bytes:
    """The serialized `FileDescriptorProto` embedded in protoc's generated Python module
    (cached: imports such as `confluent/meta.proto` bring in the same large modules, whose
    parse is most of a compile)."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return node.args[0].value
    raise SchemaError("the Protobuf compiler produced no descriptor")


@contextlib.contextmanager
def _source_tree(
    root: str, references: Sequence[tuple[str, str]], name: str | None = None
) -> Iterator[tuple[str, str, dict[str, str]]]:
    """A private directory holding the references and the root, nothing else; yields it, the
    root's file name (`name`, or a private one) and how each file is named in errors."""
    root_name = name or ROOT_NAME
    counter = 0
    while name is None and root_name in {ref for ref, _ in references}:
        counter += 1
        root_name = f"schema_{counter}.proto"
    shown = {root_name: "the schema" if name is None else f"referenced schema {name!r}"}
    with tempfile.TemporaryDirectory(prefix="streamgov-proto-") as tmp:
        files = [pair for pair in references if pair[0] != root_name]
        for ref, text in (*files, (root_name, root)):
            if ref != root_name:
                check_import_name(ref, "reference")
                shown[ref] = f"referenced schema {ref!r}"
            path = Path(tmp) / ref
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        yield tmp, root_name, shown


def compile_files(
    root: str, references: Sequence[tuple[str, str]], name: str | None = None
) -> list[FileProto]:
    """Compile `.proto` text `root` with `references` (import name, `.proto` text) available.

    Returns the descriptors of the root and every file it imports, transitively, dependencies
    first and the root last. The root is compiled as `name` (a reference compiled on its own)
    or under a private name. `SchemaError` carries protoc's messages with line and column.
    """
    with _source_tree(root, references, name) as (tmp, root_name, shown):
        include = [tmp.encode(), *_include_dirs()]
        with _LOCK:
            try:
                generated = _protoc_compiler.get_protos(root_name.encode(), include)
            except _protoc_compiler.ProtocErrors as exc:
                raise _compile_error(exc.errors(), shown, root_name) from None
    return [FileProto.FromString(_generated_descriptor(code)) for _, code in generated]


def is_builtin_import(name: str) -> bool:
    """Whether an import is served by the built-in files."""
    return name.startswith(BUILTIN_PREFIXES) and name in builtin_files()
