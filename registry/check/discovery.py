"""From a tree of files to schema files with subjects: explicit entries, globs, conventions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from registry.check.config import CheckConfig, FileRule, ReferenceSpec, Strategy
from registry.check.pointers import load_json
from registry.check.protos import PROTO_SUFFIXES, imported_references, message_name
from registry.check.sources import FileSource
from registry.compatibility import CompatibilityLevel
from registry.formats import SchemaType

AVRO_SUFFIXES = (".avsc",)
JSON_SUFFIXES = (".schema.json", ".json")
MAX_SUBJECT_LENGTH = 255
#: Files larger than this are not sniffed for `$schema` when looking for schemas by convention.
MAX_SNIFF_BYTES = 1_048_576

CONVENTIONS_NOTE = (
    "no schema files listed (`schemas.files` in streamgov.yaml): found them by convention "
    "(*.avsc as Avro, *.schema.json and *.json with a json-schema.org `$schema` as JSON "
    "Schema, *.proto as Protobuf; subject = file name without extension). Make the mapping "
    "explicit with a `schemas:` section, e.g. "
    "`files: [{glob: 'schemas/**/*.avsc', strategy: TopicNameStrategy}]`."
)


@dataclass(frozen=True, slots=True)
class SchemaFile:
    """A schema file and the subject it holds."""

    path: str
    subject: str
    schema_type: SchemaType
    text: str
    compatibility: CompatibilityLevel | None = None
    references: tuple[ReferenceSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class MappingProblem:
    """A file that should hold a schema but cannot be mapped to a subject."""

    path: str
    message: str
    subject: str | None = None


@dataclass
class Discovery:
    """Schema files by subject, and the files that could not be mapped."""

    files: dict[str, SchemaFile] = field(default_factory=dict)
    problems: list[MappingProblem] = field(default_factory=list)


def stem(path: str) -> str:
    """The file name without its schema extension (`orders.schema.json` -> `orders`)."""
    name = PurePosixPath(path).name
    for suffix in (*AVRO_SUFFIXES, *JSON_SUFFIXES, *PROTO_SUFFIXES):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return PurePosixPath(name).stem or name


def type_from_name(path: str) -> SchemaType | None:
    """AVRO for `.avsc`, JSON for `.json`, PROTOBUF for `.proto`; None when the name does not
    tell."""
    if path.endswith(AVRO_SUFFIXES):
        return SchemaType.AVRO
    if path.endswith(PROTO_SUFFIXES):
        return SchemaType.PROTOBUF
    if path.endswith(JSON_SUFFIXES):
        return SchemaType.JSON
    return None


def is_json_schema(content: bytes) -> bool:
    """Whether a `.json` file declares a JSON Schema meta-schema in `$schema`.

    Instance documents (tsconfig, editor settings) also carry `$schema`, pointing at the
    schema they follow; only json-schema.org meta-schemas mark a file as a schema itself.
    """
    if len(content) > MAX_SNIFF_BYTES or b"$schema" not in content:
        return False
    try:
        document = load_json(content)
    except ValueError:
        return False
    marker = document.get("$schema") if isinstance(document, dict) else None
    return isinstance(marker, str) and "json-schema.org" in marker


def record_name(
    schema_type: SchemaType, text: str, protos: Mapping[str, str] | None = None
) -> str | None:
    """The fully-qualified record name (Avro), `title` (JSON Schema) or first message's full
    name (Protobuf, its imports served from the tree's `protos`), for record strategies."""
    if schema_type is SchemaType.PROTOBUF:
        return message_name(text, protos or {})
    try:
        document: Any = load_json(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    if schema_type is SchemaType.JSON:
        title = document.get("title")
        return title if isinstance(title, str) and title else None
    name, namespace = document.get("name"), document.get("namespace")
    if not isinstance(name, str) or not name:
        return None
    if "." in name or not isinstance(namespace, str) or not namespace:
        return name
    return f"{namespace}.{name}"


def _subject(
    rule: FileRule, path: str, schema_type: SchemaType, text: str, protos: Mapping[str, str]
) -> str:
    """The subject `rule` gives the file; `ValueError` says why there is none."""
    if rule.subject is not None:
        return rule.subject
    suffix = "key" if rule.key else "value"
    topic = rule.topic.format(stem=stem(path), parent=PurePosixPath(path).parent.name)
    if rule.strategy is Strategy.TOPIC:
        return f"{topic}-{suffix}"
    name = record_name(schema_type, text, protos)
    if name is None:
        what = {
            SchemaType.JSON: "a `title`",
            SchemaType.PROTOBUF: "a message (in a file that compiles)",
        }.get(schema_type, "a top-level named record")
        raise ValueError(f"{rule.strategy} needs {what}, and this schema has none")
    return name if rule.strategy is Strategy.RECORD else f"{topic}-{name}"


def _matching_rule(config: CheckConfig, path: str) -> FileRule | None:
    explicit = next((r for r in config.rules if r.path is not None and r.matches(path)), None)
    return explicit or next(
        (r for r in config.rules if r.glob is not None and r.matches(path)), None
    )


def discover(source: FileSource, config: CheckConfig) -> Discovery:
    """Map every schema file of `source` to its subject, as `config` (or convention) says."""
    result = Discovery()
    all_paths = source.paths()
    chosen: dict[str, FileRule | None] = {}
    if config.conventions:
        chosen = {
            p: None
            for p in all_paths
            if p.endswith((*AVRO_SUFFIXES, ".schema.json", *PROTO_SUFFIXES))
        }
        plain_json = [p for p in all_paths if p.endswith(".json") and p not in chosen]
        for path, content in source.read(plain_json).items():
            if is_json_schema(content):
                chosen[path] = None
    else:
        for path in all_paths:
            rule = _matching_rule(config, path)
            if rule is not None:
                chosen[path] = rule
        present = set(all_paths)
        for rule in config.rules:
            if rule.path is not None and rule.path not in present:
                result.problems.append(
                    MappingProblem(
                        rule.path,
                        f"listed in {config.source} line {rule.line} but the file does not exist",
                        rule.subject,
                    )
                )
    contents = source.read(sorted(chosen))
    protos = _proto_texts(contents)
    for path in sorted(chosen):
        _add(result, path, chosen[path], contents.get(path), protos)
    _add_imported_references(result, protos)
    return result


def _proto_texts(contents: Mapping[str, bytes | None]) -> dict[str, str]:
    texts = {}
    for path, content in contents.items():
        if path.endswith(PROTO_SUFFIXES) and content is not None:
            try:
                texts[path] = content.decode("utf-8-sig")
            except UnicodeDecodeError:
                continue
    return texts


def _add_imported_references(result: Discovery, protos: Mapping[str, str]) -> None:
    """`.proto` files without configured references reference the tree files they import."""
    subjects = {item.path: subject for subject, item in result.files.items()}
    for subject, item in list(result.files.items()):
        if item.schema_type is SchemaType.PROTOBUF and not item.references:
            implied = imported_references(item.text, protos, subjects)
            result.files[subject] = replace(item, references=implied)


def _add(
    result: Discovery,
    path: str,
    rule: FileRule | None,
    content: bytes | None,
    protos: Mapping[str, str],
) -> None:
    if content is None:
        result.problems.append(MappingProblem(path, "the file cannot be read"))
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        result.problems.append(MappingProblem(path, "the file is not UTF-8 text"))
        return
    schema_type = (rule.schema_type if rule else None) or type_from_name(path)
    if schema_type is None:
        result.problems.append(
            MappingProblem(
                path, "cannot tell the schema type: add `type: AVRO|JSON|PROTOBUF` to its entry"
            )
        )
        return
    try:
        subject = _subject(rule, path, schema_type, text, protos) if rule else stem(path)
    except ValueError as exc:
        result.problems.append(MappingProblem(path, str(exc)))
        return
    if not subject or len(subject) > MAX_SUBJECT_LENGTH or not subject.isprintable():
        result.problems.append(MappingProblem(path, f"subject {subject!r} is not a valid name"))
        return
    if subject in result.files:
        other = result.files[subject].path
        result.problems.append(
            MappingProblem(
                path,
                f"subject {subject!r} is already held by {other}: one file per subject "
                "(give one of them another subject in streamgov.yaml)",
                subject,
            )
        )
        return
    result.files[subject] = SchemaFile(
        path=path,
        subject=subject,
        schema_type=schema_type,
        text=text,
        compatibility=rule.compatibility if rule else None,
        references=rule.references if rule else (),
    )
