"""The command reference of docs/cli.md, generated from the real `--help` of every command.

`python -m streamgov.cli.reference` rewrites the part of docs/cli.md between the two markers;
a test fails whenever that part differs from what the commands say, so the reference cannot
drift. Every command in `COMMANDS` (and each of its sub-commands) is covered without listing
it anywhere else.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import click

BEGIN = "<!-- BEGIN GENERATED COMMAND REFERENCE: python -m streamgov.cli.reference -->"
END = "<!-- END GENERATED COMMAND REFERENCE -->"
#: Help is rendered at a fixed width so the text does not depend on the terminal.
WIDTH = 100
DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _walk(
    command: click.Command, path: list[str], parent: click.Context | None
) -> Iterator[tuple[str, str]]:
    """(`streamgov a b`, help text) of a command and every sub-command, in name order."""
    name = " ".join(path)
    settings = {
        **command.context_settings,  # as `main` would apply them (`-h` for help, ...)
        "terminal_width": WIDTH,
        "max_content_width": WIDTH,
    }
    ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
    yield name, command.get_help(ctx)
    if isinstance(command, click.Group):
        for sub in command.list_commands(ctx):
            found = command.get_command(ctx, sub)
            if found is not None:
                yield from _walk(found, [*path, sub], ctx)


def render() -> str:
    """The generated reference: one section per command with its `--help` output."""
    from streamgov.cli import cli

    parts = [BEGIN, ""]
    for name, text in _walk(cli, ["streamgov"], None):
        parts += [f"### `{name}`", "", "```text", text.rstrip(), "```", ""]
    parts.append(END)
    return "\n".join(parts)


def splice(document: str, reference: str) -> str:
    """`document` with the text between the markers replaced by `reference`."""
    start, end = document.find(BEGIN), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {BEGIN!r} and {END!r} are missing")
    return document[:start] + reference + document[end + len(END) :]


def main(argv: list[str] | None = None) -> int:
    """Rewrite docs/cli.md (or `--check`: exit 1 when it is out of date)."""
    args = sys.argv[1:] if argv is None else argv
    current = DOCS.read_text(encoding="utf-8")
    wanted = splice(current, render())
    if "--check" in args:
        if wanted != current:
            print(f"{DOCS} is out of date: run python -m streamgov.cli.reference", file=sys.stderr)
            return 1
        return 0
    if wanted != current:
        DOCS.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
