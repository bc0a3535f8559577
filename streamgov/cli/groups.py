"""`streamgov groups ...`: list, describe, reset and delete consumer groups
(kafka-consumer-groups habits: a reset is a dry run unless `--execute` is given)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

import click

from engine.cluster import Cluster
from engine.errors import UnknownTopicOrPartitionError
from engine.resets import (
    ResetPlanRow,
    ResetTarget,
    apply_reset,
    group_is_active,
    plan_reset,
    plan_to_offsets,
)
from engine.types import GroupDescription, GroupState, OffsetSpec, TopicPartition
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import echo_json, echo_table, format_option, interruptible
from streamgov.cli.resetfile import (
    ResetFileError,
    ResetOffsets,
    format_reset_csv,
    parse_duration_ms,
    parse_reset_csv,
)

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
    to_current: bool,
    to_datetime: str | None,
    by_duration: str | None,
    to_offset: int | None,
    shift_by: int | None,
    now_ms: Callable[[], int],
) -> ResetTarget:
    chosen = [
        to_earliest,
        to_latest,
        to_current,
        to_datetime is not None,
        by_duration is not None,
        to_offset is not None,
        shift_by is not None,
    ]
    if sum(chosen) != 1:
        raise click.UsageError(f"give exactly one of {', '.join(TARGET_OPTIONS)}")
    if to_earliest:
        return ResetTarget.earliest()
    if to_latest:
        return ResetTarget.latest()
    if to_current:
        return ResetTarget.current()
    if to_datetime is not None:
        return ResetTarget.datetime_ms(_parse_datetime(to_datetime))
    if by_duration is not None:
        try:
            return ResetTarget.datetime_ms(now_ms() - parse_duration_ms(by_duration))
        except ResetFileError as exc:
            raise click.BadParameter(str(exc), param_hint="--by-duration") from None
    if to_offset is not None:
        return ResetTarget.offset(to_offset)
    assert shift_by is not None
    return ResetTarget.shift_by(shift_by)


TARGET_OPTIONS = (
    "--to-earliest",
    "--to-latest",
    "--to-current",
    "--to-datetime",
    "--by-duration",
    "--to-offset",
    "--shift-by",
    "--from-file",
)


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


def _read_reset_file(path: str) -> ResetOffsets:
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_reset_csv(handle.read(), path)
    except OSError as exc:
        raise click.ClickException(f"cannot read {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, ResetFileError) as exc:
        raise click.ClickException(str(exc)) from None


def _plans(
    cluster: Cluster,
    group: str | None,
    all_groups: bool,
    topics: list[str] | None,
    target: ResetTarget | None,
    from_file: ResetOffsets | None,
) -> dict[str, list[ResetPlanRow]]:
    """Each chosen group's plan, by group id in order."""
    if from_file is not None:
        if None in from_file:
            if group is None:
                raise click.UsageError("a TOPIC,PARTITION,OFFSET file needs the GROUP argument")
            return {group: plan_to_offsets(cluster, group, from_file[None])}
        named = sorted(g for g in from_file if g is not None)
        if group is not None and group not in named:
            raise click.ClickException(f"the file has no offsets for group {group!r}")
        return {g: plan_to_offsets(cluster, g, from_file[g]) for g in named if group in (None, g)}
    assert target is not None
    chosen = sorted(g.group_id for g in cluster.list_groups()) if all_groups else [group or ""]
    plans = {g: plan_reset(cluster, g, topics, target) for g in chosen}
    if not all_groups and not plans[chosen[0]]:
        raise click.ClickException(
            f"group {chosen[0]!r} has no committed offsets; name the topics with --topic"
        )
    return plans


@groups.command("reset")
@click.argument("group", required=False, callback=check_group_id)
@click.option("--all-groups", is_flag=True, help="Reset every consumer group.")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="TOPIC[:P,...]",
    help="Topic (optionally some partitions) to reset; default: every topic with offsets.",
)
@click.option("--all-topics", is_flag=True, help="Every topic the group has offsets for.")
@click.option("--to-earliest", is_flag=True, help="To the earliest offset.")
@click.option("--to-latest", is_flag=True, help="To the end of the log.")
@click.option("--to-current", is_flag=True, help="To the committed offset (end if none).")
@click.option("--to-datetime", metavar="ISO8601", help="To the first record at/after a time.")
@click.option(
    "--by-duration", metavar="PnDTnHnMnS", help="To the first record this long ago (P1DT2H)."
)
@click.option("--to-offset", type=click.IntRange(min=0), help="To this offset (clamped).")
@click.option("--shift-by", type=int, help="Move the committed offset by N (negative rewinds).")
@click.option(
    "--from-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="To the offsets of a CSV as --export writes it.",
)
@click.option("--export", is_flag=True, help="Print the plan as CSV (for --from-file).")
@click.option("--execute", is_flag=True, help="Apply the plan (default: dry run).")
@format_option
@cluster_options
@user_errors
@interruptible()
def reset(
    group: str | None,
    all_groups: bool,
    topics: tuple[str, ...],
    all_topics: bool,
    to_earliest: bool,
    to_latest: bool,
    to_current: bool,
    to_datetime: str | None,
    by_duration: str | None,
    to_offset: int | None,
    shift_by: int | None,
    from_file: str | None,
    export: bool,
    execute: bool,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Reset the committed offsets of GROUP (or --all-groups) as kafka-consumer-groups
    --reset-offsets does; a group must have no live members to --execute."""
    if group is not None and all_groups:
        raise click.UsageError("give GROUP or --all-groups, not both")
    if group is None and not all_groups and from_file is None:
        raise click.UsageError("give GROUP or --all-groups")
    if topics and all_topics:
        raise click.UsageError("give --topic or --all-topics, not both")
    if from_file is not None and (topics or all_topics or all_groups):
        raise click.UsageError("--from-file names its partitions; drop --topic/--all-*")
    target = None
    offsets = None
    if from_file is None:
        target = _target(
            to_earliest, to_latest, to_current, to_datetime, by_duration, to_offset, shift_by,
            lambda: int(time.time() * 1000),
        )  # fmt: skip
    elif any([to_earliest, to_latest, to_current, to_datetime, by_duration]) or (
        to_offset is not None or shift_by is not None
    ):
        raise click.UsageError(f"give exactly one of {', '.join(TARGET_OPTIONS)}")
    else:
        offsets = _read_reset_file(from_file)
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        plans = _plans(cluster, group, all_groups, list(topics) or None, target, offsets)
        if execute:
            # All or nothing: refuse before changing any group if one of them is active.
            for name in plans:
                if group_is_active(cluster.describe_group(name)):
                    apply_reset(cluster, name, [])  # raises, naming the group and its state
            for name, plan in plans.items():
                apply_reset(cluster, name, plan)
    finally:
        cluster.close()
    _show_plans(plans, execute, export, output_format, several=all_groups or len(plans) > 1)


def _show_plans(
    plans: dict[str, list[ResetPlanRow]],
    execute: bool,
    export: bool,
    output_format: str,
    several: bool,
) -> None:
    if export:
        rows = [(g, r.topic, r.partition, r.new) for g, plan in plans.items() for r in plan]
        click.echo(format_reset_csv(rows, with_group=several), nl=False)
    elif output_format == "json":
        shown = [
            {"group": g, "executed": execute, "partitions": _plan_json(plan)}
            for g, plan in plans.items()
        ]
        echo_json(shown if several else shown[0])
    else:
        headers = ["TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]
        echo_table(
            ["GROUP", *headers] if several else headers,
            [
                [g, r.topic, r.partition, r.current, r.new][0 if several else 1 :]
                for g, plan in plans.items()
                for r in plan
            ],
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
