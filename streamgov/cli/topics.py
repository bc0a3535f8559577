"""`streamgov topics ...`: list, create, describe, alter and delete topics (kafka-topics habits)."""

from __future__ import annotations

import click

from engine.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError
from engine.topics import DEFAULT_CONFIG, internal_topic_risk
from engine.types import PartitionInfo
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import (
    echo_json,
    echo_table,
    format_option,
    human_size,
    interruptible,
    parse_key_values,
)


@click.group("topics")
def topics() -> None:
    """Manage topics: list, create, describe, alter, delete."""


def total_size(partitions: tuple[PartitionInfo, ...]) -> int | None:
    """The bytes a topic holds, or None when any partition's size is unknown."""
    sizes = [p.size_bytes for p in partitions]
    if any(size is None for size in sizes):
        return None
    return sum(size for size in sizes if size is not None)


@topics.command("list")
@click.option("--internal", is_flag=True, help="Include internal topics (names starting '_').")
@click.option(
    "--sizes",
    is_flag=True,
    help="Also show partitions, records and bytes held per topic (describes every topic).",
)
@format_option
@cluster_options
@user_errors
@interruptible()
def list_topics(
    internal: bool,
    sizes: bool,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """List topic names."""
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        names = cluster.list_topics(include_internal=internal)
        described = [cluster.describe_topic(name) for name in names] if sizes else []
    finally:
        cluster.close()
    if not sizes:
        if output_format == "json":
            echo_json(names)
        else:
            for name in names:
                click.echo(name)
        return
    rows = [
        (
            d.name,
            len(d.partitions),
            sum(p.record_count for p in d.partitions),
            total_size(d.partitions),
        )
        for d in described
    ]
    if output_format == "json":
        echo_json(
            [{"name": n, "partitions": p, "records": r, "size_bytes": b} for n, p, r, b in rows]
        )
    else:
        echo_table(
            ["TOPIC", "PARTITIONS", "RECORDS", "SIZE"],
            [[n, p, r, human_size(b)] for n, p, r, b in rows],
        )


@topics.command("create")
@click.argument("name")
@click.option("--partitions", type=int, default=1, show_default=True, help="Partition count.")
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE", help="Topic config.")
@click.option("--if-not-exists", is_flag=True, help="Succeed quietly if the topic exists.")
@cluster_options
@user_errors
def create(
    name: str,
    partitions: int,
    configs: tuple[str, ...],
    if_not_exists: bool,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Create topic NAME."""
    config = parse_key_values(configs, "--config")
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        cluster.create_topic(name, partitions, config)
    except TopicAlreadyExistsError:
        if not if_not_exists:
            raise
        return
    finally:
        cluster.close()
    click.echo(f"Created topic {name} with {partitions} partition(s).")


@topics.command("describe")
@click.argument("name")
@format_option
@cluster_options
@user_errors
@interruptible()
def describe(
    name: str, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Show partitions (earliest/latest offsets, records, bytes held) and the effective
    config of topic NAME. A size shows as `-` where the cluster cannot tell it (Kafka)."""
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        description = cluster.describe_topic(name)
    finally:
        cluster.close()
    if output_format == "json":
        echo_json(
            {
                "name": description.name,
                "internal": description.internal,
                "partitions": [
                    {
                        "partition": p.partition,
                        "earliest_offset": p.earliest_offset,
                        "latest_offset": p.latest_offset,
                        "size_bytes": p.size_bytes,
                    }
                    for p in description.partitions
                ],
                "size_bytes": total_size(description.partitions),
                "config": description.config,
            }
        )
        return
    total = human_size(total_size(description.partitions)) or "unknown"
    click.echo(
        f"Topic: {description.name}  Partitions: {len(description.partitions)}  Size: {total}"
    )
    echo_table(
        ["PARTITION", "EARLIEST", "LATEST", "RECORDS", "SIZE"],
        [
            [
                p.partition,
                p.earliest_offset,
                p.latest_offset,
                p.record_count,
                human_size(p.size_bytes),
            ]
            for p in description.partitions
        ],
    )
    click.echo("")
    echo_table(
        ["CONFIG", "VALUE", "SOURCE"],
        [
            [key, value, "default" if DEFAULT_CONFIG.get(key) == value else "topic"]
            for key, value in sorted(description.config.items())
        ],
    )


#: `--internal`: the explicit override for changing an internal topic.
internal_option = click.option(
    "--internal",
    "allow_internal",
    is_flag=True,
    help="Allow this on an internal topic ('_' prefix, e.g. _schemas), losing or breaking the "
    "state it holds.",
)


def refuse_internal(name: str, action: str, allowed: bool) -> None:
    """Stop before changing an internal topic unless --internal was given."""
    risk = internal_topic_risk(name, action)
    if risk is not None and not allowed:
        raise click.ClickException(f"{risk}; give --internal to do it anyway")


@topics.command("alter")
@click.argument("name")
@click.option("--partitions", type=int, default=None, help="Grow to this many partitions.")
@click.option("--config", "configs", multiple=True, metavar="KEY=VALUE", help="Set a config.")
@click.option(
    "--delete-config", "deletes", multiple=True, metavar="KEY", help="Reset a config to default."
)
@internal_option
@cluster_options
@user_errors
def alter(
    name: str,
    partitions: int | None,
    configs: tuple[str, ...],
    deletes: tuple[str, ...],
    allow_internal: bool,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Add partitions to topic NAME or change its config."""
    refuse_internal(name, "reconfigure", allow_internal)
    updates: dict[str, str | None] = dict(parse_key_values(configs, "--config"))
    clash = set(updates) & set(deletes)
    if clash:
        raise click.UsageError(f"{', '.join(sorted(clash))}: both set and deleted")
    updates.update({key: None for key in deletes})
    if partitions is None and not updates:
        raise click.UsageError("nothing to alter: give --partitions, --config or --delete-config")
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        if updates:
            cluster.alter_topic_config(name, updates)
            click.echo(f"Updated config of {name}: {', '.join(sorted(updates))}.")
        if partitions is not None:
            cluster.add_partitions(name, partitions)
            click.echo(f"Topic {name} now has {partitions} partitions.")
    finally:
        cluster.close()


@topics.command("delete")
@click.argument("name")
@click.option("--if-exists", is_flag=True, help="Succeed quietly if the topic does not exist.")
@internal_option
@cluster_options
@user_errors
def delete(
    name: str,
    if_exists: bool,
    allow_internal: bool,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Delete topic NAME and all its records."""
    refuse_internal(name, "delete", allow_internal)
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        cluster.delete_topic(name)
    except UnknownTopicOrPartitionError:
        if not if_exists:
            raise
        return
    finally:
        cluster.close()
    click.echo(f"Deleted topic {name}.")
