"""Range and round-robin assignors: Kafka's documented examples and general properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.assignors import ASSIGNORS, assign, range_assign, roundrobin_assign
from engine.types import TopicPartition


def tps(spec: str) -> list[TopicPartition]:
    """'t0p0 t1p2' -> [TopicPartition('t0', 0), TopicPartition('t1', 2)]"""
    out = []
    for item in spec.split():
        topic, _, part = item.partition("p")
        out.append(TopicPartition(topic, int(part)))
    return out


def test_range_example_from_kafka_docs() -> None:
    # Two consumers C0, C1, two topics with three partitions each.
    result = range_assign({"C0": {"t0", "t1"}, "C1": {"t0", "t1"}}, {"t0": 3, "t1": 3})
    assert result == {"C0": tps("t0p0 t0p1 t1p0 t1p1"), "C1": tps("t0p2 t1p2")}


def test_roundrobin_examples_from_kafka_docs() -> None:
    result = roundrobin_assign({"C0": {"t0", "t1"}, "C1": {"t0", "t1"}}, {"t0": 3, "t1": 3})
    assert result == {"C0": tps("t0p0 t0p2 t1p1"), "C1": tps("t0p1 t1p0 t1p2")}
    # Unequal subscriptions: C0 -> t0; C1 -> t0, t1; C2 -> t0, t1, t2 (1, 2, 3 partitions).
    result = roundrobin_assign(
        {"C0": {"t0"}, "C1": {"t0", "t1"}, "C2": {"t0", "t1", "t2"}},
        {"t0": 1, "t1": 2, "t2": 3},
    )
    assert result == {
        "C0": tps("t0p0"),
        "C1": tps("t1p0"),
        "C2": tps("t1p1 t2p0 t2p1 t2p2"),
    }


def test_missing_topics_and_unknown_assignor() -> None:
    assert range_assign({"a": {"gone"}}, {}) == {"a": []}
    assert roundrobin_assign({}, {"t": 3}) == {}
    with pytest.raises(ValueError, match="range, roundrobin"):
        assign("sticky", {"a": {"t"}}, {"t": 1})


subscriptions = st.dictionaries(
    st.text("abcdef", min_size=1, max_size=4),
    st.sets(st.sampled_from(["t0", "t1", "t2", "t3"]), min_size=1),
    min_size=1,
    max_size=6,
)
partition_counts = st.dictionaries(
    st.sampled_from(["t0", "t1", "t2", "t3"]), st.integers(1, 12), min_size=1
)


@settings(deadline=None, max_examples=150)
@given(subs=subscriptions, counts=partition_counts, strategy=st.sampled_from(sorted(ASSIGNORS)))
def test_every_partition_is_assigned_exactly_once_to_a_subscriber(
    subs: dict[str, set[str]], counts: dict[str, int], strategy: str
) -> None:
    result = assign(strategy, subs, counts)
    assert set(result) == set(subs)
    assigned = [tp for parts in result.values() for tp in parts]
    wanted = {
        TopicPartition(t, p)
        for t in set().union(*subs.values())
        if t in counts
        for p in range(counts[t])
    }
    assert len(assigned) == len(set(assigned))
    assert set(assigned) == wanted
    for member, parts in result.items():
        assert all(tp.topic in subs[member] for tp in parts)


@settings(deadline=None, max_examples=150)
@given(subs=subscriptions, counts=partition_counts, strategy=st.sampled_from(sorted(ASSIGNORS)))
def test_balanced_per_topic_when_everyone_subscribes_to_the_same_topics(
    subs: dict[str, set[str]], counts: dict[str, int], strategy: str
) -> None:
    topics = set().union(*subs.values())
    same = dict.fromkeys(subs, topics)
    result = assign(strategy, same, counts)
    sizes = [len(parts) for parts in result.values()]
    assert max(sizes) - min(sizes) <= (len(topics) if strategy == "range" else 1)
    for topic in topics & set(counts):
        per_topic = [sum(tp.topic == topic for tp in parts) for parts in result.values()]
        if strategy == "range":
            assert max(per_topic) - min(per_topic) <= 1


@settings(deadline=None, max_examples=50)
@given(subs=subscriptions, counts=partition_counts, strategy=st.sampled_from(sorted(ASSIGNORS)))
def test_deterministic_whatever_the_member_order(
    subs: dict[str, set[str]], counts: dict[str, int], strategy: str
) -> None:
    reversed_subs = dict(reversed(list(subs.items())))
    assert assign(strategy, subs, counts) == assign(strategy, reversed_subs, counts)
