"""Failover and failback of consumer groups: commit the latest checkpoints on the target,
after checking the group has no live members there."""

from __future__ import annotations

from dataclasses import dataclass

from engine.cluster import Cluster
from engine.types import OffsetAndMetadata, TopicPartition
from replicator.worker import Replicator, group_is_live


class GroupLiveError(Exception):
    """The group has live members on the target: committing under them would be overwritten
    or refused."""


class NoCheckpointsError(Exception):
    """No checkpoint exists for the group: nothing to fail over to."""


@dataclass(frozen=True)
class Move:
    """One partition of a failover plan."""

    group: str
    topic: str
    partition: int
    upstream: int
    current: int | None
    offset: int


def plan(replicator: Replicator, groups: list[str] | None) -> list[Move]:
    """The per-partition plan: the newest checkpoint of each partition of each group (every
    checkpointed group when `groups` is None). Raises `NoCheckpointsError` for a named group
    without checkpoints and `GroupLiveError` for one with live members on the target."""
    checkpoints = replicator.checkpoints()
    named = sorted({k[0] for k in checkpoints}) if groups is None else groups
    moves: list[Move] = []
    for group in named:
        mine = sorted((k, cp) for k, cp in checkpoints.items() if k[0] == group)
        if not mine:
            raise NoCheckpointsError(
                f"group {group!r} has no checkpoints from {replicator.flow.source!r} on "
                f"{replicator.flow.target!r}: run the flow with --groups naming it first"
            )
        if group_is_live(replicator.target, group):
            raise GroupLiveError(
                f"group {group!r} has live members on {replicator.flow.target!r}: stop them "
                "before failing over"
            )
        have = replicator.target.committed_offsets(group)
        for (_, topic, partition), cp in mine:
            current = have.get(TopicPartition(topic, partition))
            moves.append(
                Move(
                    group,
                    topic,
                    partition,
                    cp.upstream,
                    current.offset if current is not None else None,
                    cp.downstream,
                )
            )
    return moves


def apply(target: Cluster, moves: list[Move]) -> None:
    """Commit the plan, one commit per group."""
    by_group: dict[str, dict[TopicPartition, OffsetAndMetadata]] = {}
    for move in moves:
        by_group.setdefault(move.group, {})[TopicPartition(move.topic, move.partition)] = (
            OffsetAndMetadata(move.offset)
        )
    for group, offsets in by_group.items():
        target.commit_offsets(group, offsets)
