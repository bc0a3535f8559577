"""Consumer-group offset resets over any `Cluster`, as `kafka-consumer-groups --reset-offsets`.

`plan_reset` computes, per partition, the committed offset now and the one a reset would set;
`apply_reset` commits a plan, refusing while the group has live members (Kafka's rule: only an
inactive group's offsets may be reset). `new_offset` is the pure rule in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from engine.cluster import Cluster
from engine.errors import GroupNotEmptyError, UnknownTopicOrPartitionError
from engine.types import (
    GroupDescription,
    GroupState,
    OffsetAndMetadata,
    OffsetSpec,
    TopicPartition,
)

_ACTIVE_STATES = frozenset(
    {GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE}
)


class ResetKind(StrEnum):
    """Where a reset moves each partition (the `--to-*` / `--shift-by` options)."""

    EARLIEST = "to-earliest"
    LATEST = "to-latest"
    DATETIME = "to-datetime"
    OFFSET = "to-offset"
    SHIFT_BY = "shift-by"
    CURRENT = "to-current"


@dataclass(frozen=True, slots=True)
class ResetTarget:
    """A reset request: the kind, and its value (ms timestamp, offset or shift) when it has one."""

    kind: ResetKind
    value: int | None = None

    def __post_init__(self) -> None:
        needs_value = self.kind in {ResetKind.DATETIME, ResetKind.OFFSET, ResetKind.SHIFT_BY}
        if needs_value and self.value is None:
            raise ValueError(f"reset {self.kind.value} needs a value")
        if self.kind == ResetKind.OFFSET and self.value is not None and self.value < 0:
            raise ValueError(f"reset to-offset needs an offset >= 0, got {self.value}")

    @classmethod
    def earliest(cls) -> ResetTarget:
        """Move to the earliest offset still in the log."""
        return cls(ResetKind.EARLIEST)

    @classmethod
    def latest(cls) -> ResetTarget:
        """Move to the end of the log (skip everything not yet consumed)."""
        return cls(ResetKind.LATEST)

    @classmethod
    def datetime_ms(cls, timestamp_ms: int) -> ResetTarget:
        """Move to the first record at or after this time (ms since the epoch)."""
        return cls(ResetKind.DATETIME, timestamp_ms)

    @classmethod
    def offset(cls, offset: int) -> ResetTarget:
        """Move to this offset (clamped into the log)."""
        return cls(ResetKind.OFFSET, offset)

    @classmethod
    def current(cls) -> ResetTarget:
        """Keep the committed offset (the end of the log where there is none), as Kafka's
        `--to-current` does; useful with an export."""
        return cls(ResetKind.CURRENT)

    @classmethod
    def shift_by(cls, delta: int) -> ResetTarget:
        """Move the committed offset by `delta` (negative rewinds)."""
        return cls(ResetKind.SHIFT_BY, delta)


@dataclass(frozen=True, slots=True)
class ResetPlanRow:
    """One partition of a reset: the committed offset now (None if none) and the new one."""

    topic: str
    partition: int
    current: int | None
    new: int

    @property
    def topic_partition(self) -> TopicPartition:
        """The partition this row moves."""
        return TopicPartition(self.topic, self.partition)


def new_offset(
    target: ResetTarget,
    *,
    current: int | None,
    earliest: int,
    latest: int,
    at_time: int | None = None,
) -> int:
    """The offset `target` moves a partition to, clamped into [earliest, latest] as Kafka does.

    `at_time` is the first offset at or after the requested time (to-datetime only; None means
    no record is that recent, so the end of the log). Shifting a partition with no committed
    offset shifts from the earliest offset."""
    if target.kind == ResetKind.EARLIEST:
        offset = earliest
    elif target.kind == ResetKind.LATEST:
        offset = latest
    elif target.kind == ResetKind.DATETIME:
        offset = latest if at_time is None else at_time
    elif target.kind == ResetKind.OFFSET:
        assert target.value is not None
        offset = target.value
    elif target.kind == ResetKind.CURRENT:
        offset = latest if current is None else current
    else:
        assert target.value is not None
        offset = (earliest if current is None else current) + target.value
    return max(earliest, min(latest, offset))


def group_is_active(description: GroupDescription) -> bool:
    """Whether a group has live members (or is rebalancing between them)."""
    return bool(description.members) or description.state in _ACTIVE_STATES


def parse_topic_spec(spec: str) -> tuple[str, tuple[int, ...] | None]:
    """`TOPIC` or `TOPIC:0,2` (kafka-consumer-groups' syntax) -> (topic, partitions or None)."""
    topic, sep, partitions = spec.partition(":")
    if not sep:
        return topic, None
    try:
        chosen = tuple(sorted({int(p) for p in partitions.split(",") if p.strip()}))
    except ValueError:
        raise ValueError(
            f"topic spec {spec!r} is not valid: use TOPIC or TOPIC:PARTITION[,PARTITION...]"
        ) from None
    if not chosen:
        raise ValueError(f"topic spec {spec!r} names no partitions")
    return topic, chosen


def plan_reset(
    cluster: Cluster, group: str, topics: Sequence[str] | None, target: ResetTarget
) -> list[ResetPlanRow]:
    """What a reset would commit, per partition, without changing anything.

    `topics` are `TOPIC` or `TOPIC:0,1` specs; None means every partition the group has a
    committed offset for (`--all-topics`). Rows are sorted by topic and partition."""
    committed = cluster.committed_offsets(group)
    specs: list[tuple[str, tuple[int, ...] | None]]
    if topics:
        specs = [parse_topic_spec(t) for t in topics]
    else:
        specs = [
            (t, tuple(sorted(tp.partition for tp in committed if tp.topic == t)))
            for t in sorted({tp.topic for tp in committed})
        ]
    rows: list[ResetPlanRow] = []
    for topic, only in specs:
        earliest = cluster.list_offsets(topic, OffsetSpec.EARLIEST)
        latest = cluster.list_offsets(topic, OffsetSpec.LATEST)
        at_time = (
            cluster.list_offsets(topic, target.value)
            if target.kind == ResetKind.DATETIME and target.value is not None
            else {}
        )
        for partition in only if only is not None else sorted(earliest):
            if partition not in earliest:
                raise UnknownTopicOrPartitionError(
                    f"Unknown partition {partition} of topic {topic!r} "
                    f"(it has {len(earliest)} partitions)"
                )
            previous = committed.get(TopicPartition(topic, partition))
            current = previous.offset if previous is not None else None
            rows.append(
                ResetPlanRow(
                    topic,
                    partition,
                    current,
                    new_offset(
                        target,
                        current=current,
                        earliest=earliest[partition],
                        latest=latest[partition],
                        at_time=at_time.get(partition),
                    ),
                )
            )
    return sorted(rows, key=lambda r: (r.topic, r.partition))


def plan_to_offsets(
    cluster: Cluster, group: str, offsets: Mapping[TopicPartition, int]
) -> list[ResetPlanRow]:
    """A plan moving each named partition to its own offset (kafka-consumer-groups'
    `--from-file`), clamped into the log like every other reset."""
    committed = cluster.committed_offsets(group)
    rows: list[ResetPlanRow] = []
    for topic in sorted({tp.topic for tp in offsets}):
        earliest = cluster.list_offsets(topic, OffsetSpec.EARLIEST)
        latest = cluster.list_offsets(topic, OffsetSpec.LATEST)
        for tp in sorted(tp for tp in offsets if tp.topic == topic):
            if tp.partition not in earliest:
                raise UnknownTopicOrPartitionError(
                    f"Unknown partition {tp.partition} of topic {topic!r} "
                    f"(it has {len(earliest)} partitions)"
                )
            previous = committed.get(tp)
            rows.append(
                ResetPlanRow(
                    topic,
                    tp.partition,
                    previous.offset if previous is not None else None,
                    new_offset(
                        ResetTarget.offset(offsets[tp]),
                        current=None,
                        earliest=earliest[tp.partition],
                        latest=latest[tp.partition],
                    ),
                )
            )
    return rows


def apply_reset(cluster: Cluster, group: str, plan: Sequence[ResetPlanRow]) -> None:
    """Commit a plan; `GroupNotEmptyError` while the group has live members."""
    description = cluster.describe_group(group)
    if group_is_active(description):
        raise GroupNotEmptyError(
            f"Consumer group {group!r} is active ({description.state.value}, "
            f"{len(description.members)} member(s) visible); stop its consumers before "
            "resetting offsets"
        )
    if plan:
        cluster.commit_offsets(
            group, {row.topic_partition: OffsetAndMetadata(row.new) for row in plan}
        )
