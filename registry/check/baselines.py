"""What a schema change is checked against: a git ref, a directory, or a running registry.

Each baseline answers, for the subjects the working tree holds, their earlier versions
(oldest first) and the level to check at. Tree baselines (git, directory) map files to
subjects with the configuration found in that tree, so a renamed file keeps its subject.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

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
from registry.formats import DEFAULT_LIMITS, Limits, ResolvedReference, SchemaType

DEFAULT_LEVEL = CompatibilityLevel.BACKWARD
MAX_RESPONSE_BYTES = 16 * 1_048_576
REGISTRY_WORKERS = 8


class BaselineError(Exception):
    """The baseline cannot be read (unknown ref, unreachable registry); one clear line."""


@dataclass(frozen=True, slots=True)
class BaselineVersion:
    """One earlier version of a subject."""

    version: int
    label: str
    schema_type: SchemaType
    text: str
    references: tuple[ResolvedReference, ...] = ()


@dataclass(frozen=True, slots=True)
class BaselineSubject:
    """A subject as the baseline knows it: its versions (oldest first) and the level."""

    subject: str
    level: CompatibilityLevel
    versions: tuple[BaselineVersion, ...]
    path: str | None = None
    notes: tuple[str, ...] = ()

    @property
    def latest(self) -> BaselineVersion:
        """The newest version."""
        return self.versions[-1]


class Baseline(Protocol):
    """A source of earlier versions."""

    @property
    def description(self) -> str:
        """What the baseline is, for reports (`git:REF`, `registry:URL`, a directory)."""
        ...

    def subjects(self) -> Mapping[str, str | None] | None:
        """Every subject the baseline holds, with its file; None when it cannot tell."""
        ...

    def fetch(
        self, wanted: Mapping[str, CompatibilityLevel | None], default: CompatibilityLevel
    ) -> dict[str, BaselineSubject]:
        """Earlier versions of the `wanted` subjects (subject -> level override) it has.

        `default` is the level when neither the entry nor the baseline sets one.
        """
        ...


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
        here = self.ref or self.description
        out: dict[str, BaselineSubject] = {}
        for item in present.values():
            entries = list(histories.get(item.path, []))
            if entries and entries[-1].text == item.text:
                entries[-1] = _Entry(f"{entries[-1].label} ({here})", item.text)
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


# --- registry -------------------------------------------------------------------------------


def redact(url: str) -> str:
    """The URL without user information, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def registry_auth(env: Mapping[str, str]) -> httpx.Auth | None:
    """Credentials from the environment: a bearer token, or basic auth in either spelling."""
    token = env.get("STREAMGOV_REGISTRY_TOKEN")
    if token:
        return _Bearer(token)
    user_info = env.get("STREAMGOV_REGISTRY_BASIC_AUTH_USER_INFO")
    if user_info:
        user, _, password = user_info.partition(":")
        return httpx.BasicAuth(user, password)
    name = env.get("STREAMGOV_REGISTRY_USER")
    if name:
        return httpx.BasicAuth(name, env.get("STREAMGOV_REGISTRY_PASSWORD", ""))
    return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_Bearer(<redacted>)"


class RegistryBaseline:
    """Registered versions from any Confluent-compatible registry, over plain REST."""

    def __init__(
        self,
        url: str,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        limits: Limits = DEFAULT_LIMITS,
        owns: Callable[[str], bool] | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise BaselineError(f"registry URL {redact(url)!r} must be http(s)://host[:port]")
        if auth is None and parts.username:
            auth = httpx.BasicAuth(parts.username, parts.password or "")
        self.base = redact(url).rstrip("/")
        self.description = f"registry:{self.base}"
        self.limits = limits
        self.owns = owns
        self._client = httpx.Client(
            base_url=self.base,
            auth=auth,
            timeout=timeout,
            headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
            follow_redirects=False,
        )
        self._versions: dict[tuple[str, int], dict[str, Any]] = {}

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def subjects(self) -> Mapping[str, str | None] | None:
        """The registered subjects this repository owns (`schemas.owned_subjects`).

        A registry holds other repositories' subjects too, so without that setting
        deletions are not judged (None).
        """
        if self.owns is None:
            return None
        names = self._get("/subjects")
        if not isinstance(names, list):
            raise BaselineError(f"the registry at {self.base} sent a malformed subject list")
        return {name: None for name in names if isinstance(name, str) and self.owns(name)}

    def fetch(
        self, wanted: Mapping[str, CompatibilityLevel | None], default: CompatibilityLevel
    ) -> dict[str, BaselineSubject]:
        """Each wanted subject's registered versions, at its configured or overridden level."""
        with ThreadPoolExecutor(REGISTRY_WORKERS) as pool:
            found = pool.map(lambda item: self._subject(item[0], item[1], default), wanted.items())
            return {item.subject: item for item in found if item is not None}

    def _get(self, path: str) -> Any | None:
        """GET a path; None for 404; `BaselineError` for anything else that is not 200."""
        try:
            response = self._client.get(path)
        except httpx.HTTPError as exc:
            raise BaselineError(
                f"cannot reach the registry at {self.base}: {type(exc).__name__}"
                f"{': ' + str(exc) if str(exc) else ''}"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code in {401, 403}:
            raise BaselineError(
                f"the registry at {self.base} refused access (HTTP {response.status_code}): "
                "set STREAMGOV_REGISTRY_USER/STREAMGOV_REGISTRY_PASSWORD or "
                "STREAMGOV_REGISTRY_TOKEN"
            )
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise BaselineError(f"the registry at {self.base} sent an oversized answer to {path}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            message = body.get("message") if isinstance(body, dict) else None
            raise BaselineError(
                f"the registry at {self.base} answered HTTP {response.status_code} to GET "
                f"{path}{': ' + str(message) if message else ''}"
            )
        if body is None:
            raise BaselineError(f"the registry at {self.base} sent non-JSON for {path}")
        return body

    def _level(self, subject: str, default: CompatibilityLevel) -> CompatibilityLevel:
        body = self._get(f"/config/{quote(subject, safe='')}?defaultToGlobal=true")
        if not isinstance(body, dict):
            body = self._get("/config")
        value = body.get("compatibilityLevel") if isinstance(body, dict) else None
        try:
            return CompatibilityLevel.parse(value) if isinstance(value, str) else default
        except ValueError:
            return default

    def _version(self, subject: str, version: int | None) -> dict[str, Any] | None:
        key = (subject, version or -1)
        if key not in self._versions:
            which = str(version) if version is not None else "latest"
            body = self._get(f"/subjects/{quote(subject, safe='')}/versions/{which}")
            if body is None:
                return None
            if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
                raise BaselineError(f"the registry at {self.base} sent a malformed version")
            self._versions[key] = body
        return self._versions[key]

    def lookup(self, subject: str, version: int | None) -> Referenced | None:
        """A registered version (latest when `version` is None), for reference resolution."""
        body = self._version(subject, version)
        if body is None:
            return None
        number = body.get("version")
        return Referenced(body["schema"], number if isinstance(number, int) else 0, _specs(body))

    def _subject(
        self, subject: str, override: CompatibilityLevel | None, default: CompatibilityLevel
    ) -> BaselineSubject | None:
        numbers = self._get(f"/subjects/{quote(subject, safe='')}/versions")
        if not isinstance(numbers, list) or not numbers:
            return None
        numbers = sorted(int(n) for n in numbers if isinstance(n, int))
        level = override or self._level(subject, default)
        chosen = numbers if level.transitive else numbers[-1:]
        versions: list[BaselineVersion] = []
        notes: list[str] = []
        for number in chosen:
            body = self._version(subject, number)
            if body is None:
                continue
            try:
                refs = resolve(_specs(body), self.lookup, self.limits)
            except UnresolvedReferenceError as exc:
                notes.append(f"{subject} version {number}: {exc}")
                refs = ()
            kind = body.get("schemaType")
            try:
                schema_type = SchemaType.parse(kind if isinstance(kind, str) else str(kind or ""))
            except ValueError:
                notes.append(f"{subject} version {number}: unknown schema type, skipped")
                continue
            versions.append(
                BaselineVersion(number, f"version {number}", schema_type, body["schema"], refs)
            )
        if not versions:
            return None
        return BaselineSubject(subject, level, tuple(versions), notes=tuple(notes))


def _specs(body: Mapping[str, Any]) -> tuple[ReferenceSpec, ...]:
    """The references of a registered version; malformed entries are left out."""
    refs = body.get("references")
    return tuple(
        ReferenceSpec(ref["name"], ref["subject"], ref["version"])
        for ref in (refs if isinstance(refs, list) else [])
        if isinstance(ref, dict)
        and isinstance(ref.get("name"), str)
        and isinstance(ref.get("subject"), str)
        and isinstance(ref.get("version"), int)
        and not isinstance(ref.get("version"), bool)
    )


def open_baseline(
    spec: str,
    root: Path,
    repo: GitRepo | None,
    config: CheckConfig,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
) -> Baseline:
    """Interpret `--against`: `git:REF`, `registry:URL` (or a bare http(s) URL), `dir:PATH`
    or a directory path."""
    if spec.startswith("git:"):
        return git_baseline(repo, spec[4:], root, config, limits)
    if spec.startswith(("registry:", "http://", "https://")):
        auth = registry_auth(os.environ if env is None else env)
        owns = config.owns if config.owned_subjects else None
        return RegistryBaseline(spec.removeprefix("registry:"), auth, timeout, limits, owns)
    path = Path(spec.removeprefix("dir:"))
    if spec.startswith("dir:") or path.exists() or "/" in spec or spec.startswith("."):
        return directory_baseline(path if path.is_absolute() else Path.cwd() / path, config, limits)
    raise BaselineError(
        f"unknown baseline {spec!r}: use git:REF, registry:URL or the path of a directory"
    )
