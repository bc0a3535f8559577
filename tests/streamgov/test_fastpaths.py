"""`streamgov --version` says whether each C extension is in use, and names any that is not."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from streamgov import __version__
from streamgov.fastpaths import EXTENSIONS

ROOT = Path(__file__).resolve().parents[2]
BUILT = all(importlib.util.find_spec(module) is not None for module, _ in EXTENSIONS)


def _version(env: dict[str, str], *prelude: str) -> str:
    """`streamgov --version` in a fresh interpreter (optionally after `prelude` statements)."""
    code = "; ".join([*prelude, "from streamgov.cli import main", "main(['--version'])"])
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not BUILT, reason="needs every C extension built")
def test_version_says_the_fast_paths_are_active() -> None:
    active = _version({"STREAMGOV_PURE_PYTHON": "0"})
    assert active.splitlines() == [f"streamgov, version {__version__}", "C fast path: active"]


def test_version_says_when_pure_python_is_asked_for() -> None:
    disabled = _version({"STREAMGOV_PURE_PYTHON": "1"})
    assert "C fast path: NOT active, disabled by STREAMGOV_PURE_PYTHON=1" in disabled
    for _, what in EXTENSIONS:
        assert what in disabled


@pytest.mark.skipif(not BUILT, reason="needs every C extension built")
@pytest.mark.parametrize(("module", "what"), EXTENSIONS)
def test_a_missing_extension_is_named_with_what_it_slows(module: str, what: str) -> None:
    # An install whose extension is missing (no compiler, a lost build artefact) says so.
    missing = _version(
        {"STREAMGOV_PURE_PYTHON": "0"}, "import sys", f"sys.modules[{module!r}] = None"
    )
    assert f"C fast path: NOT active, the extension {module} is not installed" in missing
    assert f"{what} run in pure Python" in missing
    others = [other for other, _ in EXTENSIONS if other != module]
    assert not any(f"extension {other} " in missing for other in others)
