"""Kafka's murmur2 partitioner: Kafka's own test vectors and the C/Python equivalence."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import partitioner
from engine.partitioner import (
    murmur2,
    murmur2_py,
    partition_for_key,
    partition_for_key_py,
    partitions_for_keys,
    partitions_for_keys_py,
    to_positive,
)

# The vectors of Kafka's UtilsTest.testMurmur2 (clients/src/test/.../utils/UtilsTest.java).
KAFKA_VECTORS = [
    (b"21", -973932308),
    (b"foobar", -790332482),
    (b"a-little-bit-long-string", -985981536),
    (b"a-little-bit-longer-string", -1486304829),
    (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
    (b"abc", 479470107),
]


@pytest.mark.parametrize(("data", "expected"), KAFKA_VECTORS)
def test_murmur2_matches_kafka_vectors(data: bytes, expected: int) -> None:
    assert murmur2_py(data) == expected
    assert murmur2(data) == expected


def test_to_positive_clears_the_sign_bit_like_kafka() -> None:
    assert to_positive(-(2**31)) == 0
    assert to_positive(-1) == 2**31 - 1
    assert to_positive(5) == 5


def test_partition_is_to_positive_murmur2_modulo() -> None:
    for data, expected in KAFKA_VECTORS:
        assert partition_for_key(data, 7) == to_positive(expected) % 7


def test_empty_key_is_hashed_not_treated_as_keyless() -> None:
    assert murmur2(b"") == murmur2_py(b"")
    assert partition_for_key(b"", 3) == to_positive(murmur2_py(b"")) % 3


@settings(deadline=None, max_examples=300)
@given(data=st.binary(max_size=80), partitions=st.integers(min_value=1, max_value=1000))
def test_fast_path_equals_reference(data: bytes, partitions: int) -> None:
    assert murmur2(data) == murmur2_py(data)
    assert partition_for_key(data, partitions) == partition_for_key_py(data, partitions)
    assert -(2**31) <= murmur2(data) < 2**31


@settings(deadline=None, max_examples=50)
@given(
    keys=st.lists(st.binary(max_size=40), max_size=30),
    partitions=st.integers(min_value=1, max_value=64),
)
def test_batch_partitioning_equals_per_key(keys: list[bytes], partitions: int) -> None:
    expected = [partition_for_key_py(k, partitions) for k in keys]
    assert partitions_for_keys(keys, partitions) == expected
    assert partitions_for_keys_py(keys, partitions) == expected


def test_reports_whether_the_c_fast_path_is_loaded() -> None:
    assert isinstance(partitioner.HAVE_C_MURMUR2, bool)
