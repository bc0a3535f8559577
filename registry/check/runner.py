"""The check itself: map files to subjects, parse them, compare them with the baseline."""

from __future__ import annotations

import multiprocessing
import os
import ssl
import sys
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

import httpx

from registry.check.baselines import DEFAULT_LEVEL, Baseline, BaselineError
from registry.check.config import CONFIG_FILE, CheckConfig, CheckConfigError, parse_config
from registry.check.discovery import CONVENTIONS_NOTE, Discovery, SchemaFile, discover
from registry.check.git import GitRepo
from registry.check.judge import Case, Judgement, invalid, judge, same_schema
from registry.check.references import Referenced, UnresolvedReferenceError, resolve
from registry.check.registry_baseline import RegistryBaseline, registry_auth
from registry.check.results import CheckReport, CheckStatus, Problem, Severity, SubjectOutcome
from registry.check.sources import DirectorySource
from registry.check.tree_baseline import TreeBaseline, directory_baseline, git_baseline
from registry.formats import DEFAULT_LIMITS, Limits


@dataclass(frozen=True)
class CheckRequest:
    """What to check: the tree at `root`, against the `against` baseline (None: validate)."""

    root: Path
    against: str | None = None
    config_file: Path | None = None
    timeout: float = 10.0
    limits: Limits = DEFAULT_LIMITS
    env: Mapping[str, str] | None = None
    #: Credentials for a registry baseline; None reads them from `env` (`registry_auth`).
    auth: httpx.Auth | None = None
    #: TLS for a registry baseline over https (httpx's `verify`: a context, or True).
    verify: ssl.SSLContext | bool = True
    #: Processes that judge subjects (None: one per CPU).
    workers: int | None = None


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


def open_baseline(
    spec: str,
    root: Path,
    repo: GitRepo | None,
    config: CheckConfig,
    limits: Limits = DEFAULT_LIMITS,
    timeout: float = 10.0,
    env: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    verify: ssl.SSLContext | bool = True,
) -> Baseline:
    """Interpret `--against`: `git:REF`, `registry:URL` (or a bare http(s) URL), `dir:PATH`
    or a directory path."""
    if spec.startswith("git:"):
        return git_baseline(repo, spec[4:], root, config, limits)
    if spec.startswith(("registry:", "http://", "https://")):
        auth = auth or registry_auth(os.environ if env is None else env)
        owns = config.owns if config.owned_subjects else None
        url = spec.removeprefix("registry:")
        return RegistryBaseline(url, auth, timeout, limits, owns, verify)
    path = Path(spec.removeprefix("dir:"))
    if spec.startswith("dir:") or path.exists() or "/" in spec or spec.startswith("."):
        return directory_baseline(path if path.is_absolute() else Path.cwd() / path, config, limits)
    raise BaselineError(
        f"unknown baseline {spec!r}: use git:REF, registry:URL or the path of a directory"
    )


def run_check(request: CheckRequest) -> CheckReport:
    """Run the check. Raises `CheckConfigError` / `BaselineError` for usage problems."""
    root = request.root.resolve()
    config = load_config(root, request.config_file)
    repo = GitRepo.find(root)
    current = discover(DirectorySource(root, repo), config)
    baseline = (
        open_baseline(
            request.against,
            root,
            repo,
            config,
            request.limits,
            request.timeout,
            request.env,
            request.auth,
            request.verify,
        )
        if request.against
        else None
    )
    report = CheckReport(against=baseline.description if baseline else None)
    if repo is not None:
        inside = root.relative_to(repo.root.resolve()).as_posix()
        report.prefix = "" if inside == "." else f"{inside}/"
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
        """Resolve references, read the baseline, judge every subject, look for deletions."""
        for problem in self.current.problems:
            self.report.problems.append(
                Problem(
                    kind=CheckStatus.INVALID,
                    subject=problem.subject,
                    file=problem.path,
                    message=problem.message,
                    fix="fix the file or its entry in streamgov.yaml",
                )
            )
        if not self.current.files and not self.current.problems:
            self.report.notes.append("no schema files found")
        cases: list[Case] = []
        for _, item in sorted(self.current.files.items()):
            try:
                refs = resolve(item.references, self.lookup, self.request.limits)
            except UnresolvedReferenceError as exc:
                self.add(invalid(item, str(exc)))
                continue
            held = tuple(
                (ref.name, self.current.files[ref.subject].path)
                for ref in refs
                if ref.subject in self.current.files
            )
            cases.append(Case(item, refs, compare=self.baseline is not None, reference_files=held))
        if self.baseline is None:
            self.report.notes.append(
                "no baseline given: schemas were validated only; compare them with "
                "--against git:REF, --against registry:URL or --against DIR"
            )
        else:
            wanted = {case.item.subject: case.item.compatibility for case in cases}
            earlier = self.baseline.fetch(wanted, self.config.compatibility or DEFAULT_LEVEL)
            if isinstance(self.baseline, TreeBaseline):
                self.report.notes.extend(self.baseline.notes)
            cases = [replace(case, earlier=earlier.get(case.item.subject)) for case in cases]
        for verdict in judge_all(cases, self.request.limits, self.request.workers):
            self.add(verdict)
        if self.baseline is not None:
            self.deletions(self.baseline)
        self.report.subjects.sort(key=lambda outcome: outcome.subject)
        self.report.problems.sort(key=lambda p: (p.file or "", p.line or 0, p.subject or ""))

    def add(self, verdict: Judgement) -> None:
        """Record one subject's verdict."""
        self.report.subjects.append(verdict.outcome)
        self.report.problems.extend(verdict.problems)
        self.report.notes.extend(verdict.notes)

    def lookup(self, subject: str, version: int | None) -> Referenced | None:
        """References resolve to this tree's files first, then to the registry baseline."""
        item = self.current.files.get(subject)
        if item is not None:
            return Referenced(item.text, version or 1, item.references)
        if isinstance(self.baseline, RegistryBaseline):
            return self.baseline.lookup(subject, version)
        return None

    def deletions(self, baseline: Baseline) -> None:
        """Subjects the baseline holds that no file holds any more."""
        held = baseline.subjects()
        if held is None:
            return
        mapped = set(self.current.files) | {p.subject for p in self.current.problems}
        for subject, path in sorted(held.items()):
            if subject in mapped:
                continue
            allowed = self.config.deletion_allowed(subject)
            moved = self.moved_to(baseline, subject)
            self.report.subjects.append(SubjectOutcome(subject, path, CheckStatus.DELETED))
            self.report.problems.append(
                Problem(
                    kind=CheckStatus.DELETED,
                    subject=subject,
                    file=path,
                    severity=Severity.WARNING if allowed else Severity.ERROR,
                    message=(
                        f"subject {subject!r}{f' ({path})' if path else ''} exists in "
                        f"{baseline.description} but no file holds it any more"
                        + (" (allowed by schemas.allow_deleted)" if allowed else "")
                        + (
                            f"; the same schema is now in {moved.path} as subject {moved.subject!r}"
                            if moved
                            else ""
                        )
                    ),
                    fix=(
                        "restore the file, map its new location to the same subject in "
                        "streamgov.yaml, or allow the deletion with "
                        f"`schemas: {{allow_deleted: [{subject}]}}`"
                    ),
                )
            )

    def moved_to(self, baseline: Baseline, subject: str) -> SchemaFile | None:
        """A new subject whose file holds the deleted subject's schema, as it was: a file
        renamed without mapping it to its old subject."""
        if not isinstance(baseline, TreeBaseline):
            return None
        old = baseline.discovery.files.get(subject)
        if old is None:
            return None
        held = set(baseline.discovery.files)
        return next(
            (
                item
                for item in self.current.files.values()
                if item.subject not in held and same_schema((old.text,), (item.text,))
            ),
            None,
        )


#: Below this many subjects to compare, judging in one process is faster than forking.
PARALLEL_THRESHOLD = 64


def judge_all(cases: list[Case], limits: Limits, workers: int | None = None) -> list[Judgement]:
    """Judge every case, in parallel processes when there are many and more than one CPU."""
    workers = workers if workers is not None else (os.cpu_count() or 1)
    comparing = sum(1 for case in cases if case.earlier is not None)
    if workers < 2 or comparing < PARALLEL_THRESHOLD or sys.platform != "linux":
        return [judge(case, limits) for case in cases]
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            chunk = max(1, len(cases) // (workers * 8))
            return list(pool.map(judge, cases, [limits] * len(cases), chunksize=chunk))
    except (OSError, BrokenProcessPool):
        # No process pool here (no /dev/shm, a worker killed): judge in this process.
        return [judge(case, limits) for case in cases]
