"""Reading git without touching the working tree: refs, blobs in one batch, followed history."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.check.git import FileVersion, GitError, GitRepo, _Change, _distinct, _follow
from tests.registry.check.conftest import SchemaRepo


def test_reads_blobs_and_trees_at_a_ref(repo: SchemaRepo) -> None:
    repo.write("a.avsc", "one")
    first = repo.commit()
    repo.write("a.avsc", "two")
    repo.write("b.avsc", "bee")
    repo.commit()
    repo.write("a.avsc", "working tree only")
    git = GitRepo(repo.root)
    assert set(git.tree(git.resolve("HEAD"))) == {"a.avsc", "b.avsc"}
    blobs = git.read_blobs([f"{first}:a.avsc", "HEAD:a.avsc", "HEAD:missing.avsc"])
    assert blobs == {f"{first}:a.avsc": b"one", "HEAD:a.avsc": b"two"}
    assert (repo.root / "a.avsc").read_text() == "working tree only"


def test_symbolic_links_are_not_files(repo: SchemaRepo) -> None:
    repo.write("a.avsc", "x")
    (repo.root / "link.avsc").symlink_to("/etc/hostname")
    repo.commit()
    git = GitRepo(repo.root)
    assert set(git.tree(git.resolve("HEAD"))) == {"a.avsc"}


def test_unknown_ref_is_a_clear_error(repo: SchemaRepo) -> None:
    repo.write("a.avsc", "x")
    repo.commit()
    with pytest.raises(GitError, match="unknown git ref 'origin/nope'"):
        GitRepo(repo.root).resolve("origin/nope")
    with pytest.raises(GitError, match="unknown git ref"):
        GitRepo(repo.root).resolve("--output=/tmp/x")


def test_find_outside_a_repository(tmp_path: object) -> None:
    from pathlib import Path

    assert GitRepo.find(Path("/")) is None


def test_history_follows_renames_and_skips_pure_renames(repo: SchemaRepo) -> None:
    repo.write("old/orders.avsc", "v1\n" * 20)
    repo.write("other.avsc", "unrelated")
    c1 = repo.commit()
    repo.write("old/orders.avsc", "v2\n" * 20)
    c2 = repo.commit()
    repo.move("old/orders.avsc", "new/orders.avsc")
    repo.commit("rename")
    repo.write("new/orders.avsc", "v3\n" * 20)
    c4 = repo.commit()
    git = GitRepo(repo.root)
    history = git.histories(git.resolve("HEAD"), ["new/orders.avsc", "other.avsc"], 10)
    versions = history["new/orders.avsc"]
    assert [(v.commit, v.path) for v in versions] == [
        (c1, "old/orders.avsc"),
        (c2, "old/orders.avsc"),
        (c4, "new/orders.avsc"),
    ]
    blobs = git.read_blobs(v.blob for v in versions)
    assert [blobs[v.blob][:2] for v in versions] == [b"v1", b"v2", b"v3"]
    assert [v.commit for v in history["other.avsc"]] == [c1]


def test_history_is_bounded_to_the_newest_versions(repo: SchemaRepo) -> None:
    commits = []
    for n in range(6):
        repo.write("a.avsc", f"version {n}")
        commits.append(repo.commit())
    git = GitRepo(repo.root)
    versions = git.histories(git.resolve("HEAD"), ["a.avsc"], 3)["a.avsc"]
    assert [v.commit for v in versions] == commits[-3:]


def test_history_at_an_older_ref(repo: SchemaRepo) -> None:
    repo.write("a.avsc", "1")
    c1 = repo.commit()
    repo.write("a.avsc", "2")
    c2 = repo.commit()
    repo.write("a.avsc", "3")
    repo.commit()
    git = GitRepo(repo.root)
    assert [v.commit for v in git.histories(c2, ["a.avsc"], 10)["a.avsc"]] == [c1, c2]


@st.composite
def _histories(draw: st.DrawFn) -> Any:
    """Random add/modify/rename/delete histories, with each final file's expected versions."""
    names = [f"f{n}.avsc" for n in range(5)]
    state: dict[str, int] = {}
    blobs: dict[int, str] = {}
    entries: dict[int, list[FileVersion]] = {}
    commits: list[tuple[str, list[_Change]]] = []
    for number in range(draw(st.integers(1, 25))):
        commit = f"c{number}"
        free = [name for name in names if name not in state]
        ops = (
            ["add"]
            if not state
            else ["add", "modify", "rename", "delete"]
            if free
            else [
                "modify",
                "delete",
            ]
        )
        op = draw(st.sampled_from(ops))
        if op == "add" and free:
            path = draw(st.sampled_from(free))
            ident = len(blobs)
            state[path], blobs[ident] = ident, f"b{number}"
            entries[ident] = [FileVersion(commit, path, blobs[ident])]
            change = _Change("A", blobs[ident], path, path)
        elif op == "modify" or (op == "add" and not free):
            path = draw(st.sampled_from(sorted(state)))
            ident = state[path]
            blobs[ident] = f"b{number}"
            entries[ident].append(FileVersion(commit, path, blobs[ident]))
            change = _Change("M", blobs[ident], path, path)
        elif op == "rename":
            path = draw(st.sampled_from(sorted(state)))
            target = draw(st.sampled_from(free))
            ident = state.pop(path)
            state[target] = ident
            entries[ident].append(FileVersion(commit, target, blobs[ident]))
            change = _Change("R", blobs[ident], path, target)
        else:
            path = draw(st.sampled_from(sorted(state)))
            del state[path]
            change = _Change("D", "0" * 40, path, path)
        commits.append((commit, [change]))
    limit = draw(st.integers(1, 30))
    expected = {path: _distinct(entries[ident][-limit:]) for path, ident in state.items()}
    return list(reversed(commits)), expected, limit


@settings(deadline=None, max_examples=150)
@given(_histories())
def test_following_matches_a_simulated_history(case: Any) -> None:
    commits, expected, limit = case
    assert _follow(iter(commits), sorted(expected), limit) == expected
