"""The transaction coordinator: transactional producer ids and epochs, the partitions and
groups of each open transaction, and what commit and abort do to the log.

A transactional batch is appended at once (it gets its real offsets, as in Kafka); while its
transaction is open it holds the partition's last stable offset (LSO) back, so read_committed
fetches stop before it. Commit applies the transaction's pending group offsets and releases
the LSO. Abort removes the transaction's records from the log (their offsets stay as gaps, as
compaction leaves them), so no reader of any kind ever sees aborted data. No control
markers are written: offsets stay dense, and consumers need none to skip aborted records.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from engine.embedded.engine import EmbeddedEngine
from engine.errors import EngineError
from engine.kafka_listener import errors
from engine.kafka_listener.producers import ProducerRegistry
from engine.types import OffsetAndMetadata, TopicPartition

#: Kafka's `transaction.max.timeout.ms`.
MAX_TRANSACTION_TIMEOUT_MS = 900_000
_MAX_EPOCH = 32_767


@dataclass
class _Transaction:
    transactional_id: str
    producer_id: int
    epoch: int
    timeout_ms: int
    started: float | None = None
    partitions: set[TopicPartition] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    ranges: dict[TopicPartition, list[tuple[int, int]]] = field(default_factory=dict)
    offsets: dict[str, dict[TopicPartition, OffsetAndMetadata]] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return bool(self.partitions or self.groups)


class TransactionCoordinator:
    """Every transactional id this broker knows (in memory: a restart aborts nothing that
    was appended, see docs/kafka-listener.md)."""

    def __init__(
        self,
        engine: EmbeddedEngine,
        producers: ProducerRegistry,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self._producers = producers
        self._clock = clock
        self._lock = threading.RLock()
        self._by_id: dict[str, _Transaction] = {}
        self._by_pid: dict[int, _Transaction] = {}
        self._on_end: Callable[[], None] = lambda: None

    def on_end(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each commit or abort (wakes long-polling fetches)."""
        self._on_end = callback

    # -- producer ids --------------------------------------------------------------------------

    def init_producer_id(
        self, transactional_id: str | None, timeout_ms: int
    ) -> tuple[int, int, int]:
        """(error, producer id, epoch) for InitProducerId; a transactional id keeps its
        producer id and gets the next epoch, aborting its open transaction (fencing)."""
        if transactional_id is None:
            return errors.NONE, self._producers.new_id(), 0
        if not 0 < timeout_ms <= MAX_TRANSACTION_TIMEOUT_MS:
            return errors.INVALID_TRANSACTION_TIMEOUT, -1, -1
        with self._lock:
            txn = self._by_id.get(transactional_id)
            if txn is None:
                txn = _Transaction(transactional_id, self._producers.new_id(), 0, timeout_ms)
            else:
                if txn.open:
                    self._finish(txn, commit=False)
                self._by_pid.pop(txn.producer_id, None)
                if txn.epoch >= _MAX_EPOCH:
                    txn = _Transaction(transactional_id, self._producers.new_id(), 0, timeout_ms)
                else:
                    txn = _Transaction(transactional_id, txn.producer_id, txn.epoch + 1, timeout_ms)
            self._by_id[transactional_id] = txn
            self._by_pid[txn.producer_id] = txn
            return errors.NONE, txn.producer_id, txn.epoch

    def _current(self, transactional_id: str | None, pid: int, epoch: int) -> _Transaction | int:
        txn = self._by_id.get(transactional_id or "")
        if txn is None or txn.producer_id != pid:
            return errors.INVALID_PRODUCER_ID_MAPPING
        if epoch < txn.epoch:
            return errors.PRODUCER_FENCED
        if epoch > txn.epoch:
            return errors.INVALID_PRODUCER_EPOCH
        return txn

    # -- building a transaction ----------------------------------------------------------------

    def _begin(self, transactional_id: str, pid: int, epoch: int) -> _Transaction | int:
        """The producer's transaction, started now if it was not open (or an error)."""
        txn = self._current(transactional_id, pid, epoch)
        if not isinstance(txn, int) and txn.started is None:
            txn.started = self._clock()
        return txn

    def add_partitions(
        self, transactional_id: str, pid: int, epoch: int, partitions: list[TopicPartition]
    ) -> int:
        """AddPartitionsToTxn: the error for every partition."""
        with self._lock:
            txn = self._begin(transactional_id, pid, epoch)
            if isinstance(txn, int):
                return txn
            txn.partitions.update(partitions)
            return errors.NONE

    def add_offsets(self, transactional_id: str, pid: int, epoch: int, group: str) -> int:
        """AddOffsetsToTxn."""
        with self._lock:
            txn = self._begin(transactional_id, pid, epoch)
            if isinstance(txn, int):
                return txn
            txn.groups.add(group)
            return errors.NONE

    def commit_offsets(
        self,
        transactional_id: str,
        pid: int,
        epoch: int,
        group: str,
        offsets: dict[TopicPartition, OffsetAndMetadata],
    ) -> int:
        """TxnOffsetCommit: offsets held until the transaction commits."""
        with self._lock:
            txn = self._current(transactional_id, pid, epoch)
            if isinstance(txn, int):
                return txn
            if group not in txn.groups:
                return errors.INVALID_TXN_STATE
            txn.offsets.setdefault(group, {}).update(offsets)
            return errors.NONE

    def check_produce(
        self, transactional_id: str | None, pid: int, epoch: int, topic: str, partition: int
    ) -> int:
        """The error for a transactional batch, or NONE when its partition is in the
        producer's open transaction."""
        with self._lock:
            txn = self._current(transactional_id, pid, epoch)
            if isinstance(txn, int):
                return txn
            if TopicPartition(topic, partition) not in txn.partitions:
                return errors.INVALID_TXN_STATE
            return errors.NONE

    def appended(self, pid: int, topic: str, partition: int, first: int, last: int) -> None:
        """Remember the offsets a transactional batch landed on."""
        with self._lock:
            txn = self._by_pid.get(pid)
            if txn is not None:
                txn.ranges.setdefault(TopicPartition(topic, partition), []).append((first, last))

    # -- ending --------------------------------------------------------------------------------

    def end(self, transactional_id: str, pid: int, epoch: int, commit: bool) -> int:
        """EndTxn: commit (apply the pending offsets) or abort (remove the records)."""
        with self._lock:
            txn = self._current(transactional_id, pid, epoch)
            if isinstance(txn, int):
                return txn
            if not txn.open:
                return errors.NONE if txn.started is None else errors.INVALID_TXN_STATE
            return self._finish(txn, commit)

    def _finish(self, txn: _Transaction, commit: bool) -> int:
        error = errors.NONE
        if commit:
            for group, offsets in txn.offsets.items():
                try:
                    self._engine.commit_offsets(group, offsets)
                except EngineError as exc:
                    error = errors.code_of(exc)
        else:
            for tp, ranges in txn.ranges.items():
                try:
                    self._engine.remove_records(tp.topic, tp.partition, ranges)
                except EngineError:
                    continue  # the topic is gone: nothing left to hide
        txn.partitions.clear()
        txn.groups.clear()
        txn.ranges.clear()
        txn.offsets.clear()
        txn.started = None
        self._on_end()
        return error

    def expire(self) -> list[str]:
        """Abort transactions open longer than their timeout and fence their producers (the
        next epoch); returns the ids aborted."""
        now = self._clock()
        aborted = []
        with self._lock:
            for txn in list(self._by_id.values()):
                if txn.started is not None and now - txn.started > txn.timeout_ms / 1000:
                    self._finish(txn, commit=False)
                    txn.epoch += 1
                    aborted.append(txn.transactional_id)
        return aborted

    # -- readers -------------------------------------------------------------------------------

    def last_stable_offset(self, topic: str, partition: int, high_watermark: int) -> int:
        """The first offset of the oldest open transaction on the partition, else the HWM."""
        tp = TopicPartition(topic, partition)
        with self._lock:
            firsts = [
                ranges[0][0]
                for txn in self._by_id.values()
                if (ranges := txn.ranges.get(tp)) and txn.started is not None
            ]
        return min([high_watermark, *firsts])

    def pending_offsets(self, group: str) -> bool:
        """Whether an open transaction holds offsets for the group (OffsetFetch's
        require_stable answers UNSTABLE_OFFSET_COMMIT then)."""
        with self._lock:
            return any(group in txn.offsets for txn in self._by_id.values())
