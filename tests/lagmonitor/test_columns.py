"""A group's partitions by column: built from observations, read back as observations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.types import TopicPartition
from lagmonitor.columns import Assignment, PartitionColumns, PartitionObservation, TopicOffsets

observations = st.builds(
    PartitionObservation,
    topic=st.sampled_from(["a", "b", "c"]),
    partition=st.integers(0, 5),
    committed=st.one_of(st.none(), st.integers(0, 2**40)),
    earliest=st.integers(0, 10),
    end=st.integers(0, 2**40),
    head_timestamp=st.one_of(st.none(), st.floats(0, 1e10)),
    no_records_behind=st.booleans(),
)


@given(st.lists(observations, max_size=12))
def test_columns_read_back_as_the_observations(parts: list[PartitionObservation]) -> None:
    columns = PartitionColumns.of(parts)
    assert list(columns) == parts
    assert len(columns) == len(parts)
    assert columns.topics() == [p.topic for p in parts]
    assert PartitionColumns.of(columns) is columns
    if parts:
        assert columns[-1] == parts[-1]
        assert columns[1:] == parts[1:]


@given(st.lists(observations, max_size=8), st.lists(observations, max_size=8))
def test_layout_is_equal_exactly_for_the_same_topics_and_partitions(
    first: list[PartitionObservation], second: list[PartitionObservation]
) -> None:
    same = [(p.topic, p.partition) for p in first] == [(p.topic, p.partition) for p in second]
    assert (PartitionColumns.of(first).layout == PartitionColumns.of(second).layout) == same


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="one row per partition"):
        PartitionColumns(
            (("a", 2),),
            np.array([0, 1]),
            np.array([0]),
            np.array([0, 0]),
            np.array([0, 0]),
        )


@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "c"]),
        st.dictionaries(st.integers(0, 9), st.tuples(st.integers(0, 5), st.integers(5, 99))),
    )
)
def test_topic_offsets_read_as_the_mapping_they_hold(
    offsets: dict[str, dict[int, tuple[int, int]]],
) -> None:
    columns = TopicOffsets(
        {
            topic: (
                np.array(sorted(bounds), np.int64),
                np.array([bounds[p][0] for p in sorted(bounds)], np.int64),
                np.array([bounds[p][1] for p in sorted(bounds)], np.int64),
            )
            for topic, bounds in offsets.items()
        }
    )
    plain = {
        TopicPartition(topic, p): bounds[p] for topic, bounds in offsets.items() for p in bounds
    }
    assert dict(columns) == plain
    assert dict(TopicOffsets.of(plain)) == plain
    assert len(columns) == len(plain)
    for topic in ("a", "b", "c", "d"):
        for number in range(11):
            tp = TopicPartition(topic, number)
            assert (tp in columns) == (tp in plain)
            assert columns.get(tp) == plain.get(tp)


@given(
    st.dictionaries(
        st.builds(TopicPartition, st.sampled_from(["a", "b"]), st.integers(0, 9)),
        st.sampled_from([("m1", "c1", "h"), ("m2", "c2", "h"), ("m3", "c1", "h2")]),
    )
)
def test_assignment_reads_as_the_owners_it_holds(
    owners: dict[TopicPartition, tuple[str, str, str]],
) -> None:
    columns = Assignment.of(owners)
    assert dict(columns) == owners
    assert len(columns) == len(owners)
    assert bool(columns) == bool(owners)
    for topic in ("a", "b", "c"):
        for number in range(11):
            tp = TopicPartition(topic, number)
            assert (tp in columns) == (tp in owners)
            assert columns.get(tp) == owners.get(tp)


def test_a_partition_listed_by_two_members_belongs_to_the_later() -> None:
    tp = TopicPartition("a", 0)
    columns = Assignment.of_members([(("m1", "c", "h"), [tp]), (("m2", "c", "h"), [tp])])
    assert dict(columns) == {tp: ("m2", "c", "h")}
