"""The files every Protobuf schema may import without a reference, as Confluent's registry and
clients have them built in: `google/protobuf/*.proto` (the well-known types), `google/type/*.proto`
and `confluent/meta.proto`, `confluent/type/decimal.proto` (also under its older name
`confluent/types/decimal.proto`) and `confluent/type/variant.proto`.

Their descriptors come from the installed `protobuf`, `googleapis-common-protos` and
`confluent-kafka` packages; nothing is read from a path a schema names.
"""

from __future__ import annotations

import functools
import importlib

from google.protobuf import descriptor_pb2

_MODULES = (
    *(
        f"google.protobuf.{name}_pb2"
        for name in [
            "any",
            "api",
            "descriptor",
            "duration",
            "empty",
            "field_mask",
            "source_context",
            "struct",
            "timestamp",
            "type",
            "wrappers",
        ]
    ),
    *(
        f"google.type.{name}_pb2"
        for name in [
            "calendar_period",
            "color",
            "date",
            "datetime",
            "dayofweek",
            "expr",
            "fraction",
            "latlng",
            "money",
            "month",
            "phone_number",
            "postal_address",
            "quaternion",
            "timeofday",
        ]
    ),
    "confluent_kafka.schema_registry.confluent.meta_pb2",
    "confluent_kafka.schema_registry.confluent.type.decimal_pb2",
    "confluent_kafka.schema_registry.confluent.type.variant_pb2",
    "confluent_kafka.schema_registry.confluent.types.decimal_pb2",
)

#: File-name prefixes Confluent's clients never send as references.
BUILTIN_PREFIXES = ("google/protobuf/", "google/type/", "confluent/")


@functools.cache
def builtin_files() -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Each built-in file's descriptor by its import name, dependencies first."""
    out: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for module_name in _MODULES:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # an optional package missing: those imports then fail by name
            continue
        proto = descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb)
        out[proto.name] = proto
    return {name: out[name] for name in dependencies_first(out)}


def dependencies_first(files: dict[str, descriptor_pb2.FileDescriptorProto]) -> list[str]:
    """The names of `files` ordered so each comes after the files it imports (those in `files`)."""
    ordered: list[str] = []
    placed: set[str] = set()

    def place(name: str) -> None:
        stack = [(name, iter(files[name].dependency))]
        placed.add(name)
        while stack:
            current, deps = stack[-1]
            for dep in deps:
                if dep in files and dep not in placed:
                    placed.add(dep)
                    stack.append((dep, iter(files[dep].dependency)))
                    break
            else:
                stack.pop()
                ordered.append(current)

    for name in files:
        if name not in placed:
            place(name)
    return ordered


def is_builtin(name: str) -> bool:
    """Whether an import name is one of the built-in files."""
    return name in builtin_files()
