"""The `schemas:` section of `streamgov.yaml`: which files hold which subjects, at which level.

```yaml
schemas:
  compatibility: BACKWARD          # default level for git and directory baselines
  allow_deleted: [legacy-value]    # subjects (globs) that may disappear; `true` for all
  owned_subjects: ["orders-*"]     # registry subjects this repository owns (deletions)
  history: 20                      # versions read from git history for *_TRANSITIVE levels
  files:
    - path: schemas/orders.avsc    # an explicit entry
      subject: orders-value
      compatibility: FULL_TRANSITIVE
      references:
        - {name: com.acme.Money, subject: money-value}
    - glob: "events/**/*.avsc"      # a glob with a subject naming strategy
      strategy: TopicNameStrategy   # <topic>-value, topic from the file name
```

Other top-level keys of the file belong to other parts of the suite and are ignored; unknown
keys inside `schemas:` are errors naming the key, the file and the line.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from registry.check.yamlfile import ConfigFileError, LineMap, load
from registry.compatibility import CompatibilityLevel
from registry.formats import SchemaType

CONFIG_FILE = "streamgov.yaml"
SECTION = "schemas"
DEFAULT_HISTORY = 20
MAX_HISTORY = 1_000
MAX_CONFIG_BYTES = 1_048_576


class CheckConfigError(ConfigFileError):
    """`streamgov.yaml` is not valid; the message names the file, line and key."""


class Strategy(StrEnum):
    """Confluent's subject naming strategies."""

    TOPIC = "TopicNameStrategy"
    RECORD = "RecordNameStrategy"
    TOPIC_RECORD = "TopicRecordNameStrategy"

    @classmethod
    def parse(cls, value: str) -> Strategy:
        """Accept the Confluent class name (optionally package-qualified) or a short alias."""
        key = value.rsplit(".", 1)[-1].strip().lower().replace("_", "").replace("-", "")
        for strategy in cls:
            if key in {strategy.value.lower(), strategy.value.lower().removesuffix("namestrategy")}:
                return strategy
        raise ValueError(
            f"unknown naming strategy {value!r}: expected TopicNameStrategy, "
            "RecordNameStrategy or TopicRecordNameStrategy"
        )


@dataclass(frozen=True, slots=True)
class ReferenceSpec:
    """A reference a schema makes: the `name` it uses for a type of another subject.

    `version` pins a registered version (registry baselines); without it the subject's file
    in the same tree is used, or its latest registered version.
    """

    name: str
    subject: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class FileRule:
    """One entry of `schemas.files`: an explicit `path` or a `glob`, and how to name subjects."""

    line: int
    path: str | None = None
    glob: str | None = None
    subject: str | None = None
    strategy: Strategy | None = None
    topic: str = "{stem}"
    key: bool = False
    schema_type: SchemaType | None = None
    compatibility: CompatibilityLevel | None = None
    references: tuple[ReferenceSpec, ...] = ()

    def matches(self, path: str) -> bool:
        """Whether this entry covers the file at `path` (relative, `/`-separated)."""
        if self.path is not None:
            return self.path == path
        return self.glob is not None and _compiled(self.glob).fullmatch(path) is not None


@dataclass(frozen=True, slots=True)
class CheckConfig:
    """The check's configuration; `source` is None when there is no `schemas:` section."""

    source: str | None = None
    rules: tuple[FileRule, ...] = ()
    compatibility: CompatibilityLevel | None = None
    allow_deleted: tuple[str, ...] = ()
    owned_subjects: tuple[str, ...] = ()
    history: int = DEFAULT_HISTORY

    @property
    def conventions(self) -> bool:
        """True when no files are listed, so schema files are found by convention."""
        return not self.rules

    def deletion_allowed(self, subject: str) -> bool:
        """Whether `subject` may disappear without failing the check."""
        return any(_compiled(pattern).fullmatch(subject) for pattern in self.allow_deleted)

    def owns(self, subject: str) -> bool:
        """Whether a registry subject belongs to this repository (`owned_subjects`)."""
        return any(_compiled(pattern).fullmatch(subject) for pattern in self.owned_subjects)


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(glob_to_regex(pattern))


def glob_to_regex(pattern: str) -> str:
    """Translate a path glob to a regex: `**` spans directories, `*` and `?` do not."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                out.append(f"[{'^' if negate else ''}{body.replace(chr(92), chr(92) * 2)}]")
                i = end
        else:
            out.append(re.escape(char))
        i += 1
    return "".join(out)


def _normalize(path: str) -> str:
    return str(PurePosixPath(path.replace("\\", "/"))).removeprefix("./")


def parse_config(text: str, source: str = CONFIG_FILE) -> CheckConfig:
    """Read the `schemas:` section of a `streamgov.yaml` text; conventions when it has none."""
    try:
        document = load(text, source, MAX_CONFIG_BYTES)
    except ConfigFileError as exc:
        raise CheckConfigError(str(exc)) from None
    section = document.get(SECTION)
    if section is None:
        return CheckConfig()
    reader = _Reader(source)
    return reader.config(reader.mapping(section, SECTION, document.key_lines.get(SECTION, 1)))


_SECTION_KEYS = ("compatibility", "allow_deleted", "owned_subjects", "history", "files")
_RULE_KEYS = (
    "path",
    "glob",
    "subject",
    "strategy",
    "topic",
    "key",
    "type",
    "compatibility",
    "references",
)
_REFERENCE_KEYS = ("name", "subject", "version")


@dataclass(frozen=True, slots=True)
class _Reader:
    """Validates the section piece by piece, raising errors that point at file and line."""

    source: str

    def fail(self, line: int, message: str) -> CheckConfigError:
        return CheckConfigError(f"{self.source}:{line}: {message}")

    def mapping(self, value: Any, where: str, line: int) -> LineMap:
        if not isinstance(value, LineMap):
            raise self.fail(line, f"{where} must be a mapping")
        return value

    def keys(self, value: LineMap, allowed: tuple[str, ...], where: str) -> None:
        for key in value:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise self.fail(
                    value.key_lines.get(str(key), value.line),
                    f"unknown key {key!r} in {where}{hint}; allowed: {', '.join(allowed)}",
                )

    def string(self, value: LineMap, key: str, where: str) -> str | None:
        item = value.get(key)
        if item is None:
            return None
        if not isinstance(item, str | int) or isinstance(item, bool) or str(item).strip() == "":
            raise self.fail(value.key_lines.get(key, value.line), f"{where}.{key} must be text")
        return str(item)

    def level(self, value: LineMap, where: str) -> CompatibilityLevel | None:
        text = self.string(value, "compatibility", where)
        if text is None:
            return None
        try:
            return CompatibilityLevel.parse(text)
        except ValueError as exc:
            raise self.fail(value.key_lines.get("compatibility", value.line), str(exc)) from None

    def config(self, section: LineMap) -> CheckConfig:
        self.keys(section, _SECTION_KEYS, SECTION)
        history = section.get("history", DEFAULT_HISTORY)
        if not isinstance(history, int) or isinstance(history, bool):
            history = -1
        if not 1 <= history <= MAX_HISTORY:
            raise self.fail(
                section.key_lines.get("history", section.line),
                f"{SECTION}.history must be a whole number from 1 to {MAX_HISTORY}",
            )
        files = section.get("files") or []
        if not isinstance(files, list):
            raise self.fail(section.key_lines.get("files", section.line), "files must be a list")
        return CheckConfig(
            source=self.source,
            rules=tuple(
                self.rule(item, f"{SECTION}.files[{index}]", section.key_lines.get("files", 1))
                for index, item in enumerate(files)
            ),
            compatibility=self.level(section, SECTION),
            allow_deleted=self.subject_globs(section, "allow_deleted"),
            owned_subjects=self.subject_globs(section, "owned_subjects"),
            history=history,
        )

    def subject_globs(self, section: LineMap, key: str) -> tuple[str, ...]:
        value = section.get(key, False)
        if value is True:
            return ("*",)
        if value is False or value is None:
            return ()
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise self.fail(
            section.key_lines.get(key, section.line),
            f"{key} must be true, false or a list of subjects (globs allowed)",
        )

    def rule(self, value: Any, where: str, line: int) -> FileRule:
        item = self.mapping(value, where, line)
        self.keys(item, _RULE_KEYS, where)
        path, glob = self.string(item, "path", where), self.string(item, "glob", where)
        if (path is None) == (glob is None):
            raise self.fail(item.line, f"{where} needs exactly one of 'path' or 'glob'")
        subject = self.string(item, "subject", where)
        strategy_text = self.string(item, "strategy", where)
        if subject is not None and strategy_text is not None:
            raise self.fail(item.line, f"{where} has both 'subject' and 'strategy': pick one")
        if glob is not None and subject is not None:
            raise self.fail(
                item.key_lines.get("subject", item.line),
                f"{where}: a glob matches many files, so it needs a 'strategy', not a 'subject'",
            )
        strategy: Strategy | None = None
        if strategy_text is not None:
            try:
                strategy = Strategy.parse(strategy_text)
            except ValueError as exc:
                raise self.fail(item.key_lines.get("strategy", item.line), str(exc)) from None
        elif subject is None:
            strategy = Strategy.TOPIC
        key = item.get("key", False)
        if not isinstance(key, bool):
            raise self.fail(item.key_lines.get("key", item.line), f"{where}.key must be true/false")
        topic = self.string(item, "topic", where) or "{stem}"
        try:
            topic.format(stem="", parent="")
        except (KeyError, IndexError, ValueError):
            raise self.fail(
                item.key_lines.get("topic", item.line),
                f"{where}.topic may only use the placeholders {{stem}} and {{parent}}",
            ) from None
        type_text = self.string(item, "type", where)
        try:
            schema_type = SchemaType.parse(type_text) if type_text is not None else None
        except ValueError as exc:
            raise self.fail(item.key_lines.get("type", item.line), str(exc)) from None
        return FileRule(
            line=item.line,
            path=_normalize(path) if path is not None else None,
            glob=_normalize(glob) if glob is not None else None,
            subject=subject,
            strategy=strategy,
            topic=topic,
            key=key,
            schema_type=schema_type,
            compatibility=self.level(item, where),
            references=self.references(item, where),
        )

    def references(self, item: LineMap, where: str) -> tuple[ReferenceSpec, ...]:
        value = item.get("references") or []
        line = item.key_lines.get("references", item.line)
        if not isinstance(value, list):
            raise self.fail(line, f"{where}.references must be a list")
        specs: list[ReferenceSpec] = []
        for index, raw in enumerate(value):
            ref_where = f"{where}.references[{index}]"
            ref = self.mapping(raw, ref_where, line)
            self.keys(ref, _REFERENCE_KEYS, ref_where)
            name = self.string(ref, "name", ref_where)
            subject = self.string(ref, "subject", ref_where)
            if name is None or subject is None:
                raise self.fail(ref.line, f"{ref_where} needs 'name' and 'subject'")
            version = ref.get("version")
            if version == "latest":
                version = None
            if version is not None and (not isinstance(version, int) or version < 1):
                raise self.fail(
                    ref.key_lines.get("version", ref.line),
                    f"{ref_where}.version must be a positive whole number or 'latest'",
                )
            specs.append(ReferenceSpec(name=name, subject=subject, version=version))
        return tuple(specs)
