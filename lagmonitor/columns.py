"""One group's partitions in a sample, by column: what the sampler hands the tracker.

A `PartitionColumns` holds NumPy arrays with one row per partition (number, committed offset,
earliest and log-end offsets, head timestamp, whether the gap holds no records) and the
partitions' topics as runs of consecutive rows. The tracker reads whole columns at once
instead of one Python object per partition, and compares `layout` (topics and partition
numbers, compared as bytes) to tell whether a group's partition set changed since the last
sample. It is also a sequence of `PartitionObservation`s, built when read (tests and tools
that look at one partition).

`TopicOffsets` holds the earliest and log-end offsets a sample read, and `Assignment` a
group's partition owners, by column per topic.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import overload

import numpy as np
import numpy.typing as npt

from engine.types import TopicPartition
from lagmonitor.window import NO_COMMIT

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class PartitionObservation:
    """One partition of a group at sampling time."""

    topic: str
    partition: int
    committed: int | None
    earliest: int
    end: int
    head_timestamp: float | None = None
    no_records_behind: bool = False


class PartitionColumns(Sequence[PartitionObservation]):
    """A group's partitions at sampling time, one row each (see the module docstring).

    `committed` holds `NO_COMMIT` where the group has no commit and `heads` NaN where the head
    record's timestamp is unknown. `runs` names the topic of the rows: (topic, rows) pairs in
    row order.
    """

    __slots__ = ("committed", "earliest", "ends", "heads", "no_records_behind", "numbers", "runs")

    def __init__(
        self,
        runs: tuple[tuple[str, int], ...],
        numbers: Ints,
        committed: Ints,
        earliest: Ints,
        ends: Ints,
        heads: Floats | None = None,
        no_records_behind: Bools | None = None,
    ) -> None:
        rows = len(numbers)
        if sum(count for _, count in runs) != rows or not (
            len(committed) == len(earliest) == len(ends) == rows
        ):
            raise ValueError("partition columns must all have one row per partition")
        self.runs = runs
        self.numbers = numbers
        self.committed = committed
        self.earliest = earliest
        self.ends = ends
        self.heads = np.full(rows, np.nan) if heads is None else heads
        self.no_records_behind = (
            np.zeros(rows, np.bool_) if no_records_behind is None else no_records_behind
        )

    @classmethod
    def of(cls, partitions: Iterable[PartitionObservation]) -> PartitionColumns:
        """The columns of these observations (returned as they are if already columns)."""
        if isinstance(partitions, PartitionColumns):
            return partitions
        parts = tuple(partitions)
        rows = len(parts)
        return cls(
            tuple((topic, len(list(run))) for topic, run in groupby(p.topic for p in parts)),
            np.fromiter((p.partition for p in parts), np.int64, rows),
            np.fromiter(
                (NO_COMMIT if p.committed is None else p.committed for p in parts), np.int64, rows
            ),
            np.fromiter((p.earliest for p in parts), np.int64, rows),
            np.fromiter((p.end for p in parts), np.int64, rows),
            np.fromiter(
                (np.nan if p.head_timestamp is None else p.head_timestamp for p in parts),
                np.float64,
                rows,
            ),
            np.fromiter((p.no_records_behind for p in parts), np.bool_, rows),
        )

    @property
    def layout(self) -> tuple[tuple[tuple[str, int], ...], bytes]:
        """The topics and partition numbers, row by row, as one cheap comparable value."""
        return self.runs, self.numbers.tobytes()

    def topics(self) -> list[str]:
        """The topic of every row."""
        return [topic for topic, count in self.runs for _ in range(count)]

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> PartitionObservation: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[PartitionObservation]: ...
    def __getitem__(
        self, index: int | slice
    ) -> PartitionObservation | Sequence[PartitionObservation]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        row = range(len(self))[index]
        committed = int(self.committed[row])
        head = float(self.heads[row])
        return PartitionObservation(
            self.topics()[row],
            int(self.numbers[row]),
            None if committed == NO_COMMIT else committed,
            int(self.earliest[row]),
            int(self.ends[row]),
            None if np.isnan(head) else head,
            bool(self.no_records_behind[row]),
        )

    def __iter__(self) -> Iterator[PartitionObservation]:
        return (self[row] for row in range(len(self)))

    def __repr__(self) -> str:
        return f"PartitionColumns({list(self)!r})"


class TopicOffsets(Mapping[TopicPartition, tuple[int, int]]):
    """(earliest, log-end) offsets of every partition a sample read, by column per topic:
    `topics[topic]` is (partition numbers ascending, earliest offsets, log ends). Read as a
    mapping from topic partition to (earliest, end), which is built when read."""

    __slots__ = ("topics",)

    def __init__(self, topics: dict[str, tuple[Ints, Ints, Ints]]) -> None:
        self.topics = topics

    @classmethod
    def of(cls, offsets: Mapping[TopicPartition, tuple[int, int]]) -> TopicOffsets:
        """The columns of a plain mapping of (earliest, end) offsets."""
        by_topic: dict[str, list[tuple[int, int, int]]] = {}
        for tp, (earliest, end) in offsets.items():
            by_topic.setdefault(tp.topic, []).append((tp.partition, earliest, end))
        topics: dict[str, tuple[Ints, Ints, Ints]] = {}
        for topic, rows in by_topic.items():
            table = np.array(sorted(rows), np.int64)
            topics[topic] = (table[:, 0].copy(), table[:, 1].copy(), table[:, 2].copy())
        return cls(topics)

    def __getitem__(self, tp: TopicPartition) -> tuple[int, int]:
        columns = self.topics.get(tp.topic)
        if columns is not None:
            numbers, earliest, ends = columns
            index = int(np.searchsorted(numbers, tp.partition))
            if index < len(numbers) and numbers[index] == tp.partition:
                return int(earliest[index]), int(ends[index])
        raise KeyError(tp)

    def __iter__(self) -> Iterator[TopicPartition]:
        for topic, (numbers, _, _) in self.topics.items():
            for number in numbers.tolist():
                yield TopicPartition(topic, number)

    def __len__(self) -> int:
        return sum(len(numbers) for numbers, _, _ in self.topics.values())

    def __repr__(self) -> str:
        return f"TopicOffsets({dict(self)!r})"


Owner = tuple[str, str, str]


class Assignment(Mapping[TopicPartition, Owner]):
    """Which member owns each assigned partition of a group, by column per topic:
    `topics[topic]` is (partition numbers ascending, each one's index in `members`). Read as a
    mapping from topic partition to its owner (member id, client id, host)."""

    __slots__ = ("_lookup", "members", "topics")

    def __init__(self, members: tuple[Owner, ...], topics: dict[str, tuple[Ints, Ints]]) -> None:
        self.members = members
        self.topics = topics
        self._lookup: dict[TopicPartition, Owner] | None = None

    @classmethod
    def of_members(cls, members: Iterable[tuple[Owner, Iterable[TopicPartition]]]) -> Assignment:
        """The columns of each member's assigned partitions (a partition listed by two
        members belongs to the later one)."""
        owners: list[Owner] = []
        by_topic: dict[str, dict[int, int]] = {}
        for index, (owner, assigned) in enumerate(members):
            owners.append(owner)
            for tp in assigned:
                by_topic.setdefault(tp.topic, {})[tp.partition] = index
        return cls(
            tuple(owners), {topic: _sorted_columns(rows) for topic, rows in by_topic.items()}
        )

    @classmethod
    def of(cls, owners: Mapping[TopicPartition, Owner]) -> Assignment:
        """The columns of a plain mapping of owners."""
        grouped: dict[Owner, list[TopicPartition]] = {}
        for tp, owner in owners.items():
            grouped.setdefault(owner, []).append(tp)
        return cls.of_members(grouped.items())

    def _owners(self) -> dict[TopicPartition, Owner]:
        # Built on the first look-up: a group's owners are looked up one partition at a time
        # (standing partitions, views), often many of them.
        if self._lookup is None:
            members = self.members
            self._lookup = {
                TopicPartition(topic, number): members[owner]
                for topic, (numbers, owners) in self.topics.items()
                for number, owner in zip(numbers.tolist(), owners.tolist(), strict=True)
            }
        return self._lookup

    def __getitem__(self, tp: TopicPartition) -> Owner:
        return self._owners()[tp]

    def __contains__(self, tp: object) -> bool:
        return tp in self._owners()

    def __iter__(self) -> Iterator[TopicPartition]:
        for topic, (numbers, _) in self.topics.items():
            for number in numbers.tolist():
                yield TopicPartition(topic, number)

    def __len__(self) -> int:
        return sum(len(numbers) for numbers, _ in self.topics.values())

    def __repr__(self) -> str:
        return f"Assignment({dict(self)!r})"


def _sorted_columns(values: dict[int, int]) -> tuple[Ints, Ints]:
    """(keys ascending, their values) of a partition-keyed dict, as two columns."""
    numbers = np.array(sorted(values), np.int64)
    return numbers, np.array([values[n] for n in numbers.tolist()], np.int64)
