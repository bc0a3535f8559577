"""Offset syncs and their translation, by MirrorMaker 2's rules. Pure (no I/O).

`SyncEmitter` decides, for each copied record's (upstream, downstream) offset pair, whether an
offset sync must be written now (MM2's OffsetSyncWriter rules). `SyncStore` keeps per source
partition 64 syncs spaced exponentially (MM2's OffsetSyncStore) and translates a group's
upstream offset to a downstream one that never skips a record the group had not consumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from engine.types import TopicPartition

#: MM2's `offset.lag.max` default.
DEFAULT_OFFSET_LAG_MAX = 100

_SLOTS = 64
_LONG_MAX = (1 << 63) - 1


class OffsetSync(NamedTuple):
    """A source record at `upstream` landed at `downstream` on the target."""

    upstream: int
    downstream: int


@dataclass
class _EmitState:
    previous_upstream: int = -1
    previous_downstream: int = -1
    last_sync_downstream: int = -1


@dataclass
class SyncEmitter:
    """Which offset syncs to write, per source partition.

    A sync is due at once for the first pair of this emitter's lifetime, when the downstream
    offset moved `offset_lag_max` or more past the last sync's, when the upstream offsets are
    not consecutive (compaction, transaction markers, filtered records), when the downstream
    offset went backwards, or (exact mode's check) when downstream differs from upstream for a
    partition that was exact so far. Any other pair waits as the partition's delayed sync,
    which `take(flush=True)` promotes so a quiet partition ends exactly synced."""

    offset_lag_max: int = DEFAULT_OFFSET_LAG_MAX
    _states: dict[TopicPartition, _EmitState] = field(default_factory=dict)
    _pending: list[tuple[TopicPartition, OffsetSync]] = field(default_factory=list)
    _delayed: dict[TopicPartition, OffsetSync] = field(default_factory=dict)

    def record(self, partition: TopicPartition, upstream: int, downstream: int) -> None:
        """Note that the record at `upstream` landed at `downstream`."""
        state = self._states.setdefault(partition, _EmitState())
        due = (
            state.last_sync_downstream == -1
            or downstream - (state.last_sync_downstream + 1) >= self.offset_lag_max
            or upstream - state.previous_upstream != 1
            or downstream < state.previous_downstream
            or (upstream != downstream and state.previous_upstream == state.previous_downstream)
        )
        sync = OffsetSync(upstream, downstream)
        if due:
            state.last_sync_downstream = downstream
            self._delayed.pop(partition, None)
            self._pending.append((partition, sync))
        else:
            self._delayed[partition] = sync
        state.previous_upstream = upstream
        state.previous_downstream = downstream

    def record_run(
        self, partition: TopicPartition, upstream: int, downstream: int, count: int
    ) -> None:
        """`record` for `count` copies at consecutive offsets on both sides (upstream,
        upstream + 1, ... landed at downstream, downstream + 1, ...), computed without a step
        per record: after the first only the staleness rule can fire."""
        if count <= 0:
            return
        self.record(partition, upstream, downstream)
        if count == 1:
            return
        state = self._states[partition]
        last_up, last_down = upstream + count - 1, downstream + count - 1
        due = state.last_sync_downstream + 1 + self.offset_lag_max
        while due <= last_down:
            sync = OffsetSync(upstream + (due - downstream), due)
            self._pending.append((partition, sync))
            state.last_sync_downstream = due
            due += 1 + self.offset_lag_max
        tail = OffsetSync(last_up, last_down)
        if state.last_sync_downstream == last_down:
            self._delayed.pop(partition, None)
        else:
            self._delayed[partition] = tail
        state.previous_upstream, state.previous_downstream = last_up, last_down

    def take(self, *, flush: bool = False) -> list[tuple[TopicPartition, OffsetSync]]:
        """The syncs to write now, in order (with `flush`, the delayed ones too); they leave
        the emitter. Every due sync is kept, not only a partition's latest, so a large batch
        still leaves syncs at most `offset_lag_max` apart."""
        if flush:
            self._pending.extend(self._delayed.items())
            self._delayed.clear()
        taken, self._pending = self._pending, []
        return taken


class SyncStore:
    """The offset syncs read back, 64 per source partition with exponential spacing: recent
    offsets translate precisely, old ones coarsely.

    Call `read_to_end` before the initial read when the checkpoints were read (then every
    loaded sync stays usable, as MM2 does after a good start); after it otherwise.

    Slot 0 holds the latest sync; slot i keeps an older sync while it shares the latest's
    upstream offset above bit i. A sync below the latest one (the upstream was rewound or
    recreated) replaces every slot. Until `read_to_end` is called each sync replaces every slot,
    so only the last sync read at startup is used."""

    def __init__(self) -> None:
        self._syncs: dict[TopicPartition, list[OffsetSync]] = {}
        self._identity: dict[TopicPartition, bool] = {}
        self._read_to_end = False

    def read_to_end(self) -> None:
        """The initial read of the syncs topic reached its end; translation may start."""
        self._read_to_end = True

    @property
    def ready(self) -> bool:
        """Whether the initial read finished."""
        return self._read_to_end

    def add(self, partition: TopicPartition, sync: OffsetSync) -> None:
        """Take in one sync, in the order the syncs topic holds them."""
        syncs = self._syncs.get(partition)
        self._identity[partition] = self._identity.get(partition, True) and (
            sync.upstream == sync.downstream
        )
        if syncs is None or not self._read_to_end or syncs[0].upstream > sync.upstream:
            self._syncs[partition] = [sync] * _SLOTS
            return
        syncs = list(syncs)
        syncs[0] = sync
        for i in range(1, _SLOTS):
            mask = (_LONG_MAX << i) & _LONG_MAX
            if (syncs[i].upstream ^ sync.upstream) & mask:
                syncs[i] = sync
            else:
                break
        self._syncs[partition] = syncs

    def latest(self, partition: TopicPartition) -> OffsetSync | None:
        """The latest sync of a partition."""
        syncs = self._syncs.get(partition)
        return syncs[0] if syncs else None

    def exact(self, partition: TopicPartition) -> bool:
        """Whether every sync of the partition mapped an offset to itself (exact mode)."""
        return self._identity.get(partition, False)

    def partitions(self) -> list[TopicPartition]:
        """The source partitions with syncs."""
        return sorted(self._syncs)

    def translate(self, partition: TopicPartition, upstream: int) -> int | None:
        """The downstream offset for a group at `upstream`; None when it cannot be translated
        (not read to the end yet, no syncs, or the offset is older than every kept sync)."""
        syncs = self._syncs.get(partition)
        if not self._read_to_end or not syncs:
            return None
        chosen = syncs[-1]
        for sync in syncs:
            if sync.upstream <= upstream:
                chosen = sync
                break
        if chosen.upstream > upstream:
            return None
        return chosen.downstream + (0 if chosen.upstream == upstream else 1)
