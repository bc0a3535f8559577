"""docs/cli.md's command reference is the real `--help` of every command, and `--help` and
the package description advertise only commands that exist."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from streamgov import cli as cli_package
from streamgov.cli import COMMANDS, FEATURES, cli, summary
from streamgov.cli.reference import BEGIN, DOCS, END, main, render, splice

ROOT = Path(__file__).resolve().parents[3]


def test_the_reference_in_the_docs_is_the_real_help() -> None:
    current = DOCS.read_text(encoding="utf-8")
    assert splice(current, render()) == current, (
        "docs/cli.md's command reference is out of date: run python -m streamgov.cli.reference"
    )
    assert main(["--check"]) == 0


def test_every_command_and_sub_command_has_a_section() -> None:
    reference = render()
    for name in COMMANDS:
        assert f"### `streamgov {name}`" in reference
    assert "### `streamgov groups reset`" in reference
    assert "### `streamgov registry config`" in reference


def test_a_new_command_is_covered_without_listing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    @click.command("zz-new")
    @click.option("--shiny", is_flag=True, help="A brand new option.")
    def new() -> None:
        """A command another component adds."""

    monkeypatch.setattr(cli_package, "zz_new_command", new, raising=False)
    monkeypatch.setitem(COMMANDS, "zz-new", "streamgov.cli:zz_new_command")
    reference = render()
    assert "### `streamgov zz-new`" in reference and "A brand new option." in reference
    # ... and the docs no longer match until they are regenerated.
    assert splice(DOCS.read_text(encoding="utf-8"), reference) != DOCS.read_text(encoding="utf-8")


def test_splice_needs_both_markers() -> None:
    assert splice(f"a\n{BEGIN}\nold\n{END}\nb", "NEW") == "a\nNEW\nb"
    with pytest.raises(ValueError, match="markers"):
        splice("no markers here", "NEW")


def test_help_and_package_description_advertise_only_existing_commands() -> None:
    description = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["description"]
    assert description == summary()
    top = CliRunner().invoke(cli, ["--help"]).output
    assert " ".join(summary().split()) in " ".join(top.split())
    for phrase, command in FEATURES:
        assert (phrase in summary()) == (command in COMMANDS), phrase


def test_a_landed_component_is_advertised_by_its_command_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    missing = [(phrase, command) for phrase, command in FEATURES if command not in COMMANDS]
    for phrase, command in missing:
        assert phrase not in summary()
        monkeypatch.setitem(COMMANDS, command, "streamgov.cli:cli")
        assert phrase in summary()
