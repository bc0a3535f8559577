"""Consumer-group partition assignors, as Kafka's `RangeAssignor` and `RoundRobinAssignor`
define them. Pure functions over member subscriptions and partition counts.

`subscriptions` maps member id to the topics it subscribes to; `partitions` maps a topic to
its partition count (topics that do not exist are simply absent). Members are ordered by id,
as Kafka orders them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from engine.types import TopicPartition

Subscriptions = Mapping[str, Collection[str]]
Assignment = dict[str, list[TopicPartition]]


def range_assign(subscriptions: Subscriptions, partitions: Mapping[str, int]) -> Assignment:
    """Per topic, consecutive ranges of partitions to the subscribed members in id order;
    the first `n % members` members get one extra partition."""
    result: Assignment = {member: [] for member in subscriptions}
    topics = sorted({t for topics in subscriptions.values() for t in topics if t in partitions})
    for topic in topics:
        members = sorted(m for m, subscribed in subscriptions.items() if topic in subscribed)
        count = partitions[topic]
        per_member, extra = divmod(count, len(members))
        for index, member in enumerate(members):
            start = per_member * index + min(index, extra)
            length = per_member + (1 if index < extra else 0)
            result[member].extend(TopicPartition(topic, p) for p in range(start, start + length))
    return result


def roundrobin_assign(subscriptions: Subscriptions, partitions: Mapping[str, int]) -> Assignment:
    """Every partition of every subscribed topic (sorted by topic, then partition) dealt in
    turn to the members in id order, skipping members not subscribed to its topic."""
    result: Assignment = {member: [] for member in subscriptions}
    members = sorted(subscriptions)
    if not members:
        return result
    topics = sorted({t for topics in subscriptions.values() for t in topics if t in partitions})
    cursor = 0
    for topic in topics:
        for partition in range(partitions[topic]):
            while topic not in subscriptions[members[cursor % len(members)]]:
                cursor += 1
            result[members[cursor % len(members)]].append(TopicPartition(topic, partition))
            cursor += 1
    return result


#: The assignors by the protocol name Kafka gives them.
ASSIGNORS: dict[str, Callable[[Subscriptions, Mapping[str, int]], Assignment]] = {
    "range": range_assign,
    "roundrobin": roundrobin_assign,
}


def assign(
    strategy: str, subscriptions: Subscriptions, partitions: Mapping[str, int]
) -> Assignment:
    """Run the named assignor; `ValueError` names the known ones when it is unknown."""
    try:
        assignor = ASSIGNORS[strategy]
    except KeyError:
        raise ValueError(
            f"unknown partition assignor {strategy!r}: use one of {', '.join(sorted(ASSIGNORS))}"
        ) from None
    return assignor(subscriptions, partitions)
