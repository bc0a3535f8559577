"""`streamgov plan`, `apply` and `import`: governance as code over the cluster, the registry
and the catalog (see `catalog.governance`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from acl.governance import PROVIDER as ACL_PROVIDER
from catalog.governance.files import CONFIG_FILE, load_governance
from catalog.governance.importer import import_cluster
from catalog.governance.plan import PROVIDERS, Provider, apply_plan, build_plan
from streamgov.cli.catalog import catalog_errors, open_context
from streamgov.cli.common import cluster_options

#: The plan providers, in apply order; a component adds its own with one line.
GOVERNANCE_PROVIDERS: tuple[Provider, ...] = (*PROVIDERS, ACL_PROVIDER)

#: `plan`'s exit codes, as `terraform plan -detailed-exitcode`.
EXIT_NO_CHANGES, EXIT_ERROR, EXIT_CHANGES = 0, 1, 2


class DetailedExitCommand(click.Command):
    """A command whose usage errors exit 1, so 2 keeps meaning "changes planned"."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            exc.exit_code = EXIT_ERROR
            raise


_FILE = click.option(
    "-f",
    "--file",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=CONFIG_FILE,
    show_default=True,
    help="The governance file (it may include others).",
)


@click.command("plan", cls=DetailedExitCommand)
@_FILE
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@cluster_options
@catalog_errors
def plan(
    config_file: Path, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Show what `apply` would change. Exit 0: nothing; 2: changes planned; 1: errors."""
    governance = load_governance(config_file)
    with open_context(cluster_name, bootstrap, readonly=True) as context:
        planned = build_plan(governance, context, GOVERNANCE_PROVIDERS)
    click.echo(planned.to_json() if output_format == "json" else planned.render())
    sys.exit(EXIT_NO_CHANGES if planned.empty else EXIT_CHANGES)


@click.command("apply")
@_FILE
@click.option("--auto-approve", is_flag=True, help="Apply without asking.")
@cluster_options
@catalog_errors
def apply(
    config_file: Path, auto_approve: bool, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Make the cluster, registry and catalog match the files (asks first)."""
    governance = load_governance(config_file)
    with open_context(cluster_name, bootstrap, readonly=False) as context:
        planned = build_plan(governance, context, GOVERNANCE_PROVIDERS)
        click.echo(planned.render())
        if planned.empty:
            return
        if not auto_approve:
            if not sys.stdin.isatty():
                raise click.ClickException(
                    "not applied: confirm on a terminal or pass --auto-approve"
                )
            click.confirm("Apply these changes?", abort=True)
        done = apply_plan(
            planned,
            context,
            GOVERNANCE_PROVIDERS,
            lambda change: click.echo(f"  done: {change.describe()}"),
        )
    click.echo(f"Applied {done} change{'s' if done != 1 else ''}.")


@click.command("import")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Directory for streamgov.yaml and schemas/.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing streamgov.yaml.")
@cluster_options
@catalog_errors
def import_command(
    out_dir: Path, force: bool, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Write governance files for an existing cluster: topics, configs, schemas, catalog
    entries, and consumer groups as services."""
    target = out_dir / CONFIG_FILE
    if target.exists() and not force:
        raise click.ClickException(f"{target} exists: use --force to overwrite it")
    with open_context(cluster_name, bootstrap, readonly=True) as context:
        written, orphans = import_cluster(context, out_dir)
    click.echo(f"wrote {written}")
    if orphans:
        click.echo(f"subjects tied to no topic were left out: {', '.join(orphans)}", err=True)
