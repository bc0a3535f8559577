"""The replication worker: follows the source's topics on the target, copies records, writes
offset syncs and checkpoints, and commits translated offsets into inactive target groups.

Exactly once without a cross-topic transaction: every copy carries a provenance header with
its source offset, and each produce call is atomic, so the target log is its own progress
record. On start the worker reads back the last copy in each target partition and resumes
right after it; offset syncs and checkpoints are derived facts that it writes again."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import NamedTuple

from engine.cluster import Cluster
from engine.errors import (
    ClusterUnavailableError,
    EngineError,
    InvalidPartitionsError,
    OffsetOutOfRangeError,
    StorageError,
    TopicAlreadyExistsError,
    UnknownTopicOrPartitionError,
)
from engine.resets import group_is_active
from engine.types import (
    ConsumedRecord,
    OffsetAndMetadata,
    OffsetSpec,
    Record,
    TopicDescription,
    TopicPartition,
)
from replicator import codec
from replicator.flow import Flow
from replicator.metrics import FlowMetrics
from replicator.offsets import OffsetSync, SyncEmitter, SyncStore
from replicator.policy import ReplicationPolicy, checkpoints_topic, is_internal, offset_syncs_topic
from replicator.schemas import SchemaCarrier
from replicator.topics import plan_topic

logger = logging.getLogger(__name__)

#: How far back from a target partition's end the worker looks for its last copy.
RESUME_SCAN = 2000
_INTERNAL_CONFIG = {"cleanup.policy": "compact"}

Transform = Callable[[str, ConsumedRecord], ConsumedRecord | None]


class _Run(NamedTuple):
    """The records of one source partition in a produce: their source offsets and timestamps
    in order, and their value bytes."""

    partition: TopicPartition
    offsets: list[int]
    timestamps: list[int]
    value_bytes: int


_OFFSET = attrgetter("offset")
_TIMESTAMP = attrgetter("timestamp_ms")
_VALUE = attrgetter("value")


@dataclass
class PartitionState:
    """Where copying of one source partition stands."""

    position: int
    exact: bool
    remote: str
    latest: int = 0
    last_timestamp_ms: int | None = None


class Replicator:
    """One flow's worker between an open source and target cluster (the caller closes them).

    `transform` (masking) may rewrite a record or return None to drop it (it then went to a
    dead-letter topic); `clock` gives milliseconds."""

    def __init__(
        self,
        flow: Flow,
        source: Cluster,
        target: Cluster,
        *,
        transform: Transform | None = None,
        clock: Callable[[], float] = time.time,
        metrics: FlowMetrics | None = None,
    ) -> None:
        self.flow = flow
        self.source = source
        self.target = target
        self.policy = ReplicationPolicy(flow.source, flow.target, flow.policy)
        self.partitions: dict[TopicPartition, PartitionState] = {}
        self.metrics = metrics or FlowMetrics(flow.name)
        self._transform = transform
        self._clock = clock
        self._emitter = SyncEmitter(flow.offset_lag_max)
        self._store = SyncStore()
        self._syncs_read = 0
        self._return_store = SyncStore()
        self._return_read = 0
        self._checkpoints: dict[tuple[str, str, int], codec.Checkpoint] = {}
        self._checkpoints_read = 0
        self._topics: dict[str, TopicDescription] = {}
        #: Partitions each remote topic has (records of later source partitions wait).
        self._remote_partitions: dict[str, int] = {}
        self._started = False
        self._lock = threading.Lock()
        self.schemas = (
            SchemaCarrier(source, target, on_error=self.metrics.error)
            if flow.carry_schemas
            else None
        )

        self._opened: list[Callable[[], None]] = []
        if flow.mask and transform is None:
            self._transform = self._masker()

    def _masker(self) -> Transform:
        """The masking transform: tags from the source's registry and catalog."""
        from catalog.service import Catalog, CatalogSettings
        from replicator.masking import Masker, source_registry_client

        topics = self.source.list_topics(include_internal=True)
        client = source_registry_client(self.flow, self.source, topics, self._opened)
        settings = CatalogSettings(readonly=True)
        catalog: Catalog | None = None
        if settings.topic in topics:
            catalog = Catalog(self.source, settings).start()
            self._opened.append(catalog.close)

        def declared(topic: str) -> dict[str, tuple[str, ...]]:
            """The catalog's field tags of a source topic (none without a catalog)."""
            stream = catalog.state().streams.get(topic) if catalog is not None else None
            if stream is None:
                return {}
            return {path: tuple(t.name for t in tags) for path, tags in stream.field_tags}

        return Masker(
            self.flow.mask,  # type: ignore[arg-type]
            client,
            self.source,
            self.flow.target,
            declared,
            salt=self.flow.mask_salt.encode(),
        )

    def close(self) -> None:
        """Close what the worker opened (the registries schemas travel through, the masking
        sources)."""
        if self.schemas is not None:
            self.schemas.close()
        for close in self._opened:
            close()

    # -- startup ---------------------------------------------------------------------------

    def start(self) -> Replicator:
        """Create the internal topics on the target and read the syncs and checkpoints."""
        for topic in (offset_syncs_topic(self.flow.source), checkpoints_topic(self.flow.source)):
            with contextlib.suppress(TopicAlreadyExistsError):
                self.target.create_topic(topic, 1, _INTERNAL_CONFIG)
        self._read_checkpoints()
        self._store.read_to_end()
        self._return_store.read_to_end()
        self._read_syncs()
        self._started = True
        return self

    def _tail(self, topic: str, offset: int) -> tuple[list[ConsumedRecord], int]:
        end = self.target.list_offsets(topic, OffsetSpec.LATEST).get(0, 0)
        start = max(offset, self.target.list_offsets(topic, OffsetSpec.EARLIEST).get(0, 0))
        records: list[ConsumedRecord] = []
        while start < end:
            batch = self.target.fetch(topic, 0, start, max_records=5000)
            if not batch:
                break
            records.extend(batch)
            start = batch[-1].offset + 1
        return records, max(start, offset)

    def _read_syncs(self) -> None:
        records, self._syncs_read = self._tail(
            offset_syncs_topic(self.flow.source), self._syncs_read
        )
        for record in records:
            try:
                partition, sync = codec.read_sync(record.key, record.value)
            except codec.CodecError:
                logger.warning("skipping a malformed offset sync at offset %d", record.offset)
                continue
            self._store.add(partition, sync)

    def _read_return_syncs(self) -> None:
        """The reverse flow's syncs (on this flow's source), inverted: they translate offsets
        of topics that came from the target back to the original topics (fail-back)."""
        topic = offset_syncs_topic(self.flow.target)
        if topic not in self.source.list_topics(include_internal=True):
            return
        end = self.source.list_offsets(topic, OffsetSpec.LATEST).get(0, 0)
        offset = max(
            self._return_read, self.source.list_offsets(topic, OffsetSpec.EARLIEST).get(0, 0)
        )
        while offset < end:
            batch = self.source.fetch(topic, 0, offset, max_records=5000)
            if not batch:
                break
            for record in batch:
                try:
                    partition, sync = codec.read_sync(record.key, record.value)
                except codec.CodecError:
                    continue
                remote = TopicPartition(
                    ReplicationPolicy(
                        self.flow.target, self.flow.source, self.flow.policy
                    ).remote_topic(partition.topic),
                    partition.partition,
                )
                self._return_store.add(remote, OffsetSync(sync.downstream, sync.upstream))
            offset = batch[-1].offset + 1
        self._return_read = offset

    def _read_checkpoints(self) -> None:
        records, self._checkpoints_read = self._tail(
            checkpoints_topic(self.flow.source), self._checkpoints_read
        )
        for record in records:
            try:
                cp = codec.read_checkpoint(record.key, record.value)
            except codec.CodecError:
                logger.warning("skipping a malformed checkpoint at offset %d", record.offset)
                continue
            self._checkpoints[(cp.group, cp.topic, cp.partition)] = cp

    # -- topics ----------------------------------------------------------------------------

    def wanted_topics(self) -> list[str]:
        """The source topics this flow copies now."""
        return [
            t
            for t in self.source.list_topics()
            if not is_internal(t) and self.flow.wants_topic(t) and not self.policy.would_cycle(t)
        ]

    def refresh(self) -> list[str]:
        """Follow the source's topics: create new remote topics, grow partitions, copy config
        changes, handle deleted source topics. Returns what it did, one line each."""
        done: list[str] = []
        wanted = self.wanted_topics()
        for topic in wanted:
            try:
                described = self.source.describe_topic(topic)
            except UnknownTopicOrPartitionError:
                continue
            try:
                done.extend(self._follow(topic, described))
            except UnknownTopicOrPartitionError:
                continue
            except EngineError as exc:
                # one topic the target refuses to follow must not stop the others
                self.metrics.error(f"{topic}: {exc}")
                logger.warning("%s: %s: %s", self.flow.name, topic, exc)
            self._topics[topic] = described
        gone = {tp.topic for tp in self._store.partitions()} | set(self._topics)
        for topic in sorted(gone - set(wanted)):
            if not self.flow.wants_topic(topic) or topic in self.source.list_topics():
                continue
            self._topics.pop(topic, None)
            for tp in [tp for tp in self.partitions if tp.topic == topic]:
                del self.partitions[tp]
            if self.flow.delete_with_source:
                try:
                    self.target.delete_topic(self.policy.remote_topic(topic))
                    done.append(f"deleted {self.policy.remote_topic(topic)} with its source")
                except UnknownTopicOrPartitionError:
                    pass
        return done

    def _follow(self, topic: str, described: TopicDescription) -> list[str]:
        remote = self.policy.remote_topic(topic)
        try:
            current: TopicDescription | None = self.target.describe_topic(remote)
        except UnknownTopicOrPartitionError:
            current = None
        plan = plan_topic(described, current, sync_configs=self.flow.sync_configs)
        done: list[str] = []
        if plan.create:
            try:
                self.target.create_topic(
                    remote,
                    plan.partitions or 1,
                    {k: v for k, v in plan.config.items() if v is not None},
                )
                done.append(f"created {remote} ({plan.partitions} partitions)")
            except TopicAlreadyExistsError:
                self._remote_partitions.pop(topic, None)  # another worker made it: look again
                return done
            self._remote_partitions[topic] = plan.partitions or 1
            return done
        assert current is not None
        self._remote_partitions[topic] = len(current.partitions)
        if plan.config:
            self.target.alter_topic_config(remote, plan.config)
            done.append(f"config of {remote}: {', '.join(sorted(plan.config))}")
        if plan.partitions is not None:
            try:
                self.target.add_partitions(remote, plan.partitions)
                done.append(f"grew {remote} to {plan.partitions} partitions")
            except InvalidPartitionsError:
                # another worker of the flow grew it first (anything else is an error)
                if len(self.target.describe_topic(remote).partitions) < plan.partitions:
                    raise
            self._remote_partitions[topic] = plan.partitions
        return done

    # -- copying ---------------------------------------------------------------------------

    def _resume(self, tp: TopicPartition, remote: str) -> PartitionState:
        """Where to continue a partition: right after the last copy found on the target."""
        source_start = self.source.list_offsets(tp.topic, OffsetSpec.EARLIEST).get(tp.partition, 0)
        end = self.target.list_offsets(remote, OffsetSpec.LATEST).get(tp.partition, 0)
        start = self.target.list_offsets(remote, OffsetSpec.EARLIEST).get(tp.partition, 0)
        synced = self._store.latest(tp)
        if end == start and synced is None:
            return PartitionState(source_start, exact=end == 0 and source_start == 0, remote=remote)
        last = self._last_copy(tp, remote, max(start, end - RESUME_SCAN), end)
        if last is not None:
            offset, prov = last
            exact = (
                prov.offset == offset
                and offset == end - 1
                and (synced is None or synced.upstream == synced.downstream)
            )
            self._emitter.record(tp, prov.offset, offset)
            return PartitionState(max(prov.offset + 1, source_start), exact=exact, remote=remote)
        if synced is not None:
            return PartitionState(
                max(synced.upstream + 1, source_start), exact=False, remote=remote
            )
        return PartitionState(source_start, exact=False, remote=remote)

    def _last_copy(
        self, tp: TopicPartition, remote: str, start: int, end: int
    ) -> tuple[int, codec.Provenance] | None:
        found: tuple[int, codec.Provenance] | None = None
        while start < end:
            batch = self.target.fetch(remote, tp.partition, start, max_records=1000)
            if not batch:
                break
            for record in batch:
                prov = codec.provenance(record.headers)
                if prov is not None and prov.source == self.flow.source:
                    found = (record.offset, prov)
            start = batch[-1].offset + 1
        return found

    def _state(self, tp: TopicPartition) -> PartitionState:
        state = self.partitions.get(tp)
        if state is None:
            state = self._resume(tp, self.policy.remote_topic(tp.topic))
            self.partitions[tp] = state
        return state

    def copy_pass(self) -> int:
        """One pass over every owned partition: copy what is there. Returns records copied."""
        copied = 0
        for topic, described in list(self._topics.items()):
            try:
                copied += self._copy_topic(topic, described)
            except (ClusterUnavailableError, StorageError):
                raise  # the whole cluster: the caller waits and tries again
            except EngineError as exc:
                # one topic the target refuses (its positions stay) must not stop the others
                self.metrics.error(f"{topic}: {exc}")
                logger.warning("%s: %s: %s", self.flow.name, topic, exc)
        return copied

    def _copy_topic(self, topic: str, described: TopicDescription) -> int:
        ends = self.source.list_offsets(topic, OffsetSpec.LATEST)
        runs: list[_Run] = []
        records: list[Record] = []
        moved: list[tuple[PartitionState, int]] = []
        partitions = len(described.partitions)
        for p in range(min(partitions, self._remote_partitions.get(topic, partitions))):
            if not self.flow.owns(topic, p):
                continue
            tp = TopicPartition(topic, p)
            state = self._state(tp)
            state.latest = ends.get(p, state.latest)
            if state.position >= state.latest:
                if state.position > state.latest:  # the source topic was recreated
                    state.position = 0
                continue
            try:
                fetched = self.source.fetch(
                    topic, p, state.position, max_records=self.flow.batch_records
                )
            except OffsetOutOfRangeError:
                state.position = self.source.list_offsets(topic, OffsetSpec.EARLIEST).get(p, 0)
                continue
            if not fetched:
                # nothing up to the end seen before the fetch: transaction markers or gaps
                state.position = state.latest
                continue
            if self._transform is None and not codec.any_provenance(fetched):
                kept, copies = fetched, codec.fresh_copies(fetched, self.flow.source, p)
            else:
                kept, copies = self._copies(fetched, state.remote, p)
            if self.schemas is not None:
                self.schemas.carry_records(kept)
            records.extend(copies)
            moved.append((state, fetched[-1].offset + 1))
            if kept:
                # What the bookkeeping needs, so the source records can go before the produce.
                runs.append(
                    _Run(
                        tp,
                        list(map(_OFFSET, kept)),
                        list(map(_TIMESTAMP, kept)),
                        sum(map(len, filter(None, map(_VALUE, kept)))),
                    )
                )
            del fetched, kept, copies
        remote = self.policy.remote_topic(topic)
        landed = self.target.produce(remote, records) if records else []
        # Only now: a produce that fails leaves the positions where they were (retried later).
        for state, position in moved:
            state.position = position
        if not records:
            return 0
        now = self._clock() * 1000
        at = 0
        for run in runs:
            tp, offsets, count = run.partition, run.offsets, len(run.offsets)
            state = self.partitions[tp]
            metas = landed[at : at + count]
            at += count
            first_up, first_down = offsets[0], metas[0].offset
            if offsets[-1] - first_up == count - 1 and metas[-1].offset - first_down == count - 1:
                self._emitter.record_run(tp, first_up, first_down, count)
                if first_up != first_down:
                    state.exact = False
            else:
                for upstream, meta in zip(offsets, metas, strict=True):
                    self._emitter.record(tp, upstream, meta.offset)
                    if meta.offset != upstream:
                        state.exact = False
            state.last_timestamp_ms = run.timestamps[-1]
            self.metrics.copied(remote, tp.partition, run.timestamps, run.value_bytes, now)
        self._write_syncs(self._emitter.take())
        return len(records)

    def _copies(
        self, fetched: list[ConsumedRecord], remote: str, partition: int
    ) -> tuple[list[ConsumedRecord], list[Record]]:
        """Record by record: the source records kept (not from the target, not dropped by the
        transform) as they were after the transform, and their copies. Their provenance
        header keeps a record's first origin."""
        source_alias, target_alias, transform = self.flow.source, self.flow.target, self._transform
        kept: list[ConsumedRecord] = []
        copies: list[Record] = []
        for record in fetched:
            prov = codec.provenance(record.headers) if record.headers else None
            if prov is not None and prov.origin == target_alias:
                continue  # it came from the target: copying it back would loop
            out = record
            if transform is not None:
                rewritten = transform(remote, record)
                if rewritten is None:
                    continue
                out = rewritten
                prov = codec.provenance(out.headers) if out.headers else None
            kept.append(out)
            stamped = codec.stamp(out.headers, source_alias, record.offset, prov)
            copies.append(Record(out.value, out.key, stamped, record.timestamp_ms, partition))
        return kept, copies

    def _write_syncs(self, syncs: list[tuple[TopicPartition, OffsetSync]]) -> None:
        if not syncs:
            return
        self.target.produce(
            offset_syncs_topic(self.flow.source),
            [Record(codec.sync_value(sync), codec.sync_key(tp), partition=0) for tp, sync in syncs],
        )

    def flush_syncs(self) -> None:
        """Write the delayed syncs too, so quiet partitions end exactly synced."""
        self._write_syncs(self._emitter.take(flush=True))

    # -- checkpoints -----------------------------------------------------------------------

    def translate(self, tp: TopicPartition, upstream: int) -> int | None:
        """A group's source offset on the target: the identity, capped at what was copied,
        for a verified exact partition; MM2's translation otherwise."""
        state = self.partitions.get(tp)
        if state is not None and state.exact:
            return min(upstream, state.position)
        store = self._return_store if self.policy.would_cycle(tp.topic) else self._store
        latest = store.latest(tp)
        if latest is not None and store.exact(tp):
            return min(upstream, latest.upstream + 1)
        translated = store.translate(tp, upstream)
        return translated if translated is not None and translated >= 0 else None

    def checkpoint(self) -> list[codec.Checkpoint]:
        """Translate the named groups' committed offsets, write the new checkpoints, and (with
        `sync_group_offsets`) commit them into target groups that have no live members."""
        if self.flow.groups is None:
            return []
        self._read_syncs()
        self._read_return_syncs()
        topics = set(self._topics) | {
            t for t in self.source.list_topics() if self.policy.would_cycle(t)
        }
        emitted: list[codec.Checkpoint] = []
        for listing in self.source.list_groups():
            group = listing.group_id
            if not self.flow.wants_group(group):
                continue
            committed = self.source.committed_offsets(group, sorted(topics))
            for tp, om in sorted(committed.items()):
                if tp.topic not in topics:
                    continue
                downstream = self.translate(tp, om.offset)
                if downstream is None:
                    continue
                cp = codec.Checkpoint(
                    group,
                    self.policy.checkpoint_topic(tp.topic),
                    tp.partition,
                    om.offset,
                    downstream,
                    om.metadata,
                )
                key = (group, cp.topic, cp.partition)
                before = self._checkpoints.get(key)
                if (
                    before is None
                    or cp.upstream < before.upstream
                    or cp.downstream > before.downstream
                ):
                    emitted.append(cp)
        if emitted:
            self.target.produce(
                checkpoints_topic(self.flow.source),
                [
                    Record(codec.checkpoint_value(cp), codec.checkpoint_key(cp), partition=0)
                    for cp in emitted
                ],
            )
            for cp in emitted:
                self._checkpoints[(cp.group, cp.topic, cp.partition)] = cp
        if self.flow.sync_group_offsets:
            self.sync_group_offsets()
        return emitted

    def checkpoints(self) -> dict[tuple[str, str, int], codec.Checkpoint]:
        """The latest checkpoint per (group, target topic, partition)."""
        return dict(self._checkpoints)

    def sync_group_offsets(self) -> list[str]:
        """Commit checkpoints into target groups without live members, never moving a group
        backwards. Returns the groups written."""
        by_group: dict[str, list[codec.Checkpoint]] = {}
        for cp in self._checkpoints.values():
            by_group.setdefault(cp.group, []).append(cp)
        written: list[str] = []
        for group, cps in sorted(by_group.items()):
            if group_is_live(self.target, group):
                continue
            have = self.target.committed_offsets(group)
            updates = {
                TopicPartition(cp.topic, cp.partition): OffsetAndMetadata(
                    cp.downstream, cp.metadata
                )
                for cp in cps
                if have.get(TopicPartition(cp.topic, cp.partition)) is None
                or have[TopicPartition(cp.topic, cp.partition)].offset < cp.downstream
            }
            if updates:
                try:
                    self.target.commit_offsets(group, updates)
                    written.append(group)
                except EngineError as exc:
                    self.metrics.error(f"group {group}: {exc}")
        return written

    # -- driving ---------------------------------------------------------------------------

    def run_once(self) -> int:
        """Copy everything the source holds now, then sync and checkpoint; returns records
        copied."""
        if not self._started:
            self.start()
        self.refresh()
        total = 0
        while True:
            before = [s.position for s in self.partitions.values()]
            copied = self.copy_pass()
            total += copied
            # Done when caught up, or when a pass moved nothing (a partition the target
            # cannot take yet: its error is counted, and the next run goes on from there).
            if copied == 0 and (
                all(s.position >= s.latest for s in self.partitions.values())
                or before == [s.position for s in self.partitions.values()]
            ):
                break
        self.flush_syncs()
        self.checkpoint()
        return total

    def run(self, stop: threading.Event, idle_wait_s: float = 0.05) -> None:
        """Follow the source until `stop` is set."""
        if not self._started:
            self.start()
        next_refresh = next_checkpoint = 0.0
        while not stop.is_set():
            now = time.monotonic()
            try:
                if now >= next_refresh:
                    for line in self.refresh():
                        logger.info("%s: %s", self.flow.name, line)
                    next_refresh = now + self.flow.refresh_interval_s
                copied = self.copy_pass()
                if now >= next_checkpoint:
                    self.flush_syncs()
                    self.checkpoint()
                    next_checkpoint = now + self.flow.checkpoint_interval_s
            except EngineError as exc:
                self.metrics.error(str(exc))
                logger.warning("%s: %s", self.flow.name, exc)
                copied = 0
                stop.wait(min(1.0, self.flow.refresh_interval_s))
            if copied == 0:
                stop.wait(idle_wait_s)
        self.flush_syncs()

    def refresh_known(self) -> None:
        """Look at the source's topics and the target's copies without changing anything (for
        status): every owned partition's position and the source's end."""
        for topic in self.wanted_topics():
            try:
                described = self.source.describe_topic(topic)
                self.target.describe_topic(self.policy.remote_topic(topic))
            except UnknownTopicOrPartitionError:
                continue
            self._topics[topic] = described
            ends = self.source.list_offsets(topic, OffsetSpec.LATEST)
            for p in range(len(described.partitions)):
                if self.flow.owns(topic, p):
                    self._state(TopicPartition(topic, p)).latest = ends.get(p, 0)

    def status(self) -> list[dict[str, object]]:
        """Per partition: remote topic, position, lag in records and ms, exactness."""
        now = self._clock() * 1000
        rows: list[dict[str, object]] = []
        for tp, state in sorted(self.partitions.items()):
            lag = max(0, state.latest - state.position)
            lag_ms = (
                max(0, int(now - state.last_timestamp_ms))
                if lag and state.last_timestamp_ms is not None
                else 0
            )
            rows.append(
                {
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "remote_topic": state.remote,
                    "position": state.position,
                    "source_end": state.latest,
                    "lag_records": lag,
                    "lag_ms": lag_ms,
                    "exact": state.exact,
                }
            )
        return rows


def group_is_live(cluster: Cluster, group: str) -> bool:
    """Whether the group has live members on the cluster (then nothing may commit for it)."""
    try:
        described = cluster.describe_group(group)
    except EngineError:
        return False
    return group_is_active(described)
