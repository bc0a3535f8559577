"""Prometheus text exposition of the monitor's state, with kafka-lag-exporter's metric names and
labels (so its dashboards work unchanged) plus streamgov's status and recommendation."""

from __future__ import annotations

import math
from collections.abc import Iterable

from lagmonitor.model import Status
from lagmonitor.tracker import LagTracker

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP: dict[str, tuple[str, str]] = {
    "kafka_consumergroup_group_offset": ("gauge", "Committed offset of the group per partition."),
    "kafka_consumergroup_group_lag": ("gauge", "Offset lag of the group per partition."),
    "kafka_consumergroup_group_lag_seconds": ("gauge", "Time lag of the group per partition."),
    "kafka_consumergroup_group_max_lag": ("gauge", "Largest partition offset lag of the group."),
    "kafka_consumergroup_group_max_lag_seconds": ("gauge", "Largest partition time lag."),
    "kafka_consumergroup_group_sum_lag": ("gauge", "Total offset lag of the group."),
    "kafka_consumergroup_group_topic_sum_lag": ("gauge", "Offset lag of the group per topic."),
    "kafka_partition_latest_offset": ("gauge", "Log-end offset of the partition."),
    "kafka_partition_earliest_offset": ("gauge", "Earliest offset of the partition."),
    "kafka_consumergroup_poll_time_ms": ("gauge", "Time the last sampling pass took."),
    "streamgov_lag_group_status": (
        "gauge",
        "1 for the group's current status (OK, PENDING, WARN, ERR).",
    ),
    "streamgov_lag_partition_status": ("gauge", "1 for the partition's current status."),
    "streamgov_lag_group_members": ("gauge", "Members of the group."),
    "streamgov_lag_recommended_replicas": ("gauge", "Replica count the controller recommends."),
    "streamgov_lag_group_completeness": ("gauge", "Share of partitions with a full window."),
}

_GROUP_STATUSES = (Status.OK, Status.PENDING, Status.WARN, Status.ERR)


def escape(value: str) -> str:
    """A label value in exposition format (backslash, double quote and newline escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(pairs: Iterable[tuple[str, object]]) -> str:
    return "{" + ",".join(f'{key}="{escape(str(value))}"' for key, value in pairs) + "}"


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def render(tracker: LagTracker, cluster_name: str) -> str:
    """The full exposition text for every evaluated group."""
    samples: dict[str, list[str]] = {name: [] for name in _HELP}

    def add(name: str, labels: Iterable[tuple[str, object]], value: float) -> None:
        samples[name].append(f"{name}{_labels(labels)} {_number(value)}")

    cluster = (("cluster_name", cluster_name),)
    for tp in sorted(tracker.topic_offsets):
        earliest, end = tracker.topic_offsets[tp]
        topic_labels = (*cluster, ("topic", tp.topic), ("partition", tp.partition))
        add("kafka_partition_latest_offset", topic_labels, end)
        add("kafka_partition_earliest_offset", topic_labels, earliest)
    add("kafka_consumergroup_poll_time_ms", cluster, round(tracker.poll_ms, 3))

    for name in sorted(tracker.groups):
        track = tracker.groups[name]
        if track.status is None or track.recommendation is None:
            continue
        group = (*cluster, ("group", name))
        simple = (*group, ("is_simple_consumer", str(track.simple).lower()))
        topic_sums: dict[str, int] = {}
        max_seconds = 0.0
        for part in track.partitions():
            member_id, client_id, host = part.owner or ("", "", "")
            part_labels = (
                *group,
                ("topic", part.topic),
                ("partition", part.partition),
                ("member_host", host),
                ("consumer_id", member_id),
                ("client_id", client_id),
            )
            if part.committed is not None:
                add("kafka_consumergroup_group_offset", part_labels, part.committed)
            add("kafka_consumergroup_group_lag", part_labels, part.lag)
            if part.time_lag is not None:
                add(
                    "kafka_consumergroup_group_lag_seconds",
                    part_labels,
                    round(part.time_lag.seconds, 3),
                )
                max_seconds = max(max_seconds, part.time_lag.seconds)
            topic_sums[part.topic] = topic_sums.get(part.topic, 0) + part.lag
            for status in Status:
                if status is not Status.ERR:
                    add(
                        "streamgov_lag_partition_status",
                        (
                            *group,
                            ("topic", part.topic),
                            ("partition", part.partition),
                            ("status", status.value),
                        ),
                        1 if part.status.status is status else 0,
                    )
        worst = track.max_lag_track
        add("kafka_consumergroup_group_max_lag", simple, 0 if worst is None else worst.lag)
        add("kafka_consumergroup_group_max_lag_seconds", simple, round(max_seconds, 3))
        add("kafka_consumergroup_group_sum_lag", group, track.total_lag)
        for topic in sorted(topic_sums):
            add(
                "kafka_consumergroup_group_topic_sum_lag",
                (*group, ("topic", topic)),
                topic_sums[topic],
            )
        for status in _GROUP_STATUSES:
            add(
                "streamgov_lag_group_status",
                (*group, ("status", status.value)),
                1 if track.status.status is status else 0,
            )
        add("streamgov_lag_group_members", group, track.members)
        add("streamgov_lag_recommended_replicas", group, track.recommendation.replicas)
        add("streamgov_lag_group_completeness", group, round(track.status.completeness, 4))

    lines = []
    for name, (kind, text) in _HELP.items():
        lines.append(f"# HELP {name} {text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(samples[name])
    return "\n".join(lines) + "\n"
