"""`streamgov groups ...`: list, describe, reset and delete consumer groups
(kafka-consumer-groups habits: a reset is a dry run unless `--execute` is given)."""

from __future__ import annotations

from datetime import datetime

import click

from engine.cluster import Cluster
from engine.errors import UnknownTopicOrPartitionError
from engine.resets import ResetPlanRow, ResetTarget, apply_reset, plan_reset
from engine.types import GroupDescription, GroupState, OffsetSpec, TopicPartition
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import echo_json, echo_table, format_option, interruptible

#: Kafka's protocol carries a group id as a string of at most 32767 bytes.
MAX_GROUP_ID_BYTES = 32767


def check_group_id(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """A click callback refusing group ids Kafka refuses: empty, or longer than the protocol
    allows."""
    if value is None:
        return None
    if not value:
        raise click.BadParameter("a consumer group id must not be empty")
    if len(value.encode()) > MAX_GROUP_ID_BYTES:
        raise click.BadParameter(
            f"a consumer group id is at most {MAX_GROUP_ID_BYTES} bytes, got {len(value.encode())}"
        )
    return value


@click.group("groups")
def groups() -> None:
    """Inspect and manage consumer groups: list, describe, reset, delete."""


@groups.command("list")
@format_option
@cluster_options
@user_errors
@interruptible()
def list_groups(output_format: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """List consumer groups and their state."""
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        listing = cluster.list_groups()
    finally:
        cluster.close()
    if output_format == "json":
        echo_json([{"group": g.group_id, "state": g.state.value} for g in listing])
    else:
        echo_table(["GROUP", "STATE"], [[g.group_id, g.state.value] for g in listing])


def _lag_rows(cluster: Cluster, group: str, description: GroupDescription) -> list[list[object]]:
    """Per partition the group has offsets for or is assigned: offsets, lag and owner."""
    committed = cluster.committed_offsets(group)
    owners = {tp: m for m in description.members for tp in m.assignment}
    partitions = sorted(set(committed) | set(owners))
    ends: dict[str, dict[int, int]] = {}
    rows: list[list[object]] = []
    for tp in partitions:
        if tp.topic not in ends:
            try:
                ends[tp.topic] = cluster.list_offsets(tp.topic, OffsetSpec.LATEST)
            except UnknownTopicOrPartitionError:
                ends[tp.topic] = {}
        end = ends[tp.topic].get(tp.partition)
        current = committed[tp].offset if tp in committed else None
        lag = end - current if end is not None and current is not None else None
        owner = owners.get(TopicPartition(tp.topic, tp.partition))
        rows.append(
            [
                tp.topic,
                tp.partition,
                current,
                end,
                lag,
                owner.member_id if owner else None,
                owner.client_id if owner else None,
            ]
        )
    return rows


@groups.command("describe")
@click.argument("group", callback=check_group_id)
@format_option
@cluster_options
@user_errors
@interruptible()
def describe(
    group: str, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Show GROUP's state, members, and per-partition offsets and lag."""
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        description = cluster.describe_group(group)
        rows = _lag_rows(cluster, group, description)
    finally:
        cluster.close()
    if description.state == GroupState.DEAD and not rows:
        raise click.ClickException(f"consumer group {group!r} does not exist")
    headers = ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "MEMBER", "CLIENT"]
    if output_format == "json":
        echo_json(
            {
                "group": description.group_id,
                "state": description.state.value,
                "protocol": description.protocol,
                "generation": description.generation,
                "members": [
                    {
                        "member_id": m.member_id,
                        "client_id": m.client_id,
                        "host": m.host,
                        "assignment": [[tp.topic, tp.partition] for tp in m.assignment],
                    }
                    for m in description.members
                ],
                "offsets": [
                    dict(zip([h.lower().replace("-", "_") for h in headers], row, strict=True))
                    for row in rows
                ],
            }
        )
        return
    click.echo(
        f"Group: {description.group_id}  State: {description.state.value}  "
        f"Members: {len(description.members)}"
        + (f"  Protocol: {description.protocol}" if description.protocol else "")
    )
    if rows:
        echo_table(headers, rows)


def _parse_datetime(text: str) -> int:
    """ISO 8601 -> ms since the epoch; without a UTC offset the local time zone applies."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 date-time (e.g. 2024-05-01T12:00:00Z)",
            param_hint="--to-datetime",
        ) from None
    try:
        return int(moment.timestamp() * 1000)
    except (ValueError, OverflowError, OSError):
        # Local times at the edges of the calendar cannot be converted.
        raise click.BadParameter(
            f"{text!r} is out of range; give a UTC offset (e.g. {text}Z)",
            param_hint="--to-datetime",
        ) from None


def _target(
    to_earliest: bool,
    to_latest: bool,
    to_datetime: str | None,
    to_offset: int | None,
    shift_by: int | None,
) -> ResetTarget:
    chosen = [
        to_earliest,
        to_latest,
        to_datetime is not None,
        to_offset is not None,
        shift_by is not None,
    ]
    if sum(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by"
        )
    if to_earliest:
        return ResetTarget.earliest()
    if to_latest:
        return ResetTarget.latest()
    if to_datetime is not None:
        return ResetTarget.datetime_ms(_parse_datetime(to_datetime))
    if to_offset is not None:
        return ResetTarget.offset(to_offset)
    assert shift_by is not None
    return ResetTarget.shift_by(shift_by)


def _plan_json(rows: list[ResetPlanRow]) -> list[dict[str, object]]:
    return [
        {
            "topic": r.topic,
            "partition": r.partition,
            "current_offset": r.current,
            "new_offset": r.new,
        }
        for r in rows
    ]


@groups.command("reset")
@click.argument("group", callback=check_group_id)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="TOPIC[:P,...]",
    help="Topic (optionally some partitions) to reset; default: every topic with offsets.",
)
@click.option("--to-earliest", is_flag=True, help="To the earliest offset.")
@click.option("--to-latest", is_flag=True, help="To the end of the log.")
@click.option("--to-datetime", metavar="ISO8601", help="To the first record at/after a time.")
@click.option("--to-offset", type=click.IntRange(min=0), help="To this offset (clamped).")
@click.option("--shift-by", type=int, help="Move the committed offset by N (negative rewinds).")
@click.option("--execute", is_flag=True, help="Apply the plan (default: dry run).")
@format_option
@cluster_options
@user_errors
@interruptible()
def reset(
    group: str,
    topics: tuple[str, ...],
    to_earliest: bool,
    to_latest: bool,
    to_datetime: str | None,
    to_offset: int | None,
    shift_by: int | None,
    execute: bool,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Reset GROUP's committed offsets (the group must have no live members to --execute)."""
    target = _target(to_earliest, to_latest, to_datetime, to_offset, shift_by)
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        plan = plan_reset(cluster, group, list(topics) or None, target)
        if not plan:
            raise click.ClickException(
                f"group {group!r} has no committed offsets; name the topics with --topic"
            )
        if execute:
            apply_reset(cluster, group, plan)
    finally:
        cluster.close()
    if output_format == "json":
        echo_json({"group": group, "executed": execute, "partitions": _plan_json(plan)})
    else:
        echo_table(
            ["TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"],
            [[r.topic, r.partition, r.current, r.new] for r in plan],
        )
    if not execute:
        click.echo("Dry run: nothing changed. Add --execute to apply.", err=True)


@groups.command("delete")
@click.argument("group", callback=check_group_id)
@cluster_options
@user_errors
def delete(group: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Delete GROUP and its committed offsets (it must have no live members)."""
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        cluster.delete_group(group)
    finally:
        cluster.close()
    click.echo(f"Deleted group {group}.")
