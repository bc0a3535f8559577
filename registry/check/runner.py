"""The check itself: map files to subjects, parse them, compare them with the baseline."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry.check.baselines import (
    DEFAULT_LEVEL,
    Baseline,
    BaselineSubject,
    RegistryBaseline,
    TreeBaseline,
    open_baseline,
)
from registry.check.config import CONFIG_FILE, CheckConfig, CheckConfigError, parse_config
from registry.check.discovery import CONVENTIONS_NOTE, Discovery, SchemaFile, discover
from registry.check.git import GitRepo
from registry.check.pointers import line_of, split, translate
from registry.check.references import Referenced, UnresolvedReferenceError, resolve
from registry.check.results import CheckReport, Problem, Severity, Status, SubjectOutcome
from registry.check.sources import DirectorySource
from registry.compatibility import Incompatibility, VersionedSchema, check
from registry.formats import DEFAULT_LIMITS, Limits, ParsedSchema, SchemaError, parse_schema


@dataclass(frozen=True)
class CheckRequest:
    """What to check: the tree at `root`, against the `against` baseline (None: validate)."""

    root: Path
    against: str | None = None
    config_file: Path | None = None
    timeout: float = 10.0
    limits: Limits = DEFAULT_LIMITS
    env: Mapping[str, str] | None = None


def load_config(root: Path, config_file: Path | None = None) -> CheckConfig:
    """The check's configuration from `streamgov.yaml` (conventions when there is none)."""
    path = config_file or root / CONFIG_FILE
    if not path.is_file():
        if config_file is not None:
            raise CheckConfigError(f"configuration file {str(config_file)!r} does not exist")
        return CheckConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckConfigError(f"cannot read {path}: {exc}") from None
    shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    return parse_config(text, shown)


def run_check(request: CheckRequest) -> CheckReport:
    """Run the check. Raises `CheckConfigError` / `BaselineError` for usage problems."""
    root = request.root.resolve()
    config = load_config(root, request.config_file)
    repo = GitRepo.find(root)
    current = discover(DirectorySource(root, repo), config)
    baseline = (
        open_baseline(
            request.against, root, repo, config, request.limits, request.timeout, request.env
        )
        if request.against
        else None
    )
    report = CheckReport(against=baseline.description if baseline else None)
    if config.conventions:
        report.notes.append(CONVENTIONS_NOTE)
    try:
        _Run(request, config, current, baseline, report).run()
    finally:
        if isinstance(baseline, RegistryBaseline):
            baseline.close()
    return report


class _Run:
    """One check run; holds what the steps share."""

    def __init__(
        self,
        request: CheckRequest,
        config: CheckConfig,
        current: Discovery,
        baseline: Baseline | None,
        report: CheckReport,
    ) -> None:
        self.request = request
        self.config = config
        self.current = current
        self.baseline = baseline
        self.report = report

    def run(self) -> None:
        for problem in self.current.problems:
            self.report.problems.append(
                Problem(
                    kind=Status.INVALID,
                    subject=problem.subject,
                    file=problem.path,
                    message=problem.message,
                    fix="fix the file or its entry in streamgov.yaml",
                )
            )
        if not self.current.files and not self.current.problems:
            self.report.notes.append("no schema files found")
        parsed: dict[str, ParsedSchema] = {}
        for subject, item in sorted(self.current.files.items()):
            schema = self.parse(item)
            if schema is not None:
                parsed[subject] = schema
        if self.baseline is None:
            self.report.subjects.extend(
                SubjectOutcome(s, self.current.files[s].path, Status.VALID) for s in parsed
            )
            self.report.notes.append(
                "no baseline given: schemas were validated only; compare them with "
                "--against git:REF, --against registry:URL or --against DIR"
            )
            return
        wanted = {s: self.current.files[s].compatibility for s in parsed}
        earlier = self.baseline.fetch(wanted, self.config.compatibility or DEFAULT_LEVEL)
        if isinstance(self.baseline, TreeBaseline):
            self.report.notes.extend(self.baseline.notes)
        for subject, schema in parsed.items():
            self.compare(self.current.files[subject], schema, earlier.get(subject))
        self.deletions()
        self.report.subjects.sort(key=lambda outcome: outcome.subject)
        self.report.problems.sort(key=lambda p: (p.file or "", p.line or 0, p.subject or ""))

    def lookup(self, subject: str, version: int | None) -> Referenced | None:
        """References resolve to this tree's files first, then to the registry baseline."""
        item = self.current.files.get(subject)
        if item is not None:
            return Referenced(item.text, version or 1, item.references)
        if isinstance(self.baseline, RegistryBaseline):
            return self.baseline.lookup(subject, version)
        return None

    def invalid(self, item: SchemaFile, message: str, line: int | None = None) -> None:
        self.report.subjects.append(SubjectOutcome(item.subject, item.path, Status.INVALID))
        self.report.problems.append(
            Problem(
                kind=Status.INVALID,
                subject=item.subject,
                file=item.path,
                line=line,
                message=message,
                fix="make the schema valid (and its references resolvable) before comparing it",
            )
        )

    def parse(self, item: SchemaFile) -> ParsedSchema | None:
        size = len(item.text.encode("utf-8"))
        if size > self.request.limits.max_schema_bytes:
            limit = self.request.limits.max_schema_bytes
            self.invalid(item, f"the file is {size} bytes, over the limit of {limit} bytes")
            return None
        try:
            json.loads(item.text)
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            self.invalid(item, f"not valid JSON: {getattr(exc, 'msg', exc)}", line)
            return None
        try:
            refs = resolve(item.references, self.lookup, self.request.limits)
            return parse_schema(item.schema_type, item.text, refs, self.request.limits)
        except (SchemaError, UnresolvedReferenceError) as exc:
            path = getattr(exc, "path", "")
            self.invalid(item, str(exc), line_of(item.text, path) if path else None)
        return None

    def compare(
        self, item: SchemaFile, schema: ParsedSchema, earlier: BaselineSubject | None
    ) -> None:
        if earlier is None:
            self.report.subjects.append(SubjectOutcome(item.subject, item.path, Status.NEW))
            return
        level = earlier.level
        self.report.notes.extend(earlier.notes)
        latest = earlier.latest
        if latest.schema_type is item.schema_type and _same(
            (latest.text, *(r.schema for r in latest.references)),
            (item.text, *(r.schema for r in schema.references)),
        ):
            self.report.subjects.append(
                SubjectOutcome(item.subject, item.path, Status.UNCHANGED, level.value)
            )
            return
        versions: list[VersionedSchema] = []
        texts: dict[int, str] = {}
        labels: dict[int, str] = {}
        for version in earlier.versions:
            try:
                old = parse_schema(
                    version.schema_type, version.text, version.references, self.request.limits
                )
            except SchemaError as exc:
                self.report.notes.append(
                    f"{item.subject}: earlier {version.label} does not parse and was skipped "
                    f"({exc})"
                )
                continue
            versions.append(VersionedSchema(version.version, old))
            texts[version.version], labels[version.version] = version.text, version.label
        try:
            result = check(schema, versions, level)
        except ValueError as exc:
            self.invalid(item, str(exc))
            return
        status = Status.COMPATIBLE if result.compatible else Status.INCOMPATIBLE
        checked = len(versions) if level.transitive else min(1, len(versions))
        self.report.subjects.append(
            SubjectOutcome(item.subject, item.path, status, level.value, checked)
        )
        for found in result.incompatibilities:
            label = labels.get(found.version or -1, "the earlier version")
            message, fix = _split_fix(found, level.value, label)
            self.report.problems.append(
                Problem(
                    kind=Status.INCOMPATIBLE,
                    subject=item.subject,
                    file=item.path,
                    line=_line(found, item.text, texts.get(found.version or -1)),
                    message=message,
                    fix=fix,
                    rule=found.rule,
                    pointer=found.path or "/",
                    version=label,
                    direction=found.direction,
                    level=level.value,
                )
            )

    def deletions(self) -> None:
        assert self.baseline is not None
        held = self.baseline.subjects()
        if held is None:
            return
        mapped = set(self.current.files) | {p.subject for p in self.current.problems}
        for subject, path in sorted(held.items()):
            if subject in mapped:
                continue
            allowed = self.config.deletion_allowed(subject)
            self.report.subjects.append(SubjectOutcome(subject, path, Status.DELETED))
            self.report.problems.append(
                Problem(
                    kind=Status.DELETED,
                    subject=subject,
                    file=path,
                    severity=Severity.WARNING if allowed else Severity.ERROR,
                    message=(
                        f"subject {subject!r} ({path}) exists in {self.baseline.description} "
                        "but no file holds it any more"
                        + (" (allowed by schemas.allow_deleted)" if allowed else "")
                    ),
                    fix=(
                        "restore the file, map its new location to the same subject in "
                        "streamgov.yaml, or allow the deletion with "
                        f"`schemas: {{allow_deleted: [{subject}]}}`"
                    ),
                )
            )


def _same(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
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


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return None


def _line(found: Incompatibility, new_text: str, old_text: str | None) -> int:
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


def _split_fix(found: Incompatibility, level: str, label: str) -> tuple[str, str]:
    """The finding's message split into what is wrong and how to fix it.

    Compatibility messages end with the remedy after their last `; `.
    """
    problem, sep, remedy = found.message.rpartition("; ")
    if not sep:
        problem = found.message
        if found.direction == "forward":
            remedy = f"readers on {label} must be able to read data written with this schema"
        else:
            remedy = f"this schema must be able to read data written with {label}"
    return problem, (
        f"{remedy} (needed at {level}); or, if the break is intended, publish the new shape "
        "under a new subject"
    )
