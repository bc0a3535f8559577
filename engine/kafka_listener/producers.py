"""Idempotent producers: producer ids, epochs and per-partition sequence de-duplication.

Kafka's rules (ProducerAppendInfo): per (producer id, partition) the broker keeps the epoch
and the last five batches' (first sequence, last sequence, base offset). A batch equal to a
cached one is a duplicate (answered with its original offset, not appended again); otherwise
its first sequence must follow the last one, or it is out of order. A newer epoch starts again
at sequence 0; an older epoch is fenced. The batches are also stored with the records they
were appended with (`EmbeddedEngine.producer_batches`), so that a batch retried across a
restart is still recognised: state the registry does not hold is recalled from there through
the `recall` function it is given. A producer id with no state anywhere accepts any sequence
(it expired, as Kafka's do after a day). No I/O of its own.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.kafka_listener import errors

_CACHED_BATCHES = 5


@dataclass
class _PartitionState:
    epoch: int
    batches: deque[tuple[int, int, int]] = field(
        default_factory=lambda: deque(maxlen=_CACHED_BATCHES)
    )


@dataclass(frozen=True, slots=True)
class Check:
    """The verdict on a batch: append it, answer a duplicate's offset, or refuse it."""

    error: int = errors.NONE
    duplicate_offset: int | None = None


#: Recalls the stored batches of (producer id, topic, partition): (epoch, first sequence, last
#: sequence, base offset), oldest first.
Recall = Callable[[int, str, int], list[tuple[int, int, int, int]]]


class ProducerRegistry:
    """Producer ids and the sequence state of every (producer, partition)."""

    def __init__(self, first_id: int | None = None, recall: Recall | None = None) -> None:
        self._recall = recall
        # Ids start from the clock so that ids handed out before a restart are not reused.
        start = first_id if first_id is not None else time.time_ns() // 1_000_000
        self._ids = itertools.count(start)
        self._state: dict[tuple[int, str, int], _PartitionState] = {}

    def new_id(self) -> int:
        """A producer id never handed out before."""
        return next(self._ids)

    def check(
        self, pid: int, epoch: int, topic: str, partition: int, first: int, last: int
    ) -> Check:
        """Whether a batch with sequences first..last may be appended."""
        if pid < 0:
            return Check()
        if first < 0:
            return Check(errors.INVALID_RECORD)
        state = self._state.get((pid, topic, partition)) or self._recalled(pid, topic, partition)
        if state is None:
            return Check()
        if epoch < state.epoch:
            return Check(errors.INVALID_PRODUCER_EPOCH)
        if epoch > state.epoch:
            return Check() if first == 0 else Check(errors.OUT_OF_ORDER_SEQUENCE_NUMBER)
        for cached_first, cached_last, offset in state.batches:
            if (cached_first, cached_last) == (first, last):
                return Check(duplicate_offset=offset)
        if state.batches and first != (state.batches[-1][1] + 1) & 0x7FFFFFFF:
            return Check(errors.OUT_OF_ORDER_SEQUENCE_NUMBER)
        return Check()

    def _recalled(self, pid: int, topic: str, partition: int) -> _PartitionState | None:
        """The stored state of (producer, partition), kept from now on; None if there is none."""
        batches = self._recall(pid, topic, partition) if self._recall is not None else []
        if not batches:
            return None
        epoch = batches[-1][0]
        state = self._state[(pid, topic, partition)] = _PartitionState(epoch)
        state.batches.extend((f, last, o) for e, f, last, o in batches if e == epoch)
        return state

    def appended(
        self, pid: int, epoch: int, topic: str, partition: int, first: int, last: int, offset: int
    ) -> None:
        """Remember an appended batch."""
        if pid < 0:
            return
        key = (pid, topic, partition)
        state = self._state.get(key)
        if state is None or epoch != state.epoch:
            state = self._state[key] = _PartitionState(epoch)
        state.batches.append((first, last, offset))

    def forget_topic(self, topic: str) -> None:
        """Drop the state of a deleted topic."""
        for key in [k for k in list(self._state) if k[1] == topic]:
            del self._state[key]
