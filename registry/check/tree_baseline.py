"""Earlier schemas from a tree of files: a git commit (with its history) or a directory.

Files are mapped to subjects with the configuration found in that tree, so a file that moved
but kept its subject is compared with its own earlier versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from registry.check.baselines import BaselineError, BaselineSubject, BaselineVersion
from registry.check.config import (
    CONFIG_FILE,
    CheckConfig,
    CheckConfigError,
    ReferenceSpec,
    parse_config,
)
from registry.check.discovery import Discovery, SchemaFile, discover
from registry.check.git import GitError, GitRepo
from registry.check.references import Lookup, Referenced, UnresolvedReferenceError, resolve
from registry.check.sources import DirectorySource, FileSource, GitTreeSource
from registry.compatibility import CompatibilityLevel
from registry.formats import DEFAULT_LIMITS, Limits


def _tree_config(source: FileSource, fallback: CheckConfig) -> tuple[CheckConfig, list[str]]:
    """The tree's own `streamgov.yaml` mapping, else the current one."""
    content = source.read([CONFIG_FILE]).get(CONFIG_FILE)
    if content is None:
        return fallback, []
    try:
        config = parse_config(
            content.decode("utf-8", "replace"), f"{source.description}:{CONFIG_FILE}"
        )
    except CheckConfigError as exc:
        return fallback, [f"baseline configuration ignored, using the current one: {exc}"]
    return (config if not config.conventions or fallback.conventions else fallback), []


@dataclass
class TreeBaseline:
    """Earlier schemas from a tree of files: a directory, or a git commit with its history."""

    source: FileSource
    config: CheckConfig
    limits: Limits = DEFAULT_LIMITS
    repo: GitRepo | None = None
    commit: str | None = None
    ref: str | None = None
    notes: list[str] = field(default_factory=list)
    _discovery: Discovery | None = None

    @property
    def description(self) -> str:
        """`git:REF` or the directory."""
        return self.source.description

    @property
    def discovery(self) -> Discovery:
        """The tree's schema files by subject, mapped once."""
        if self._discovery is None:
            config, notes = _tree_config(self.source, self.config)
            self.notes.extend(notes)
            self._discovery = discover(self.source, config)
        return self._discovery

    def subjects(self) -> Mapping[str, str | None]:
        """Every subject in the tree, with its file."""
        return {subject: item.path for subject, item in self.discovery.files.items()}

    def fetch(
        self, wanted: Mapping[str, CompatibilityLevel | None], default: CompatibilityLevel
    ) -> dict[str, BaselineSubject]:
        """The tree's version of each wanted subject, plus git history for transitive levels."""
        files = self.discovery.files
        present = {subject: files[subject] for subject in wanted if subject in files}
        levels = {subject: wanted[subject] or default for subject in present}
        histories = self._histories(
            [item.path for subject, item in present.items() if levels[subject].transitive]
        )
        # The commit as well as the ref: a moving branch name alone does not say what was read.
        commit, ref = self.commit, self.ref
        named_ref = bool(commit and ref and not commit.startswith(ref))
        here = f"commit {commit[:10]} ({ref})" if commit and named_ref else ref or self.description
        out: dict[str, BaselineSubject] = {}
        for item in present.values():
            entries = list(histories.get(item.path, []))
            if entries and entries[-1].text == item.text:
                # The last commit that changed the file is what REF holds: one flat label.
                last = entries[-1]
                label = last.label
                if named_ref:
                    same = last.commit == commit
                    label = f"{label} ({ref})" if same else f"{label} (unchanged at {ref})"
                entries[-1] = _Entry(label, item.text)
            else:
                # No history asked for, or the version at REF came from a merge commit.
                entries.append(_Entry(here, item.text))
            histories[item.path] = entries
        referenced = self._referenced_texts(present, histories)
        for subject, item in present.items():
            notes: list[str] = []
            versions: list[BaselineVersion] = []
            for number, entry in enumerate(histories[item.path], start=1):
                try:
                    refs = resolve(item.references, self._lookup(entry, referenced), self.limits)
                except UnresolvedReferenceError as exc:
                    notes.append(f"{self.description}: {entry.label}: {exc}")
                    refs = ()
                versions.append(
                    BaselineVersion(number, entry.label, item.schema_type, entry.text, refs)
                )
            out[subject] = BaselineSubject(
                subject, levels[subject], tuple(versions), item.path, tuple(notes)
            )
        return out

    def _lookup(self, entry: _Entry, referenced: Mapping[tuple[str, str], str]) -> Lookup:
        """References of a version resolve to the referenced files as of the same commit."""
        files = self.discovery.files

        def lookup(subject: str, version: int | None) -> Referenced | None:
            item: SchemaFile | None = files.get(subject)
            if item is None:
                return None
            text = referenced.get((entry.commit, subject), item.text) if entry.commit else item.text
            return Referenced(text, version or 1, item.references)

        return lookup

    def _referenced_texts(
        self, present: Mapping[str, SchemaFile], histories: Mapping[str, list[_Entry]]
    ) -> dict[tuple[str, str], str]:
        """(commit, subject) -> text of each referenced file at each historical commit."""
        if self.repo is None:
            return {}
        prefix = self.source.prefix if isinstance(self.source, GitTreeSource) else ""
        files = self.discovery.files
        names: dict[str, tuple[str, str]] = {}
        for item in present.values():
            commits = [e.commit for e in histories.get(item.path, []) if e.commit is not None]
            if not item.references or not commits:
                continue
            for subject in _closure(item.references, files, self.limits.max_references):
                for commit in commits:
                    names[f"{commit}:{prefix}{files[subject].path}"] = (commit, subject)
        blobs = self.repo.read_blobs(names)
        return {
            key: blobs[name].decode("utf-8-sig", "replace")
            for name, key in names.items()
            if name in blobs
        }

    def _histories(self, paths: list[str]) -> dict[str, list[_Entry]]:
        if self.repo is None or self.commit is None or not paths:
            return {}
        prefix = self.source.prefix if isinstance(self.source, GitTreeSource) else ""
        histories = self.repo.histories(
            self.commit, [prefix + path for path in paths], self.config.history
        )
        blobs = self.repo.read_blobs(v.blob for versions in histories.values() for v in versions)
        out: dict[str, list[_Entry]] = {}
        for full_path, versions in histories.items():
            entries: list[_Entry] = []
            for version in versions:
                if version.blob not in blobs:
                    continue
                where = f" as {version.path}" if version.path != full_path else ""
                text = blobs[version.blob].decode("utf-8-sig", "replace")
                entries.append(_Entry(f"commit {version.commit[:10]}{where}", text, version.commit))
            out[full_path[len(prefix) :]] = entries
        return out


@dataclass(frozen=True, slots=True)
class _Entry:
    """One version read from a tree: `commit` is None for the version at the baseline itself."""

    label: str
    text: str
    commit: str | None = None


def _closure(
    specs: Sequence[ReferenceSpec], files: Mapping[str, SchemaFile], limit: int
) -> list[str]:
    """Every subject reachable through references (that the tree holds), at most `limit`."""
    seen: dict[str, None] = {}
    pending = [spec.subject for spec in specs]
    while pending and len(seen) < limit:
        subject = pending.pop()
        if subject in seen or subject not in files:
            continue
        seen[subject] = None
        pending.extend(spec.subject for spec in files[subject].references)
    return list(seen)


def git_baseline(
    repo: GitRepo | None, ref: str, root: Path, config: CheckConfig, limits: Limits
) -> TreeBaseline:
    """The files at `ref` under `root`, read from git objects; the working tree is untouched."""
    if repo is None:
        raise BaselineError(f"--against git:{ref} needs a git repository, and this is not one")
    try:
        commit = repo.resolve(ref)
    except GitError as exc:
        raise BaselineError(str(exc)) from None
    inside = root.resolve().relative_to(repo.root.resolve()).as_posix()
    prefix = "" if inside == "." else f"{inside}/"
    source = GitTreeSource(repo, commit, ref, prefix)
    return TreeBaseline(source, config, limits, repo, commit, ref)


def directory_baseline(path: Path, config: CheckConfig, limits: Limits) -> TreeBaseline:
    """The files under a directory of earlier schemas."""
    if not path.is_dir():
        raise BaselineError(f"baseline directory {str(path)!r} does not exist")
    return TreeBaseline(DirectorySource(path), config, limits, ref=str(path))
