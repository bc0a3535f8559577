"""A group's partitions by column: built from observations, read back as observations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lagmonitor.columns import PartitionColumns, PartitionObservation

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
