"""Where schema files are read from: the working tree, a directory, or a git commit."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from registry.check.git import GitRepo

#: Directories never searched for schemas when walking a plain directory.
_SKIPPED_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


class FileSource(Protocol):
    """A tree of files addressed by relative, `/`-separated paths."""

    description: str

    def paths(self) -> Sequence[str]:
        """Every file in the tree."""
        ...

    def read(self, paths: Iterable[str]) -> dict[str, bytes]:
        """The contents of `paths`; files that do not exist are left out."""
        ...


class DirectorySource:
    """Files under a directory on disk; inside a git repository, what git tracks or would.

    `repo`, when given, must contain `root`.
    """

    def __init__(self, root: Path, repo: GitRepo | None = None) -> None:
        self.root = root
        self.repo = repo
        self.description = str(root)

    def paths(self) -> Sequence[str]:
        """Every file, skipping version-control and dependency directories."""
        if self.repo is not None:
            inside = self.root.resolve().relative_to(self.repo.root.resolve()).as_posix()
            prefix = "" if inside == "." else f"{inside}/"
            return sorted(
                path[len(prefix) :] for path in self.repo.tracked_files() if path.startswith(prefix)
            )
        found: list[str] = []
        for directory, dirs, files in os.walk(self.root):
            dirs[:] = sorted(name for name in dirs if name not in _SKIPPED_DIRS)
            base = Path(directory).relative_to(self.root)
            found.extend(
                (base / name).as_posix()
                for name in sorted(files)
                if not os.path.islink(os.path.join(directory, name))
            )
        return found

    def read(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Read each file that exists and is a regular file inside the root (not a link)."""
        out: dict[str, bytes] = {}
        root = self.root.resolve()
        for path in paths:
            given = self.root / path
            full = given.resolve()
            if given.is_symlink() or not full.is_relative_to(root) or not full.is_file():
                continue
            try:
                out[path] = full.read_bytes()
            except OSError:
                continue
        return out


class GitTreeSource:
    """Files as they are in one commit, read from git objects (the working tree is untouched).

    With a `prefix` (the checked directory inside the repository, ending in `/`), paths are
    relative to that directory, like the working-tree paths they are compared with.
    """

    def __init__(self, repo: GitRepo, commit: str, ref: str, prefix: str = "") -> None:
        self.repo = repo
        self.commit = commit
        self.prefix = prefix
        self.description = f"git:{ref}"
        self._tree: dict[str, str] | None = None

    @property
    def tree(self) -> dict[str, str]:
        """Path (relative to the prefix) -> blob id, read once."""
        if self._tree is None:
            self._tree = {
                path[len(self.prefix) :]: blob
                for path, blob in self.repo.tree(self.commit).items()
                if path.startswith(self.prefix)
            }
        return self._tree

    def paths(self) -> Sequence[str]:
        """Every file in the commit's tree."""
        return sorted(self.tree)

    def read(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Blob contents, all read in one batch."""
        blobs = {path: self.tree[path] for path in paths if path in self.tree}
        contents = self.repo.read_blobs(blobs.values())
        return {path: contents[blob] for path, blob in blobs.items() if blob in contents}
