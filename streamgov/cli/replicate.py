"""`streamgov replicate ...`: run a replication flow, show its status, fail groups over."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from engine.cluster import Cluster
from engine.errors import EngineError
from replicator.failover import GroupLiveError, NoCheckpointsError, apply, plan
from replicator.flow import Flow, FlowError
from replicator.mask_rules import SALT_ENV, salt_from_env
from replicator.policy import PolicyName
from replicator.worker import Replicator
from streamgov.cli.common import user_errors
from streamgov.cli.output import echo_json, echo_table, format_option, interruptible
from streamgov.config import ConfigError
from streamgov.replication import CLUSTER_SPEC_HELP, cluster_spec


@contextmanager
def opened(source: str, target: str, **flow_options: Any) -> Iterator[Replicator]:
    """A started replicator between the two clusters; closes them after."""
    try:
        source_alias, source_settings = cluster_spec(source)
        target_alias, target_settings = cluster_spec(target)
        flow = Flow(source_alias, target_alias, **flow_options)
    except (FlowError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None
    clusters: list[Cluster] = []
    try:
        clusters.append(source_settings.open())
        clusters.append(target_settings.open())
        replicator = Replicator(flow, clusters[0], clusters[1])
        try:
            yield replicator.start()
        finally:
            replicator.close()
    except (ConfigError, EngineError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        for cluster in clusters:
            cluster.close()


def _flow_options(func: Any) -> Any:
    func = click.option("--source", "-s", required=True, metavar="CLUSTER", help=CLUSTER_SPEC_HELP)(
        func
    )
    func = click.option("--target", "-t", required=True, metavar="CLUSTER", help=CLUSTER_SPEC_HELP)(
        func
    )
    return func


@click.group("replicate")
def replicate() -> None:
    """Replicate topics and consumer-group offsets between clusters (MirrorMaker 2 naming)."""


@replicate.command("run")
@_flow_options
@click.option("--topics", default=".*", show_default=True, help="Regex of source topics.")
@click.option("--topics-exclude", default=None, help="Regex of source topics to leave out.")
@click.option("--groups", default=None, help="Regex of groups whose offsets are translated.")
@click.option(
    "--policy",
    type=click.Choice(["default", "identity"]),
    default="default",
    show_default=True,
    help="default: 'SOURCE.topic' on the target; identity: the same name.",
)
@click.option("--delete-with-source", is_flag=True, help="Delete a remote topic with its source.")
@click.option(
    "--mask",
    "masks",
    multiple=True,
    metavar="TAG=hash|redact",
    help="Mask fields with this tag (schema or catalog field tag) on the way (repeatable).",
)
@click.option(
    "--mask-salt-env",
    default=SALT_ENV,
    show_default=True,
    metavar="NAME",
    help="Environment variable holding the secret salt of masking hashes.",
)
@click.option(
    "--source-registry",
    default=None,
    metavar="URL",
    help="The source's schema registry over HTTP, when it is not the source's own _schemas.",
)
@click.option("--once", is_flag=True, help="Copy what exists now (and checkpoints), then exit.")
@click.option(
    "--refresh-interval",
    default=30.0,
    show_default=True,
    help="Seconds between looks for new topics, partitions and config changes.",
)
@click.option(
    "--worker",
    default="1/1",
    show_default=True,
    metavar="I/N",
    help="This process is worker I (1 to N) of N sharing the partitions.",
)
@user_errors
@interruptible()
def run(
    source: str,
    target: str,
    topics: str,
    topics_exclude: str | None,
    groups: str | None,
    policy: PolicyName,
    delete_with_source: bool,
    masks: tuple[str, ...],
    mask_salt_env: str,
    source_registry: str | None,
    once: bool,
    refresh_interval: float,
    worker: str,
) -> None:
    """Copy matching topics from SOURCE to TARGET; without --once, follow until interrupted."""
    index, _, count = worker.partition("/")
    if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
        raise click.BadParameter(f"{worker!r} is not I/N with I from 1 to N", param_hint="--worker")
    options: dict[str, Any] = {
        "topics": topics,
        "groups": groups,
        "policy": policy,
        "delete_with_source": delete_with_source,
        "refresh_interval_s": refresh_interval,
        "worker": int(index) - 1,
        "workers": int(count),
    }
    if topics_exclude is not None:
        options["topics_exclude"] = topics_exclude
    mask: dict[str, str] = {}
    for item in masks:
        tag, sep, action = item.partition("=")
        if not sep or not tag:
            raise click.BadParameter(f"{item!r} is not TAG=hash|redact", param_hint="--mask")
        mask[tag.strip().lower()] = action.strip()
    options["mask"] = mask
    options["mask_salt"] = salt_from_env(os.environ, mask_salt_env)
    options["source_registry"] = source_registry
    with opened(source, target, **options) as replicator:
        if once:
            copied = replicator.run_once()
            click.echo(f"copied {copied} records ({replicator.flow.name})")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            replicator.run(stop)
        except KeyboardInterrupt:
            stop.set()
            replicator.flush_syncs()
            raise


@replicate.command("status")
@_flow_options
@click.option("--topics", default=".*", show_default=True, help="Regex of source topics.")
@click.option("--policy", type=click.Choice(["default", "identity"]), default="default")
@format_option
@user_errors
@interruptible()
def status(source: str, target: str, topics: str, policy: PolicyName, output_format: str) -> None:
    """Per partition: how far the target is behind the source, and whether it is exact."""
    with opened(source, target, topics=topics, policy=policy) as replicator:
        replicator.refresh_known()
        rows = replicator.status()
    if output_format == "json":
        echo_json(rows)
        return
    echo_table(
        ["TOPIC", "PARTITION", "REMOTE", "POSITION", "SOURCE-END", "LAG", "EXACT"],
        [
            [
                r["topic"],
                r["partition"],
                r["remote_topic"],
                r["position"],
                r["source_end"],
                r["lag_records"],
                "yes" if r["exact"] else "no",
            ]
            for r in rows
        ],
    )


@replicate.command("failover")
@_flow_options
@click.option("--group", "-g", "group_names", multiple=True, help="A group to fail over.")
@click.option("--all-groups", is_flag=True, help="Every group with checkpoints.")
@click.option("--policy", type=click.Choice(["default", "identity"]), default="default")
@click.option("--dry-run", is_flag=True, help="Print the per-partition plan, commit nothing.")
@format_option
@user_errors
@interruptible()
def failover(
    source: str,
    target: str,
    group_names: tuple[str, ...],
    all_groups: bool,
    policy: PolicyName,
    dry_run: bool,
    output_format: str,
) -> None:
    """Commit the translated offsets of groups on TARGET so they resume there where they
    stopped on SOURCE (failback: the same with the clusters swapped)."""
    if bool(group_names) == all_groups:
        raise click.UsageError("give --group G (repeatable) or --all-groups")
    with opened(source, target, policy=policy) as replicator:
        try:
            moves = plan(replicator, None if all_groups else list(group_names))
        except (GroupLiveError, NoCheckpointsError) as exc:
            raise click.ClickException(str(exc)) from None
        if not dry_run:
            apply(replicator.target, moves)
    if output_format == "json":
        echo_json([m.__dict__ for m in moves])
    else:
        echo_table(
            ["GROUP", "TOPIC", "PARTITION", "SOURCE-OFFSET", "CURRENT", "NEW"],
            [[m.group, m.topic, m.partition, m.upstream, m.current, m.offset] for m in moves],
        )
    if dry_run:
        click.echo("dry run: nothing committed", err=True)
