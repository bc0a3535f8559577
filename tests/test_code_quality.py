"""The lint and type gates run as part of the suite, so CI enforces them on every change."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a Python tool module from the repository root and capture what it says."""
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = run("ruff", "format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_mypy_finds_nothing() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


# -- import rules (docs/architecture.md, "Import rules") -------------------------------------

#: Packages below the components, and what each may import.
BASES: dict[str, frozenset[str]] = {
    "engine": frozenset(),
    "textfmt": frozenset(),
    "httpapi": frozenset({"engine"}),
}
COMPONENTS = frozenset(
    {"registry", "clusterapi", "lagmonitor", "catalog", "acl", "replicator", "testdata"}
)
ROOT_PACKAGE = "streamgov"
#: The TUI talks to the REST API only.
TUI: dict[str, frozenset[str]] = {"tui": frozenset({"textfmt"})}
NOT_SHIPPED = frozenset({"tests", "benchmarks", "docs", "build"})
ARROW = re.compile(r"^- `(\w+) -> (\w+)`", re.MULTILINE)


def documented_arrows(architecture: str) -> set[tuple[str, str]]:
    """The component-to-component arrows `docs/architecture.md` names."""
    section = architecture.split("### Import rules", 1)[-1].split("\n## ", 1)[0]
    return set(ARROW.findall(section))


def allowed_imports(arrows: set[tuple[str, str]]) -> dict[str, frozenset[str]]:
    """What each package of the project may import besides itself."""
    allowed = {**BASES, **TUI}
    for component in COMPONENTS:
        allowed[component] = frozenset(
            {"engine", "httpapi", "textfmt"} | {b for a, b in arrows if a == component}
        )
    return allowed


def project_packages(root: Path) -> set[str]:
    """The top-level packages of the project under `root`."""
    return {
        path.parent.name
        for path in root.glob("*/__init__.py")
        if path.parent.name not in NOT_SHIPPED and not path.parent.name.startswith(".")
    }


def imported_packages(source: str, package: str) -> set[str]:
    """Top-level packages a module's source imports (relative imports stay in `package`)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(package if node.level else (node.module or "").split(".")[0])
    return found


def import_violations(root: Path, arrows: set[tuple[str, str]]) -> list[str]:
    """Every import under `root` that the rules forbid, as `module imports package`."""
    packages = project_packages(root)
    allowed = allowed_imports(arrows)
    problems = []
    for package in sorted(packages):
        if package != ROOT_PACKAGE and package not in allowed:
            problems.append(f"{package} is not placed in the import rules")
            continue
        for path in sorted((root / package).rglob("*.py")):
            imports = imported_packages(path.read_text(encoding="utf-8"), package) & packages
            for target in sorted(imports - {package}):
                if package != ROOT_PACKAGE and target not in allowed[package]:
                    problems.append(f"{path.relative_to(root)} imports {target}")
    return problems


def test_imports_follow_the_documented_rules() -> None:
    arrows = documented_arrows((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert ("catalog", "registry") in arrows and ("replicator", "catalog") in arrows
    assert {a for a, _ in arrows} | {b for _, b in arrows} <= COMPONENTS
    assert import_violations(ROOT, arrows) == []


def write_module(root: Path, dotted: str, source: str) -> None:
    path = root.joinpath(*dotted.split(".")).with_suffix(".py")
    for parent in [path.parent, *path.parent.parents]:
        if parent == root:
            break
        parent.mkdir(parents=True, exist_ok=True)
        (parent / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")


@pytest.mark.parametrize(
    ("module", "source", "violation"),
    [
        ("engine.bad", "from registry import api\n", "engine/bad.py imports registry"),
        ("tui.bad", "def f():\n    import engine.types\n", "tui/bad.py imports engine"),
        ("tui.worse", "from streamgov.cli import cli\n", "tui/worse.py imports streamgov"),
        ("registry.bad", "import lagmonitor.lag\n", "registry/bad.py imports lagmonitor"),
        ("catalog.bad", "from acl import store\n", "catalog/bad.py imports acl"),
        ("httpapi.bad", "from registry import errors\n", "httpapi/bad.py imports registry"),
        ("textfmt.bad", "import engine\n", "textfmt/bad.py imports engine"),
        ("registry.up", "from streamgov import server\n", "registry/up.py imports streamgov"),
        ("stray.mod", "x = 1\n", "stray is not placed in the import rules"),
    ],
)
def test_a_forbidden_import_fails_the_scan(
    tmp_path: Path, module: str, source: str, violation: str
) -> None:
    """A synthetic project that breaks one rule; the same tree without the module is clean."""
    for package in ("engine", "registry", "catalog", "acl", "tui", "streamgov", "lagmonitor"):
        write_module(tmp_path, f"{package}.ok", "import json\n")
    write_module(tmp_path, "catalog.tags", "from registry import ok\nfrom . import ok as mine\n")
    write_module(tmp_path, "streamgov.server", "import registry.ok\nimport tui.ok\n")
    write_module(tmp_path, "tui.screen", "import textfmt\n")
    write_module(tmp_path, "textfmt.units", "import json\n")
    write_module(tmp_path, "httpapi.errors", "from engine import ok\n")
    arrows = {("catalog", "registry"), ("acl", "catalog")}
    assert import_violations(tmp_path, arrows) == []
    write_module(tmp_path, module, source)
    assert import_violations(tmp_path, arrows) == [violation]
