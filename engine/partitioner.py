"""Kafka's default partitioner for keyed records: murmur2, exactly as the Java client computes it.

`partition_for_key(key, n) == toPositive(murmur2(key)) % n`, so a key lands on the same
partition as with the Java producer and librdkafka's `murmur2_random` partitioner. A C fast path
(`engine._fastpath`, built by `pip install` when a compiler is available) computes the same
values; the pure-Python version below is the reference and the fallback.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence

from engine.fastpath import native

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF
#: The little-endian word readers of each key length in words, made once per length.
_WORDS: dict[int, struct.Struct] = {}


def murmur2_py(data: bytes) -> int:
    """Kafka's `Utils.murmur2` as a signed 32-bit int (pure Python reference)."""
    length = len(data)
    h = (_SEED ^ length) & _MASK
    n4 = length >> 2
    words = _WORDS.get(n4)
    if words is None:
        words = _WORDS.setdefault(n4, struct.Struct(f"<{n4}I"))
    for k in words.unpack_from(data):
        k = (k * _M) & _MASK
        k ^= k >> 24
        k = (k * _M) & _MASK
        h = ((h * _M) & _MASK) ^ k
    tail = length & 3
    base = length & ~3
    if tail == 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    h ^= h >> 15
    return h - 0x100000000 if h & 0x80000000 else h


def partition_for_key_py(key: bytes, num_partitions: int) -> int:
    """`toPositive(murmur2(key)) % num_partitions` (pure Python reference)."""
    return (murmur2_py(key) & 0x7FFFFFFF) % num_partitions


def partitions_for_keys_py(keys: Sequence[bytes], num_partitions: int) -> list[int]:
    """The partition of every key, in order (pure Python reference)."""
    return [(murmur2_py(k) & 0x7FFFFFFF) % num_partitions for k in keys]


murmur2: Callable[[bytes], int]
partition_for_key: Callable[[bytes, int], int]
partitions_for_keys: Callable[[Sequence[bytes], int], list[int]]

if native is None:
    HAVE_C_MURMUR2 = False
    murmur2 = murmur2_py
    partition_for_key = partition_for_key_py
    partitions_for_keys = partitions_for_keys_py
else:
    HAVE_C_MURMUR2 = True
    murmur2 = native.murmur2
    partition_for_key = native.partition_for_key
    partitions_for_keys = native.partitions_for_keys


def to_positive(value: int) -> int:
    """Kafka's `Utils.toPositive`: clear the sign bit (not `abs`, which fails on MIN_VALUE)."""
    return value & 0x7FFFFFFF


__all__ = [
    "HAVE_C_MURMUR2",
    "murmur2",
    "murmur2_py",
    "partition_for_key",
    "partition_for_key_py",
    "partitions_for_keys",
    "partitions_for_keys_py",
    "to_positive",
]
