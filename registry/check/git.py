"""Reading a git repository without touching its working tree: refs, trees, blobs, history.

Every read goes through one `git` process per operation (`ls-tree`, `cat-file --batch`,
`log`), never one process per file, so a repository with thousands of schemas reads fast.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

#: Bounds on how much of a repository's history is read for one check.
DEFAULT_MAX_COMMITS = 100_000


class GitError(Exception):
    """A git operation failed; the message is one line a user can act on."""


@dataclass(frozen=True, slots=True)
class FileVersion:
    """One version of a file in history: the commit that wrote it, its path there, its blob."""

    commit: str
    path: str
    blob: str


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    # Never prompt, never page, never read the user's replacement refs into history.
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "GIT_NO_REPLACE_OBJECTS": "1"})
    return env


def _run(root: Path, args: Sequence[str], stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args],
            input=stdin,
            capture_output=True,
            env=_git_env(),
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {reason[-1] if reason else 'no reason given'}")
    return done.stdout


class GitRepo:
    """A git working copy rooted at `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def find(cls, path: Path) -> GitRepo | None:
        """The repository containing `path`, or None when `path` is not inside one."""
        try:
            top = _run(path, ["rev-parse", "--show-toplevel"]).decode().strip()
        except GitError:
            return None
        return cls(Path(top))

    def resolve(self, ref: str) -> str:
        """The commit id `ref` names; `GitError` says so when git does not know it.

        `REF...` names the merge base of REF and HEAD (what `git diff REF...` compares with),
        so a branch is not blamed for what changed on REF after it forked.
        """
        if not ref or ref.startswith("-") or "\n" in ref:
            raise GitError(f"unknown git ref {ref!r}")
        if ref.endswith("...") and len(ref) > 3:
            tip = self.resolve(ref[:-3])
            try:
                return _run(self.root, ["merge-base", tip, "HEAD"]).decode().strip()
            except GitError:
                raise GitError(f"{ref[:-3]!r} and HEAD have no common ancestor") from None
        try:
            out = _run(self.root, ["rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"])
        except GitError:
            raise GitError(
                f"unknown git ref {ref!r} (fetch it first, e.g. `git fetch origin main`)"
            ) from None
        return out.decode().strip()

    def tracked_files(self) -> list[str]:
        """Working-tree regular files that git tracks or would track (not ignored, not links)."""
        out = _run(self.root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        seen = dict.fromkeys(name for name in out.decode("utf-8", "replace").split("\0") if name)
        return [
            name
            for name in seen
            if (self.root / name).is_file() and not (self.root / name).is_symlink()
        ]

    def tree(self, commit: str) -> dict[str, str]:
        """Path -> blob id of every regular file in the tree of `commit`."""
        out = _run(self.root, ["ls-tree", "-r", "-z", "--full-tree", commit])
        files: dict[str, str] = {}
        for entry in out.decode("utf-8", "replace").split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            parts = meta.split()
            # Regular files only: symbolic links (120000) and submodules are not schemas.
            if len(parts) == 3 and parts[1] == "blob" and parts[0] != "120000":
                files[path] = parts[2]
        return files

    def read_blobs(self, names: Iterable[str]) -> dict[str, bytes]:
        """Contents of objects named by id or `rev:path`, read by one `cat-file --batch`.

        Names git does not know are left out of the answer.
        """
        wanted = [name for name in dict.fromkeys(names) if name and "\n" not in name]
        if not wanted:
            return {}
        out = _run(self.root, ["cat-file", "--batch"], stdin="\n".join(wanted).encode() + b"\n")
        found: dict[str, bytes] = {}
        pos = 0
        for name in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) == 3 and header[1] != b"missing":
                size = int(header[2])
                if header[1] == b"blob":
                    found[name] = out[pos : pos + size]
                pos += size + 1
        return found

    def histories(
        self,
        commit: str,
        paths: Sequence[str],
        max_versions: int,
        max_commits: int = DEFAULT_MAX_COMMITS,
    ) -> dict[str, list[FileVersion]]:
        """Earlier versions of each of `paths` (as named at `commit`), oldest first.

        One `git log --raw -M` walk serves every path. Renames are followed the way
        `git log --follow` does, so a renamed file keeps its history. At most `max_versions`
        versions per path (the newest ones) and `max_commits` commits are read.
        """
        if not paths:
            return {}
        args = ["log", "--raw", "--no-abbrev", "-M", "-z", "--no-merges", "--format=%x01%H"]
        args += [f"--max-count={max_commits}", commit, "--"]
        # Streamed: the walk stops as soon as every path has reached its oldest version.
        process = subprocess.Popen(
            ["git", "-C", str(self.root), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=_git_env(),
        )
        assert process.stdout is not None
        try:
            found = _follow(_parse_raw_log(_tokens(process.stdout)), paths, max_versions)
        finally:
            finished = process.poll() is not None
            if not finished:
                process.kill()
            process.stdout.close()
            code = process.wait()
        if finished and code != 0:
            raise GitError(f"git log failed for {commit[:12]} (exit status {code})")
        return found


def _tokens(stream: IO[bytes]) -> Iterator[str]:
    """NUL-separated fields of a byte stream, as they arrive."""
    pending = b""
    while chunk := stream.read(1 << 16):
        parts = (pending + chunk).split(b"\0")
        pending = parts.pop()
        for part in parts:
            yield part.decode("utf-8", "replace")
    if pending:
        yield pending.decode("utf-8", "replace")


@dataclass
class _Tracked:
    path: str
    versions: list[FileVersion] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Change:
    status: str
    blob: str
    src: str
    dst: str


def _parse_raw_log(tokens: Iterator[str]) -> Iterator[tuple[str, list[_Change]]]:
    """Commits (newest first) with their raw changes, from `git log --raw -z` fields."""
    commit: str | None = None
    changes: list[_Change] = []
    for raw in tokens:
        token = raw.lstrip("\n")
        if token.startswith("\x01"):
            if commit is not None:
                yield commit, changes
            commit, changes = token[1:].strip(), []
        elif token.startswith(":") and commit is not None:
            meta = token.split()
            status = meta[4][:1] if len(meta) >= 5 else "M"
            src = next(tokens, "")
            dst = next(tokens, "") if status in {"R", "C"} else src
            changes.append(_Change(status, meta[3] if len(meta) >= 4 else "", src, dst))
    if commit is not None:
        yield commit, changes


def _follow(
    commits: Iterable[tuple[str, list[_Change]]], paths: Sequence[str], max_versions: int
) -> dict[str, list[FileVersion]]:
    tracked = {path: _Tracked(path) for path in paths}
    by_current = {path: tracked[path] for path in paths}
    for commit, changes in commits:
        if not by_current:
            break
        moved: list[_Tracked] = []
        for change in changes:
            item = by_current.get(change.dst)
            if item is None or change.status == "D":
                continue
            item.versions.append(FileVersion(commit, change.dst, change.blob))
            del by_current[change.dst]
            if change.status != "A" and len(item.versions) < max_versions:
                item.path = change.src
                moved.append(item)
        # Applied after the commit's changes, so a file added where another was renamed
        # from does not join the renamed file's history.
        by_current.update((item.path, item) for item in moved)
    return {path: _distinct(reversed(item.versions)) for path, item in tracked.items()}


def _distinct(versions: Iterable[FileVersion]) -> list[FileVersion]:
    """Drop versions that repeat the content of the one before (a pure rename, a touch)."""
    kept: list[FileVersion] = []
    for version in versions:
        if not kept or kept[-1].blob != version.blob:
            kept.append(version)
    return kept
