"""The state log: how a component keeps its state, as a fold over a single-partition topic.

A component supplies a `Fold`: its initial state, one handler per command type, the command
constructors that build those commands (next to the handlers), and optionally a
`SnapshotCodec`. The plumbing here does everything else:

- `StateLog.write(command)` validates the command against the local state (catching up with
  the log and validating again when the local state refuses it or says it changes nothing),
  appends it, catches up to its offset and returns the outcome the fold produced for *this*
  command, or raises what the fold raised for it;
- `StateLog.read()` yields the state caught up with the log (a read that must see every write
  acknowledged before it; concurrent readers share one catch-up);
- `Fold.apply` / `Fold.validate` dispatch on the command's `"op"`, and turn a command the
  handlers cannot read (unknown op, missing or mistyped field) into one `CommandError`;
- snapshots of the fold (see `engine.statelog_snapshot`) so that a restart loads the state at
  an offset and replays only the records after it.

Every instance applies the same records in the same order, so every instance holds the same
state: ids and versions follow log order, with no leader. Works over any `Cluster`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from engine.cluster import Cluster
from engine.errors import EngineError, OffsetOutOfRangeError, TopicAlreadyExistsError
from engine.types import ConsumedRecord, OffsetSpec, Record

logger = logging.getLogger(__name__)

S = TypeVar("S")
T = TypeVar("T")

#: A command: a JSON object whose `"op"` names its handler.
Command = dict[str, Any]
#: `handler(state, command, commit)`: run every check, change the state only when `commit`,
#: return the outcome (the same one whether or not it commits), raise to refuse.
Handler = Callable[[S, Mapping[str, Any], bool], Any]
#: `skipped(state, first, count)`: the log has no records at offsets `first` up to
#: `first + count` that may have held commands (lost or deleted before this instance read
#: them); some instance may have applied them and answered their writers.
Skipped = Callable[[S, int, int], None]

#: Configuration of a state-log topic: kept forever, never compacted.
TOPIC_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete"}
#: What a record carries beyond its payload: the origin header, with room to spare.
RECORD_OVERHEAD = 128
#: The largest record a Kafka producer sends by default (librdkafka's `message.max.bytes`),
#: below the topics' default `max.message.bytes`: commands stay under both.
PRODUCER_RECORD_LIMIT = 1_000_000

_ORIGIN = "statelog-origin"
_FETCH_BATCH = 500
#: How long `append` waits for its own record to become readable (Kafka's high watermark).
_CATCH_UP_TIMEOUT_S = 30.0


class StateLogError(EngineError):
    """The state log could not do what was asked (not started, own command not found)."""


class CommandError(StateLogError, ValueError):
    """A command the fold cannot read: not a JSON object, an unknown `op`, or a missing or
    mistyped field. Raised by `Fold.apply`/`Fold.validate`; such a record is skipped."""


class CommandTooLargeError(StateLogError):
    """The encoded command is larger than the state topic's `max.message.bytes`.

    `limit` is the largest encoded command the topic accepts, in bytes."""

    def __init__(self, message: str, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


@dataclass(frozen=True, slots=True)
class Unchanged(Generic[T]):
    """A handler's outcome saying the command would change nothing (say, registering what is
    registered already): `StateLog.write` answers `value` without appending, and `Fold.apply`
    returns `value`."""

    value: T


@dataclass(frozen=True, slots=True)
class SnapshotCodec(Generic[S]):
    """How a fold's state is written to and read from a snapshot.

    `dump(state)` yields JSON values (pieces) that together describe the state; `load(pieces)`
    rebuilds an equal state from them. Change `version` whenever the pieces change meaning:
    a snapshot written under another version is ignored (the log is replayed instead)."""

    version: str
    dump: Callable[[S], Iterable[Any]]
    load: Callable[[Iterator[Any]], S]


class Fold(Generic[S]):
    """A component's state machine: the initial state and one handler per command `op`.

    `apply` and `validate` are the same dispatch, once changing the state and once not, so a
    check can never be in one and missing from the other. `skipped`, when given, is told of
    offsets whose commands are gone (see `Skipped`), in log order like a command, so that a
    component that hands out numbers can stay clear of the ones those commands handed out."""

    def __init__(
        self,
        initial_state: Callable[[], S],
        handlers: Mapping[str, Handler[S]],
        *,
        snapshot: SnapshotCodec[S] | None = None,
        skipped: Skipped[S] | None = None,
    ) -> None:
        self.initial_state = initial_state
        self.handlers = dict(handlers)
        self.snapshot = snapshot
        self.skipped = skipped

    def apply(self, state: S, command: Mapping[str, Any]) -> Any:
        """Fold one command into `state` and return its outcome; raises the handler's refusal
        (leaving the state untouched) or `CommandError`."""
        outcome = self._dispatch(state, command, True)
        return outcome.value if isinstance(outcome, Unchanged) else outcome

    def validate(self, state: S, command: Mapping[str, Any]) -> Any:
        """Run every check `apply` would run, change nothing, and return the would-be outcome
        (an `Unchanged` when the command would change nothing)."""
        return self._dispatch(state, command, False)

    def _dispatch(self, state: S, command: Mapping[str, Any], commit: bool) -> Any:
        op = command.get("op") if isinstance(command, Mapping) else None
        handler = self.handlers.get(op) if isinstance(op, str) else None
        if handler is None:
            raise CommandError(f"unknown command {op!r}")
        try:
            return handler(state, command, commit)
        except CommandError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CommandError(f"malformed command {op!r}: {exc!r}") from None


def command(op: str, **fields: Any) -> Command:
    """A command for the handler named `op` (what command constructors return)."""
    return {"op": op, **fields}


def encode(command: Mapping[str, Any]) -> bytes:
    """The record value of a command: compact JSON (ValueError for NaN, TypeError for what
    JSON cannot hold)."""
    return json.dumps(
        dict(command), separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode()


_MISSING = object()


class _Raised:
    """The outcome of a command whose `apply` raised."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Job:
    """A command waiting for the writer, and the future its outcome goes to."""

    __slots__ = ("command", "future", "prepare", "validate")

    def __init__(
        self,
        command: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]],
        prepare: Callable[[], None] | None,
        validate: bool,
    ) -> None:
        self.command = command
        self.prepare = prepare
        self.validate = validate
        self.future: Future[Any] = Future()


class StateLog(Generic[S]):
    """A fold over a single-partition topic, kept by every instance of a component.

    Thread-safe. Read the state through `read()` (fresh) or `current()` (no I/O), write with
    `write()`. `lock` is held while the fold changes the state."""

    def __init__(
        self, cluster: Cluster, topic: str, fold: Fold[S], *, snapshot_every: int = 10_000
    ) -> None:
        """`snapshot_every`: write a snapshot at start and close once at least this many
        records were applied since the last one (only when the fold has a codec)."""
        self._cluster = cluster
        self.topic = topic
        self.fold = fold
        self._state = fold.initial_state()
        self._applied = 0
        self.lock = threading.RLock()
        self._origin = uuid.uuid4().hex
        self._sequence = itertools.count()
        self._outcomes: dict[int, Any] = {}
        self._started = False
        self._sync_lock = threading.Lock()
        self._last_sync_started = float("-inf")
        self._snapshot_every = snapshot_every
        self._snapshot_offset = 0
        self._record_limit: int | None = None
        self._jobs: list[_Job] = []
        self._jobs_ready = threading.Condition(threading.Lock())
        self._writer: threading.Thread | None = None
        self._follower: threading.Thread | None = None
        self._following = threading.Event()

    @property
    def state(self) -> S:
        """The current state; read it while holding `lock` (or see `current`)."""
        return self._state

    @property
    def applied_offset(self) -> int:
        """The next offset to apply."""
        return self._applied

    @property
    def snapshot_offset(self) -> int:
        """The offset of the newest snapshot this instance loaded or wrote (0: none)."""
        return self._snapshot_offset

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> StateLog[S]:
        """Create the topic if missing (1 partition, kept forever), load the newest valid
        snapshot and replay the records after it."""
        from engine import statelog_snapshot

        started = time.monotonic()
        if self.topic not in self._cluster.list_topics(include_internal=True):
            # Another instance may create it first.
            with contextlib.suppress(TopicAlreadyExistsError):
                self._cluster.create_topic(self.topic, 1, TOPIC_CONFIG)
        with self.lock:
            if self.fold.snapshot is not None:
                loaded = statelog_snapshot.load(self._cluster, self.topic, self.fold.snapshot)
                if loaded is not None:
                    self._state, self._applied = loaded
                    self._snapshot_offset = self._applied
            self._started = True
            self._catch_up(self._end())
            self._last_sync_started = started
        self._writer = threading.Thread(
            target=self._write_loop, name=f"statelog-writer-{self.topic}", daemon=True
        )
        self._writer.start()
        self._snapshot_if_due()
        return self

    def follow(self, refresh_seconds: float, name: str) -> None:
        """Catch up with the log every `refresh_seconds` in a background thread called
        `name` (changes other instances make), until `close`."""
        if self._follower is not None:
            return
        self._following.clear()
        self._follower = threading.Thread(
            target=self._follow, args=(refresh_seconds, name), name=name, daemon=True
        )
        self._follower.start()

    def _follow(self, refresh_seconds: float, name: str) -> None:
        while not self._following.wait(refresh_seconds):
            try:
                self.sync()
            except Exception:  # the loop must survive a bad cycle; the next one retries
                logger.exception("%s: catching up with %s failed", name, self.topic)

    def close(self) -> None:
        """Stop using the log, writing a snapshot first if one is due (the cluster stays
        open; it belongs to the caller)."""
        self._following.set()
        if self._follower is not None and self._follower is not threading.current_thread():
            self._follower.join(_CATCH_UP_TIMEOUT_S)
        self._follower = None
        if self._started:
            with contextlib.suppress(EngineError):
                self._snapshot_if_due()
        self._started = False
        with self._jobs_ready:
            self._jobs_ready.notify_all()
        if self._writer is not None and self._writer is not threading.current_thread():
            self._writer.join(_CATCH_UP_TIMEOUT_S)
        self._writer = None

    # -- reads -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def read(self) -> Iterator[S]:
        """The state caught up with the log, locked while the block runs."""
        self.sync()
        with self.lock:
            yield self._state

    @contextlib.contextmanager
    def current(self) -> Iterator[S]:
        """The local state as it is (no I/O), locked while the block runs."""
        with self.lock:
            yield self._state

    def sync(self) -> None:
        """Catch up to the current end of the log (read-your-writes across instances). A call
        made while another catch-up runs waits for one that started after it, never more."""
        requested = time.monotonic()
        with self._sync_lock:
            if self._last_sync_started >= requested:
                return
            started = time.monotonic()
            with self.lock:
                self._catch_up(self._end())
            self._last_sync_started = started

    # -- writes ----------------------------------------------------------------------------
    def write(
        self,
        command: Mapping[str, Any] | Callable[[S], Mapping[str, Any]],
        *,
        prepare: Callable[[], None] | None = None,
    ) -> Any:
        """Validate, append and return the outcome of the command, or raise its refusal.

        `command` is the command, or a function building it from the state (called under
        `lock`, again after a catch-up). The command is validated against the local state;
        when that refuses it or says it changes nothing, the state catches up with the log
        and the command is built and validated again: a refusal is raised, an unchanged
        outcome answered, and nothing is appended. Raises `CommandTooLargeError` when the
        encoded command does not fit a record of the topic. `prepare` runs first, without
        the lock (slow preparation, say parsing, that should not hold up readers)."""
        return self.submit(command, prepare=prepare).result()

    def append(self, command: Mapping[str, Any]) -> Any:
        """Append the command without validating it, catch up to its offset, and return the
        outcome the fold produced for it (re-raising what the fold raised)."""
        return self.submit(command, validate=False).result()

    def submit(
        self,
        command: Mapping[str, Any] | Callable[[S], Mapping[str, Any]],
        *,
        prepare: Callable[[], None] | None = None,
        validate: bool = True,
    ) -> Future[Any]:
        """`write` (or, with `validate=False`, `append`) without waiting: the future gets the
        outcome or the refusal. Usable from an event loop (`asyncio.wrap_future`).

        One writer thread takes every command submitted while it was busy, validates each,
        appends them all in one produce call and catches up once, so concurrent writers cost
        one transaction and one read of the log between them."""
        if not self._started:
            raise StateLogError(f"state log {self.topic!r} is not started")
        if threading.current_thread() is self._writer:
            raise StateLogError(f"state log {self.topic!r}: a write cannot wait on a write")
        job = _Job(command, prepare, validate)
        with self._jobs_ready:
            self._jobs.append(job)
            self._jobs_ready.notify()
        return job.future

    def _write_loop(self) -> None:
        while True:
            with self._jobs_ready:
                while not self._jobs and self._started:
                    self._jobs_ready.wait()
                jobs, self._jobs = self._jobs, []
            if not jobs and not self._started:
                return
            try:
                self._write_batch(jobs)
            except BaseException as exc:  # never leave a caller waiting
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)

    def _write_batch(self, jobs: list[_Job]) -> None:
        planned: list[tuple[_Job, int, Record]] = []
        for job in jobs:
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                if job.prepare is not None:
                    job.prepare()
                command = self._decide(job)
                if command is None:
                    continue
                payload = encode(command)
                self._check_size(len(payload))
            except BaseException as exc:
                job.future.set_exception(exc)
                continue
            sequence = next(self._sequence)
            token = f"{self._origin}:{sequence}".encode()
            planned.append(
                (job, sequence, Record(payload, headers=((_ORIGIN, token),), partition=0))
            )
        if not planned:
            return
        try:
            metas = self._cluster.produce(self.topic, [record for _, _, record in planned])
            with self.lock:
                self._catch_up(max(meta.offset for meta in metas) + 1)
                outcomes = [self._outcomes.pop(sequence, _MISSING) for _, sequence, _ in planned]
        except BaseException as exc:
            for job, _, _ in planned:
                job.future.set_exception(exc)
            return
        for (job, _, _), meta, outcome in zip(planned, metas, outcomes, strict=True):
            if outcome is _MISSING:
                job.future.set_exception(
                    StateLogError(
                        f"state log {self.topic!r}: command at offset {meta.offset} was not applied"
                    )
                )
            elif isinstance(outcome, _Raised):
                job.future.set_exception(outcome.error)
            else:
                job.future.set_result(outcome)

    def _decide(self, job: _Job) -> Mapping[str, Any] | None:
        """The command to append for the job, or None when the job is answered already
        (unchanged); raises the refusal."""
        if not job.validate:
            assert not callable(job.command)
            return job.command
        planned, outcome = self._plan(job.command, fresh=False)
        if planned is None:
            self.sync()
            planned, outcome = self._plan(job.command, fresh=True)
        if isinstance(outcome, Unchanged):
            job.future.set_result(outcome.value)
            return None
        return planned

    def _plan(
        self, command: Mapping[str, Any] | Callable[[S], Mapping[str, Any]], fresh: bool
    ) -> tuple[Mapping[str, Any] | None, Any]:
        """(command, validated outcome); (None, None) when a catch-up may change the answer."""
        with self.lock:
            try:
                built = command(self._state) if callable(command) else command
                outcome = self.fold.validate(self._state, built)
            except Exception:
                if fresh:
                    raise
                return None, None
        if isinstance(outcome, Unchanged) and not fresh:
            return None, None
        return built, outcome

    def record_limit(self) -> int:
        """The largest encoded command the log takes: the topic's `max.message.bytes` (or a
        Kafka producer's default request limit, if smaller) less what a record carries
        besides the command."""
        if self._record_limit is None:
            config = self._cluster.describe_topic(self.topic).config
            topic_limit = int(config.get("max.message.bytes", PRODUCER_RECORD_LIMIT))
            self._record_limit = min(topic_limit, PRODUCER_RECORD_LIMIT) - RECORD_OVERHEAD
        return self._record_limit

    def _check_size(self, size: int) -> None:
        limit = self.record_limit()
        if size > limit:
            raise CommandTooLargeError(
                f"the command is {size} bytes, more than the {limit} bytes a record of the "
                f"state log {self.topic!r} holds (max.message.bytes)",
                size,
                limit,
            )

    # -- snapshots ---------------------------------------------------------------------------
    def snapshot(self) -> int:
        """Write a snapshot of the state now; returns its offset (0: nothing to snapshot)."""
        from engine import statelog_snapshot

        codec = self.fold.snapshot
        if codec is None or not self._started:
            return 0
        with self.lock:
            if self._applied == 0:
                return 0
            offset = self._applied
            statelog_snapshot.write(self._cluster, self.topic, codec, self._state, offset)
        self._snapshot_offset = offset
        return offset

    def _snapshot_if_due(self) -> None:
        if self._applied - self._snapshot_offset >= self._snapshot_every:
            try:
                self.snapshot()
            except EngineError as exc:  # an optimisation: the log stays the source of truth
                logger.warning("state log %s: snapshot not written: %s", self.topic, exc)

    # -- internals ---------------------------------------------------------------------------
    def _end(self) -> int:
        return self._cluster.list_offsets(self.topic, OffsetSpec.LATEST).get(0, 0)

    def _catch_up(self, target: int) -> None:
        deadline = time.monotonic() + _CATCH_UP_TIMEOUT_S
        while self._applied < target:
            records = self._fetch()
            if not records:
                end = self._end()
                if end > self._applied:
                    # A fetch below the end found nothing. Ask once more: that fetch covers
                    # [applied, its own end >= end), so if it is empty too, the offsets up to
                    # `end` hold no records (Kafka's transaction markers, lost records).
                    records = self._fetch()
                    if not records:
                        self._skip(end, deleted=False)
                        continue
            if not records:
                if time.monotonic() > deadline:
                    raise StateLogError(
                        f"state log {self.topic!r}: offset {target - 1} did not become "
                        f"readable within {_CATCH_UP_TIMEOUT_S:.0f}s"
                    )
                time.sleep(0.01)
                continue
            for record in records:
                if record.offset > self._applied:
                    self._skip(record.offset, deleted=False)
                self._apply_record(record)
                self._applied = record.offset + 1

    def _skip(self, to: int, *, deleted: bool) -> None:
        """Move past the offsets from the applied one up to `to`, which hold no record. When
        they may have held commands (deleted, or a backend whose gaps hide records) the loss
        is logged and the fold told, in log order, so every instance folds it alike."""
        first, count = self._applied, to - self._applied
        self._applied = to
        if not deleted and not self._cluster.gaps_hide_records:
            return  # Kafka's transaction markers and aborted records: no command is missing
        logger.error(
            "state log %s: offsets %d..%d %s before being applied; their commands are lost",
            self.topic,
            first,
            to - 1,
            "were deleted" if deleted else "hold no records (lost data)",
        )
        if self.fold.skipped is not None:
            self.fold.skipped(self._state, first, count)

    def _fetch(self) -> list[ConsumedRecord]:
        """The next records from the applied offset; offsets deleted before they were applied
        are skipped (`_skip`)."""
        while True:
            try:
                return self._cluster.fetch(self.topic, 0, self._applied, _FETCH_BATCH)
            except OffsetOutOfRangeError:
                earliest = self._cluster.list_offsets(self.topic, OffsetSpec.EARLIEST).get(0, 0)
                if earliest <= self._applied:
                    # Above the end the broker reports: not readable yet (a broker's answer
                    # about its end can lag behind what it acknowledged); the catch-up loop
                    # asks again until its deadline.
                    return []
                self._skip(earliest, deleted=True)

    def _apply_record(self, record: ConsumedRecord) -> None:
        mine = self._own_sequence(record)
        try:
            command = json.loads(record.value or b"")
            if not isinstance(command, dict):
                raise ValueError("a command must be a JSON object")
        except ValueError as exc:
            logger.error(
                "state log %s: skipping malformed record %d: %s", self.topic, record.offset, exc
            )
            if mine is not None:
                self._outcomes[mine] = _Raised(CommandError(f"malformed command: {exc}"))
            return
        try:
            outcome: Any = self.fold.apply(self._state, command)
        except Exception as exc:
            if mine is None:
                logger.info(
                    "state log %s: command at offset %d was refused: %s",
                    self.topic,
                    record.offset,
                    exc,
                )
            outcome = _Raised(exc)
        if mine is not None:
            self._outcomes[mine] = outcome

    def _own_sequence(self, record: ConsumedRecord) -> int | None:
        for name, value in record.headers:
            if name == _ORIGIN:
                origin, _, sequence = value.decode(errors="replace").partition(":")
                if origin == self._origin and sequence.isdigit():
                    return int(sequence)
        return None
