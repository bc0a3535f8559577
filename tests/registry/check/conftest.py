"""Temporary git repositories with schema histories, and a way to run `streamgov check`."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from streamgov.cli import cli


@dataclass
class SchemaRepo:
    """A real git repository in a temporary directory, built commit by commit."""

    root: Path

    def git(self, *args: str) -> str:
        """Run git in the repository and return its output."""
        done = subprocess.run(
            ["git", "-C", str(self.root), *args], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    def write(self, path: str, content: str | dict[str, Any] | list[Any]) -> Path:
        """Write a file (JSON documents are written indented, one member per line)."""
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content, indent=2) + "\n"
        target.write_text(text, encoding="utf-8")
        return target

    def move(self, src: str, dst: str) -> None:
        """`git mv`, creating the destination directory."""
        (self.root / dst).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", src, dst)

    def commit(self, message: str = "change") -> str:
        """Stage everything and commit; returns the commit id."""
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")

    def check(self, *args: str) -> Result:
        """Run `streamgov check --root <repo> ARGS` in process."""
        return CliRunner().invoke(cli, ["check", "--root", str(self.root), *args])


@pytest.fixture()
def repo(tmp_path: Path) -> SchemaRepo:
    """An empty git repository with an identity configured."""
    root = tmp_path / "repo"
    root.mkdir()
    built = SchemaRepo(root)
    built.git("init", "-q", "-b", "main")
    built.git("config", "user.email", "dev@example.com")
    built.git("config", "user.name", "Dev")
    built.git("config", "commit.gpgsign", "false")
    return built


def record(name: str, *fields: dict[str, Any], namespace: str = "com.acme") -> dict[str, Any]:
    """An Avro record schema."""
    return {"type": "record", "name": name, "namespace": namespace, "fields": list(fields)}


def field(name: str, type_: Any, **extra: Any) -> dict[str, Any]:
    """An Avro field."""
    return {"name": name, "type": type_, **extra}
