"""The state log: a replicated state machine over a single-partition topic.

A component supplies `initial_state()` and a deterministic `apply(state, command)`. `append`
writes the command to the topic, catches the local state up to the command's offset and
returns the outcome `apply` produced for it. Every instance applies the same records in the
same order, so every instance holds the same state: ids and versions follow log order, with
no leader. Works over any `Cluster`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from engine.cluster import Cluster
from engine.errors import EngineError, OffsetOutOfRangeError, TopicAlreadyExistsError
from engine.types import ConsumedRecord, OffsetSpec, Record

logger = logging.getLogger(__name__)

S = TypeVar("S")

#: Configuration of a state-log topic: kept forever, never compacted.
TOPIC_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete"}

_ORIGIN = "statelog-origin"
_FETCH_BATCH = 500
#: How long `append` waits for its own record to become readable (Kafka's high watermark).
_CATCH_UP_TIMEOUT_S = 30.0


class StateLogError(EngineError):
    """The state log could not reach its own command in the log."""


class _Raised:
    """The outcome of a command whose `apply` raised."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class StateLog(Generic[S]):
    """Replicated state machine over a single-partition topic (see `docs/architecture.md`)."""

    def __init__(
        self,
        cluster: Cluster,
        topic: str,
        initial_state: Callable[[], S],
        apply: Callable[[S, dict[str, Any]], Any],
    ) -> None:
        self._cluster = cluster
        self.topic = topic
        self._apply = apply
        self._state = initial_state()
        self._applied = 0
        self.lock = threading.RLock()
        self._origin = uuid.uuid4().hex
        self._sequence = itertools.count()
        self._outcomes: dict[int, Any] = {}
        self._started = False

    @property
    def state(self) -> S:
        """The current state; read it while holding `lock`."""
        return self._state

    @property
    def applied_offset(self) -> int:
        """The next offset to apply."""
        return self._applied

    def start(self) -> None:
        """Create the topic if missing (1 partition, retention.ms=-1, cleanup.policy=delete)
        and replay it from the beginning."""
        if self.topic not in self._cluster.list_topics(include_internal=True):
            # Another instance may create it first.
            with contextlib.suppress(TopicAlreadyExistsError):
                self._cluster.create_topic(self.topic, 1, TOPIC_CONFIG)
        with self.lock:
            self._started = True
            self._catch_up(self._end())

    def append(self, command: Mapping[str, Any]) -> Any:
        """Produce the command, catch up to its offset, and return the outcome `apply`
        produced for it (re-raising what `apply` raised)."""
        if not self._started:
            raise StateLogError(f"state log {self.topic!r} is not started")
        payload = json.dumps(
            dict(command), separators=(",", ":"), sort_keys=True, allow_nan=False
        ).encode()
        sequence = next(self._sequence)
        token = f"{self._origin}:{sequence}".encode()
        (meta,) = self._cluster.produce(
            self.topic, [Record(payload, headers=((_ORIGIN, token),), partition=0)]
        )
        with self.lock:
            self._catch_up(meta.offset + 1)
            if sequence not in self._outcomes:
                raise StateLogError(
                    f"state log {self.topic!r}: command at offset {meta.offset} was not applied"
                )
            outcome = self._outcomes.pop(sequence)
        if isinstance(outcome, _Raised):
            raise outcome.error
        return outcome

    def sync(self) -> None:
        """Catch up to the current end of the log (read-your-writes across instances)."""
        with self.lock:
            self._catch_up(self._end())

    def close(self) -> None:
        """Stop using the log (the cluster stays open; it belongs to the caller)."""
        self._started = False

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
                    # `end` hold no records (Kafka's transaction markers, a compacted gap).
                    records = self._fetch()
                    if not records:
                        self._applied = end
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
                self._apply_record(record)
                self._applied = record.offset + 1

    def _fetch(self) -> list[ConsumedRecord]:
        """The next records from the applied offset; offsets deleted before they were applied
        are logged and skipped."""
        while True:
            try:
                return self._cluster.fetch(self.topic, 0, self._applied, _FETCH_BATCH)
            except OffsetOutOfRangeError:
                earliest = self._cluster.list_offsets(self.topic, OffsetSpec.EARLIEST).get(0, 0)
                if earliest <= self._applied:
                    raise
                logger.error(
                    "state log %s: offsets %d..%d were deleted before being applied",
                    self.topic,
                    self._applied,
                    earliest - 1,
                )
                self._applied = earliest

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
                self._outcomes[mine] = _Raised(StateLogError(f"malformed command: {exc}"))
            return
        try:
            outcome: Any = self._apply(self._state, command)
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
