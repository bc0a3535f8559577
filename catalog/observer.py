"""Reads consumer groups off a cluster into `GroupObservation`s: the I/O side of
`catalog.consumers`."""

from __future__ import annotations

import logging
from collections import defaultdict

from catalog.consumers import GroupObservation
from engine.cluster import Cluster
from engine.errors import EngineError
from engine.types import GroupState, OffsetSpec

logger = logging.getLogger(__name__)

_LIVE_STATES = {GroupState.STABLE, GroupState.PREPARING_REBALANCE, GroupState.COMPLETING_REBALANCE}


def observe_groups(cluster: Cluster) -> dict[str, GroupObservation]:
    """Every consumer group with its committed offsets, lag and live topics, by group id.

    A group whose members report no assignment (some brokers do not say) is taken as live on
    every topic it has committed offsets on while it has members.
    """
    ends: dict[str, dict[int, int]] = {}

    def end_offsets(topic: str) -> dict[int, int]:
        if topic not in ends:
            try:
                ends[topic] = cluster.list_offsets(topic, OffsetSpec.LATEST)
            except EngineError:
                ends[topic] = {}
        return ends[topic]

    observations: dict[str, GroupObservation] = {}
    for listing in cluster.list_groups():
        group = listing.group_id
        try:
            committed = cluster.committed_offsets(group)
            description = cluster.describe_group(group)
        except EngineError as exc:
            logger.info("catalog: group %s could not be read: %s", group, exc)
            continue
        totals: dict[str, int] = defaultdict(int)
        lag: dict[str, int] = defaultdict(int)
        for tp, position in committed.items():
            totals[tp.topic] += position.offset
            end = end_offsets(tp.topic).get(tp.partition)
            if end is not None:
                lag[tp.topic] += max(0, end - position.offset)
        live: set[str] = set()
        if description.members and description.state in _LIVE_STATES:
            assigned = {tp.topic for m in description.members for tp in m.assignment}
            live = assigned or set(totals)
        observations[group] = GroupObservation(
            group=group, committed=dict(totals), lag=dict(lag), live_topics=frozenset(live)
        )
    return observations
