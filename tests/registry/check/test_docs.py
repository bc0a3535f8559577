"""The configuration shown in docs/ci-check.md is valid, and the pre-commit hook is wired."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from registry.check.config import Strategy, parse_config

ROOT = Path(__file__).resolve().parents[3]


def test_documented_configuration_parses() -> None:
    text = (ROOT / "docs/ci-check.md").read_text()
    example = next(b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "schemas:" in b)
    config = parse_config(example)
    assert len(config.rules) == 7
    assert {rule.strategy for rule in config.rules if rule.glob} == set(Strategy)


def test_pre_commit_hook_runs_the_check() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "streamgov-check"
    assert hook["entry"] == "streamgov check"
    assert hook["pass_filenames"] is False
    assert re.search(hook["files"], "schemas/orders.avsc")
    assert re.search(hook["files"], "streamgov.yaml")
    assert not re.search(hook["files"], "src/main.py")
