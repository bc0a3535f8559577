"""The verdict on one subject: parse its schema and compare it with its earlier versions.

Pure: plain data in, plain data out, so subjects can be judged in parallel processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from registry.check.baselines import BaselineSubject, BaselineVersion
from registry.check.discovery import SchemaFile
from registry.check.pointers import line_of, load_json, split, translate
from registry.check.protos import finding_line as proto_finding_line
from registry.check.results import CheckStatus, Problem, SubjectOutcome, join_labels
from registry.compatibility import CompatibilityLevel, Incompatibility, VersionedSchema, check
from registry.formats import (
    DEFAULT_LIMITS,
    Limits,
    ParsedSchema,
    ResolvedReference,
    SchemaError,
    SchemaType,
    parse_schema,
)
from registry.formats.protobuf.compiler import ProtoCompileError

INVALID_FIX = "make the schema valid (and its references resolvable) before comparing it"


@dataclass(frozen=True, slots=True)
class Case:
    """One subject to judge: its file, resolved references, and the baseline's versions.

    `compare` is False when no baseline was given (validate only); `earlier` is None when
    the baseline does not hold the subject (a new subject). `reference_files` maps the name
    of each reference held by a file of the tree to that file, so findings inside a
    referenced schema point at the file that defines it.
    """

    item: SchemaFile
    references: tuple[ResolvedReference, ...] = ()
    earlier: BaselineSubject | None = None
    compare: bool = True
    reference_files: tuple[tuple[str, str], ...] = ()


@dataclass
class Judgement:
    """What judging one subject found."""

    outcome: SubjectOutcome
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def invalid(item: SchemaFile, message: str, line: int | None = None) -> Judgement:
    """The verdict for a schema that cannot be compared."""
    return Judgement(
        SubjectOutcome(item.subject, item.path, CheckStatus.INVALID),
        [
            Problem(
                kind=CheckStatus.INVALID,
                subject=item.subject,
                file=item.path,
                line=line,
                message=message,
                fix=INVALID_FIX,
            )
        ],
    )


def _parse(case: Case, limits: Limits) -> ParsedSchema | Judgement:
    item = case.item
    size = len(item.text.encode("utf-8"))
    if size > limits.max_schema_bytes:
        return invalid(
            item, f"the file is {size} bytes, over the limit of {limits.max_schema_bytes} bytes"
        )
    if item.schema_type is not SchemaType.PROTOBUF:
        try:
            load_json(item.text)
        except ValueError as exc:
            return invalid(
                item, f"not valid JSON: {getattr(exc, 'msg', exc)}", getattr(exc, "lineno", None)
            )
    try:
        return parse_schema(item.schema_type, item.text, case.references, limits)
    except ProtoCompileError as exc:  # protoc names the line itself, in the file or a reference
        files = dict(case.reference_files)
        verdict = invalid(item, str(exc), exc.line)
        if exc.origin is not None:
            verdict.problems[0] = replace(
                verdict.problems[0], file=files.get(exc.origin, item.path)
            )
        return verdict
    except SchemaError as exc:
        verdict = invalid(item, str(exc), line_of(item.text, exc.path) if exc.path else None)
        if exc.origin is not None:
            where = _Where.of(case, exc.origin, exc.path, None)
            verdict.problems[0] = replace(verdict.problems[0], file=where.file, line=where.line)
        return verdict


def judge(case: Case, limits: Limits = DEFAULT_LIMITS) -> Judgement:
    """Parse the subject's schema and, when there is a baseline, compare it at its level."""
    item, earlier = case.item, case.earlier
    schema = _parse(case, limits)
    if isinstance(schema, Judgement):
        return schema
    if not case.compare:
        return Judgement(SubjectOutcome(item.subject, item.path, CheckStatus.VALID))
    if earlier is None:
        return Judgement(SubjectOutcome(item.subject, item.path, CheckStatus.NEW))
    level = earlier.level
    notes = list(earlier.notes)
    latest = earlier.latest
    # Each earlier version is parsed once: the latest may be needed to tell an unchanged
    # schema, and then again for the comparison.
    parsed: dict[int, ParsedSchema | SchemaError] = {}
    if latest.schema_type is item.schema_type:
        unchanged = same_schema(
            (latest.text, *(r.schema for r in latest.references)),
            (item.text, *(r.schema for r in case.references)),
        )
        if not unchanged:
            parsed[latest.version] = _parse_version(latest, limits)
            unchanged = _same_canonical_string(schema, case, latest, parsed[latest.version], limits)
        if unchanged:
            outcome = SubjectOutcome(item.subject, item.path, CheckStatus.UNCHANGED, level.value)
            return Judgement(outcome, notes=notes)
    versions: list[VersionedSchema] = []
    texts: dict[int, str] = {}
    labels: dict[int, str] = {}
    for version in earlier.versions:
        old = parsed.get(version.version)
        if old is None:
            old = _parse_version(version, limits)
        if isinstance(old, SchemaError):
            notes.append(
                f"{item.subject}: earlier {version.label} does not parse and was skipped ({old})"
            )
            continue
        versions.append(VersionedSchema(version.version, old))
        texts[version.version], labels[version.version] = version.text, version.label
    if not versions:
        return Judgement(SubjectOutcome(item.subject, item.path, CheckStatus.NEW), notes=notes)
    try:
        result = check(schema, versions, level)
    except ValueError as exc:
        return invalid(item, str(exc))
    status = CheckStatus.COMPATIBLE if result.compatible else CheckStatus.INCOMPATIBLE
    if level is CompatibilityLevel.NONE:
        checked = 0
    else:
        checked = len(versions) if level.transitive else min(1, len(versions))
    verdict = Judgement(
        SubjectOutcome(item.subject, item.path, status, level.value, checked), notes=notes
    )
    # One problem per distinct finding, listing every version it breaks against (newest first).
    grouped: dict[
        tuple[object, ...], tuple[Incompatibility, str | None, int | None, list[str]]
    ] = {}
    for found in result.incompatibilities:
        label = labels.get(found.version or -1, "the earlier version")
        if item.schema_type is SchemaType.PROTOBUF:
            file: str | None = item.path
            refs = [(r.name, r.schema) for r in case.references]
            line: int | None = proto_finding_line(item.text, refs, found.path)
        elif found.origin is None:
            file = item.path
            line = finding_line(found, item.text, texts.get(found.version or -1))
        else:
            was = next((v for v in earlier.versions if v.version == found.version), None)
            where = _Where.of(case, found.origin, found.path, was, found)
            file, line = where.file, where.line
        key = (found.direction, found.rule, found.path, found.origin, found.message, file, line)
        grouped.setdefault(key, (found, file, line, []))[3].append(label)
    for found, file, line, against in grouped.values():
        message, fix = split_fix(found, level.value, join_labels(against))
        verdict.problems.append(
            Problem(
                kind=CheckStatus.INCOMPATIBLE,
                subject=item.subject,
                file=file,
                line=line,
                message=message,
                fix=fix,
                rule=found.rule,
                pointer=found.path or "/",
                version=against[0],
                direction=found.direction,
                level=level.value,
                versions=tuple(against),
            )
        )
    return verdict


@dataclass(frozen=True, slots=True)
class _Where:
    """The file and line of a place inside a referenced schema."""

    file: str | None
    line: int | None

    @classmethod
    def of(
        cls,
        case: Case,
        name: str,
        pointer: str,
        old: BaselineVersion | None,
        found: Incompatibility | None = None,
    ) -> _Where:
        """Where `pointer` into reference `name` is: its file when the tree holds it, else
        the referencing file without a line (its text lives in the registry)."""
        files = dict(case.reference_files)
        text = next((r.schema for r in case.references if r.name == name), None)
        if name not in files or text is None:
            return cls(case.item.path, None)
        if found is None:
            return cls(files[name], line_of(text, pointer))
        old_text = next((r.schema for r in old.references if r.name == name), None) if old else None
        return cls(files[name], finding_line(found, text, old_text))


def same_schema(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    """Whether two schemas (with their references) are the same JSON, however formatted."""
    if old == new:
        return True
    if len(old) != len(new):
        return False
    for before, after in zip(old, new, strict=True):
        document = _json(after)
        if document is None or _json(before) != document:
            return False
    return True


def _parse_version(version: BaselineVersion, limits: Limits) -> ParsedSchema | SchemaError:
    """An earlier version parsed, or why it does not parse."""
    try:
        return parse_schema(version.schema_type, version.text, version.references, limits)
    except SchemaError as exc:
        return exc


def _same_canonical_string(
    schema: ParsedSchema,
    case: Case,
    latest: BaselineVersion,
    old: ParsedSchema | SchemaError,
    limits: Limits,
) -> bool:
    """Whether the latest earlier version (`old`, parsed) differs from `schema` only in spelling.

    A registry hands back Confluent's canonical string (Avro names written relative to their
    namespace, attributes in Avro's order), so a file registered as it is rarely matches it
    as JSON. References are compared one by one, each parsed with the ones before it.
    """
    references = case.references
    if isinstance(old, SchemaError) or len(references) != len(latest.references):
        return False
    kind = schema.schema_type
    try:
        if old.canonical_string() != schema.canonical_string():
            return False
        for index, (before, after) in enumerate(zip(latest.references, references, strict=True)):
            if before.name != after.name:
                return False
            was = parse_schema(kind, before.schema, latest.references[:index], limits)
            now = parse_schema(kind, after.schema, references[:index], limits)
            if was.canonical_string() != now.canonical_string():
                return False
    except (ValueError, TypeError, KeyError):  # SchemaError included: not the same, then
        return False
    return True


def _json(text: str | None) -> Any:
    try:
        return load_json(text) if text is not None else None
    except ValueError:
        return None


def finding_line(found: Incompatibility, new_text: str, old_text: str | None) -> int:
    """The line in the new file a finding is about (forward findings point into the old)."""
    pointer = found.path
    if found.direction == "forward" and old_text is not None:
        new_doc = _json(new_text)
        carried = translate(pointer, _json(old_text), new_doc)
        # A pointer the old schema does not fully hold may still name a place in the new one.
        if len(split(carried)) < len(split(pointer)) and _exists(new_doc, split(pointer)):
            carried = pointer
        pointer = carried
    return line_of(new_text, pointer)


def _exists(doc: Any, tokens: list[str]) -> bool:
    for token in tokens:
        if isinstance(doc, dict) and token in doc:
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            doc = doc[int(token)]
        else:
            return False
    return True


def _split_remedy(message: str) -> tuple[str, str]:
    """`message` cut at its last `; ` outside parentheses and backticks (the remedy may hold
    an aside with its own `; `)."""
    depth, quoted, cut = 0, False, -1
    for index, char in enumerate(message):
        if char == "`":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        elif char == ";" and depth == 0 and message.startswith("; ", index):
            cut = index
    if cut < 0:
        return message, ""
    return message[:cut], message[cut + 2 :]


def split_fix(found: Incompatibility, level: str, label: str) -> tuple[str, str]:
    """The finding's message split into what is wrong and how to fix it.

    Compatibility messages end with the remedy after their last `; `, phrased for the
    reader's schema. For forward findings the reader is the earlier version, which cannot be
    changed any more, so the fix says what the new schema must keep instead.
    """
    problem, remedy = _split_remedy(found.message)
    tail = f" (needed at {level}); or, if the break is intended, publish it under a new subject"
    if found.direction == "forward":
        problem = f"readers still on {label} cannot read data written with this schema: {problem}"
        hint = f" (for them the remedy would be: {remedy})" if remedy else ""
        return problem, f"keep writing what readers on {label} can read{hint}{tail}"
    return problem, (remedy or f"make this schema read data written with {label}") + tail
