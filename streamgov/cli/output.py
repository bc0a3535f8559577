"""Output helpers for the cluster commands (`topics`, `produce`, `consume`, `groups`): aligned
tables for people, JSON for scripts, progress on a terminal's stderr, and KEY=VALUE parsing."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def choice_format_option(choices: Sequence[str], help: str) -> Callable[[F], F]:
    """Add `--format` with these choices (the first is the default) as `output_format`."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
        help=help,
    )


def format_option(func: F) -> F:
    """Add `--format table|json`."""
    return choice_format_option(
        ["table", "json"], "Aligned table for people, or JSON for scripts."
    )(func)


def echo_json(value: Any) -> None:
    """Print a JSON document."""
    click.echo(json.dumps(value, indent=2, sort_keys=False))


def echo_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print rows under headers, each column as wide as its widest cell."""
    cells = [[str(h) for h in headers]] + [
        ["-" if c is None else str(c) for c in row] for row in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def human_size(size: int | None) -> str | None:
    """Bytes as people read them (`512 B`, `1.5 KiB`, `3.0 MiB`); None stays None (unknown)."""
    if size is None:
        return None
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if amount < 1024 or unit == "TiB":
            return f"{size} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def parse_pairs(pairs: Sequence[str], option: str) -> list[tuple[str, str]]:
    """`KEY=VALUE` strings as (key, value) pairs in order, repeated keys kept; a pair without
    `=` or without a key is a usage error naming the option."""
    result: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not KEY=VALUE", param_hint=option)
        result.append((key, value))
    return result


def parse_key_values(pairs: Sequence[str], option: str) -> dict[str, str]:
    """`KEY=VALUE` strings as a dict (a repeated key keeps its last value)."""
    return dict(parse_pairs(pairs, option))


class Progress:
    """A single self-overwriting count line on stderr, only when stderr is a terminal."""

    def __init__(self, label: str, interval: float = 0.25) -> None:
        self._label = label
        self._interval = interval
        self._enabled = sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def update(self, count: int) -> None:
        """Show the count if the last update is old enough."""
        now = time.monotonic()
        if self._enabled and now - self._last >= self._interval:
            self._last = now
            self._shown = True
            click.echo(f"\r{self._label}: {count}", err=True, nl=False)

    def finish(self, count: int) -> None:
        """Show the final count and end the line (if anything was shown)."""
        if self._shown:
            click.echo(f"\r{self._label}: {count}", err=True)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Ctrl-C ends a long-running command quietly with the conventional exit status 130; a
    closed output pipe (`... | head`) ends it quietly too."""
    try:
        yield
    except KeyboardInterrupt:
        raise click.exceptions.Exit(130) from None
    except BrokenPipeError:
        # Python would complain again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise click.exceptions.Exit(0) from None
