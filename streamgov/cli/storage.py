"""`streamgov backup`, `streamgov restore` and `streamgov recover`: the operator's commands for
an embedded cluster's files (see docs/operations.md)."""

from __future__ import annotations

from pathlib import Path

import click

from streamgov.cli.common import user_errors
from streamgov.config import ClusterSettings, embedded_cluster_path

_CLUSTER_HELP = "Embedded cluster name under STREAMGOV_HOME (default: 'default')."


def _cluster_dir(cluster_name: str | None) -> Path:
    settings = ClusterSettings.resolve(cluster_name, None)
    if settings.bootstrap:
        raise click.ClickException(
            "STREAMGOV_BOOTSTRAP names a Kafka cluster: these commands work on the files of an "
            "embedded cluster (unset it, or use Kafka's own tools)"
        )
    return embedded_cluster_path(settings.cluster)


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--cluster", "cluster_name", metavar="NAME", help=_CLUSTER_HELP)
@user_errors
def backup(directory: Path, cluster_name: str | None) -> None:
    """Copy an embedded cluster into DIRECTORY (new or empty), consistently, while it runs."""
    from engine.embedded.backup import backup as run_backup

    source = _cluster_dir(cluster_name)
    report = run_backup(source, directory)
    click.echo(
        f"backed up {source} to {directory}: {len(report.topics)} topic(s), "
        f"{report.bytes_copied:,} bytes"
    )


@click.command("restore")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--cluster", "cluster_name", metavar="NAME", help=_CLUSTER_HELP)
@click.option(
    "--replace",
    is_flag=True,
    help="Move an existing cluster of that name aside (kept, renamed) and restore in its place.",
)
@user_errors
def restore(directory: Path, cluster_name: str | None, replace: bool) -> None:
    """Restore a backup made by `streamgov backup` (stop `streamgov up` first)."""
    from engine.embedded.backup import restore as run_restore

    target = _cluster_dir(cluster_name)
    report, moved = run_restore(directory, target, replace=replace)
    if moved is not None:
        click.echo(f"moved the previous cluster to {moved}")
    click.echo(f"restored {directory} to {target}: {len(report.topics)} topic(s)")


@click.command("recover")
@click.option("--cluster", "cluster_name", metavar="NAME", help=_CLUSTER_HELP)
@click.option(
    "--accept-loss",
    "accept",
    is_flag=True,
    help="Accept the loss of the records reported lost, so their topics take writes again.",
)
@click.option(
    "--include-internal",
    is_flag=True,
    help="With --accept-loss, accept it for internal state logs too (_schemas: the lost "
    "registrations, deletes and settings are gone; no id is handed out twice, but a lost "
    "version number of a subject may be; prefer restoring a backup).",
)
@user_errors
def recover(cluster_name: str | None, accept: bool, include_internal: bool) -> None:
    """Check an embedded cluster's files; with --accept-loss, let topics whose write-ahead
    log lost acknowledged records take writes again (lost offsets are never reused)."""
    from engine.embedded import EmbeddedCluster
    from engine.errors import DataLossError
    from engine.topics import is_internal

    path = _cluster_dir(cluster_name)
    if not (path / "cluster.db").is_file():
        raise click.ClickException(f"{path} holds no embedded cluster")
    with EmbeddedCluster(path, path.name, maintenance_interval_s=None) as cluster:
        problems = cluster.check_storage()
        if not problems:
            click.echo(f"{path}: no damaged file, no lost record")
            return
        losses = [p for p in problems if isinstance(p, DataLossError)]
        unreadable = [p for p in problems if not isinstance(p, DataLossError)]
        for problem in problems:
            click.echo(str(problem), err=True)
        if losses and accept:
            for loss in cluster.recover(include_internal=include_internal):
                click.echo(
                    f"accepted the loss of {loss.records_lost} record(s) of topic "
                    f"{loss.topic!r}; it takes writes again"
                )
            kept = [loss for loss in losses if loss.topic and is_internal(loss.topic)]
            if kept and not include_internal:
                names = ", ".join(repr(loss.topic) for loss in kept)
                raise click.ClickException(
                    f"internal topic(s) {names} still refuse writes: the commands they lost "
                    "(registrations, deletes, settings) would be gone from the state they "
                    "hold; restore a backup, or add --include-internal to accept that"
                )
        elif losses:
            raise click.ClickException(
                f"{len(losses)} topic(s) lost acknowledged records; restore a backup, or run "
                "`streamgov recover --accept-loss` to accept the loss and take writes again"
            )
        if unreadable:
            raise click.ClickException(
                f"{len(unreadable)} file(s) cannot be read: restore a backup, or delete the "
                "damaged topic (`streamgov topics delete`)"
            )
