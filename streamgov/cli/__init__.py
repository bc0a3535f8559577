"""The `streamgov` command: a thin layer over the library, one sub-command module per component.

Sub-commands are imported lazily so `streamgov --help` and quick commands start fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from streamgov import __version__

#: sub-command name -> "module:attribute" of its click command. Keep sorted.
COMMANDS: dict[str, str] = {
    "acl": "streamgov.cli.acl:acl_group",
    "apply": "streamgov.cli.governance:apply",
    "audit": "streamgov.cli.audit:audit",
    "backup": "streamgov.cli.storage:backup",
    "catalog": "streamgov.cli.catalog:catalog_group",
    "check": "streamgov.cli.check:check_command",
    "consume": "streamgov.cli.consume:consume",
    "demo": "streamgov.cli.demo:demo",
    "generate": "streamgov.cli.generate:generate",
    "groups": "streamgov.cli.groups:groups",
    "import": "streamgov.cli.governance:import_command",
    "lag": "streamgov.cli.lag:lag",
    "plan": "streamgov.cli.governance:plan",
    "produce": "streamgov.cli.produce:produce",
    "quotas": "streamgov.cli.quotas:quotas_group",
    "recover": "streamgov.cli.storage:recover",
    "registry": "streamgov.cli.registry:registry",
    "replicate": "streamgov.cli.replicate:replicate",
    "restore": "streamgov.cli.storage:restore",
    "topics": "streamgov.cli.topics:topics",
    "tui": "streamgov.cli.tui:tui",
    "up": "streamgov.cli.up:up",
    "users": "streamgov.cli.users:users",
}


#: What the suite offers, as (phrase, the command that provides it). A phrase is advertised in
#: `streamgov --help` and the package description only while its command is in COMMANDS, so a
#: component that lands is advertised by its COMMANDS line; a new kind of component is one line
#: here.
FEATURES: tuple[tuple[str, str], ...] = (
    ("schema registry", "registry"),
    ("stream catalog", "catalog"),
    ("ACLs", "acl"),
    ("lag monitor", "lag"),
    ("replicator", "replicate"),
    ("terminal UI", "tui"),
    ("CI schema check", "check"),
)


def summary() -> str:
    """The one-sentence description of what exists: `--help`'s first line and the package's
    description in pyproject.toml (a test keeps the two equal)."""
    offered = [phrase for phrase, command in FEATURES if command in COMMANDS]
    return (
        f"Governance suite for event-driven microservices: {', '.join(offered)}, "
        "on an embedded stream engine or Apache Kafka."
    )


class LazyGroup(click.Group):
    """A click group that imports a sub-command's module only when it is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module_name), attribute)
        return command


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from streamgov.fastpaths import status

    click.echo(f"streamgov, version {__version__}\n{status()}")
    ctx.exit()


@click.group(
    cls=LazyGroup, help=summary(), context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and whether the C fast paths are active, then exit.",
)
def cli() -> None:
    """The `streamgov` command group (its help is `summary()`)."""


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="streamgov")
