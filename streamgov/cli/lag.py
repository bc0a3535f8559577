"""`streamgov lag`: consumer-group lag, health and scaling recommendations, sampled directly
from a cluster (no server needed)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import click

from lagmonitor.model import Status
from lagmonitor.monitor import LagMonitor, MonitorConfig
from lagmonitor.schemas import GroupDetail, GroupList
from lagmonitor.status import StatusPolicy
from lagmonitor.tracker import TrackerConfig
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from textfmt import seconds as format_seconds

_STATUS_COLOURS = {Status.OK: "green", Status.PENDING: "cyan", Status.WARN: "yellow"}


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A left-aligned plain-text table."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _status(status: Status) -> str:
    return click.style(status.value, fg=_STATUS_COLOURS.get(status, "red"))


def render_groups(groups: GroupList) -> str:
    """The table of every group."""
    if not groups.groups:
        return "no consumer groups"
    rows = [
        [
            g.group,
            g.state,
            str(g.members),
            str(g.partition_count),
            str(g.total_lag),
            str(g.max_lag),
            format_seconds(g.time_lag_seconds, g.time_lag_is_lower_bound),
            g.status.value,
            f"{g.completeness:.0%}",
            str(g.recommended_replicas),
            g.status_reason,
        ]
        for g in groups.groups
    ]
    headers = [
        "GROUP",
        "STATE",
        "MEMBERS",
        "PARTITIONS",
        "LAG",
        "MAX LAG",
        "TIME LAG",
        "STATUS",
        "WINDOW",
        "REPLICAS",
        "REASON",
    ]
    return table(headers, rows)


def render_detail(detail: GroupDetail) -> str:
    """One group: header, partitions and the recommendation."""
    lines = [
        f"group {detail.group}  state {detail.state}  members {detail.members}  "
        f"status {_status(detail.status)}",
        f"  {detail.status_reason}",
        f"lag {detail.total_lag}  time lag "
        f"{format_seconds(detail.time_lag_seconds, detail.time_lag_is_lower_bound)}  "
        f"completeness {detail.completeness:.0%}",
        f"recommended replicas {detail.recommended_replicas} "
        f"({detail.recommendation.action.replace('_', ' ')})",
        f"  {detail.recommendation_reason}",
    ]
    if detail.missing_topics:
        lines.append(f"offsets for deleted topics ignored: {', '.join(detail.missing_topics)}")
    rows = [
        [
            p.topic,
            str(p.partition),
            "-" if p.committed is None else str(p.committed),
            str(p.end_offset),
            str(p.lag),
            format_seconds(p.time_lag_seconds, p.time_lag_is_lower_bound),
            p.status.value,
            p.owner or "-",
            p.reason,
        ]
        for p in detail.partitions
    ]
    headers = ["TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "TIME LAG", "STATUS", "OWNER"]
    lines += ["", table([*headers, "REASON"], rows)]
    return "\n".join(lines)


@click.command("lag")
@cluster_options
@click.argument("group", required=False)
@click.option("--watch", is_flag=True, help="Keep sampling and refresh the view every interval.")
@click.option(
    "--interval",
    metavar="SECONDS",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600.0),
    help="Time between samples.",
)
@click.option(
    "--samples",
    default=2,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Samples to take before showing (rates need 2; statuses need a full window and "
    "show PENDING until then).",
)
@click.option("--window", default=10, show_default=True, type=click.IntRange(2, 1000))
@click.option("--allowed-lag", default=0, show_default=True, type=click.IntRange(0, None))
@click.option("--include", multiple=True, metavar="REGEX", help="Only groups matching this.")
@click.option("--exclude", multiple=True, metavar="REGEX", help="Skip groups matching this.")
@click.option("--json", "as_json", is_flag=True, help="Print the REST API's JSON instead.")
@user_errors
def lag(
    cluster_name: str | None,
    bootstrap: str | None,
    group: str | None,
    watch: bool,
    interval: float,
    samples: int,
    window: int,
    allowed_lag: int,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    as_json: bool,
) -> None:
    """Show consumer groups with lag, time lag, status and recommended replicas, or one
    GROUP's partitions in detail."""
    config = MonitorConfig(
        interval_seconds=interval,
        include=include or (".*",),
        exclude=exclude,
        events_topic=None,
        tracker=TrackerConfig(history_size=window, status=StatusPolicy(allowed_lag=allowed_lag)),
    )
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        monitor = LagMonitor(cluster, config)
        for index in range(samples):
            if index:
                time.sleep(interval)
            monitor.run_once(group)
        _show(monitor, group, as_json, clear=False)
        while watch:
            time.sleep(interval)
            monitor.run_once(group)
            _show(monitor, group, as_json, clear=True)
    except KeyboardInterrupt:
        pass
    finally:
        cluster.close()


def _show(monitor: LagMonitor, group: str | None, as_json: bool, clear: bool) -> None:
    if monitor.last_error:
        click.echo(f"warning: {monitor.last_error}", err=True)
    if group is None:
        groups = monitor.group_list()
        text = groups.model_dump_json(indent=2) if as_json else render_groups(groups)
    else:
        detail = monitor.group_detail(group)
        if detail is None:
            raise click.ClickException(f"consumer group {group!r} not found")
        text = detail.model_dump_json(indent=2) if as_json else render_detail(detail)
    if clear:
        click.clear()
    click.echo(text)
    if clear and not as_json:
        click.echo(
            f"\n{time.strftime('%H:%M:%S')}  {monitor.cycles} samples, every "
            f"{monitor.config.interval_seconds:g}s (Ctrl-C to stop)"
        )
