"""`Broker`: the state every connection shares (the engine, producer ids, the group and
transaction coordinators) and the thread pool the blocking engine calls run on."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from engine.auth import (
    AclAdmin,
    Authenticator,
    Authorizer,
    ChangeAuditor,
    ClientQuotaAdmin,
    ClientQuotas,
)
from engine.embedded import EmbeddedCluster
from engine.embedded.engine import EmbeddedEngine
from engine.embedded.metadata import TopicMeta
from engine.errors import EngineError
from engine.kafka_listener import throttling
from engine.kafka_listener.coordinator import GroupCoordinator
from engine.kafka_listener.pool import LifoThreadPool
from engine.kafka_listener.producers import ProducerRegistry
from engine.kafka_listener.transactions import TransactionCoordinator

T = TypeVar("T")

#: How often a long-polling fetch looks again for records written by another process
#: (appends made through this listener wake it at once).
EXTERNAL_WRITE_POLL_S = 0.1
#: The default broker `fetch.max.bytes` (see `BrokerSettings.fetch_max_bytes`).
FETCH_MAX_BYTES = 4 * 1024 * 1024

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BrokerSettings:
    """How the broker presents itself."""

    advertised_host: str
    port: int
    node_id: int = 1
    auto_create_topics: bool = True
    max_request_bytes: int = 100 * 1024 * 1024
    #: the broker's `fetch.max.bytes`: the most record bytes one Fetch response carries,
    #: whatever the request asks (the first batch still goes in whole). A small response
    #: lets the client parse it while the next one is on its way.
    fetch_max_bytes: int = FETCH_MAX_BYTES


class Broker:
    """One single-node Kafka broker over an `EmbeddedCluster`."""

    def __init__(
        self,
        cluster: EmbeddedCluster,
        settings: BrokerSettings,
        authorizer: Authorizer | None = None,
        workers: int = 8,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.cluster = cluster
        self.engine: EmbeddedEngine = cluster.engine
        self.settings = settings
        self.authorizer = authorizer
        #: with one, every connection authenticates (SASL) before any other request
        self.authenticator = authenticator
        #: answers DescribeAcls, CreateAcls and DeleteAcls (SECURITY_DISABLED without one)
        self.acl_admin: AclAdmin | None = None
        #: told of every change a client made (admin, ACLs, groups); none: not recorded
        self.auditor: ChangeAuditor | None = None
        #: measures clients against their quotas and says how long to throttle them
        self.quotas: ClientQuotas | None = None
        #: answers DescribeClientQuotas and AlterClientQuotas
        self.quota_admin: ClientQuotaAdmin | None = None
        self.cluster_id = _cluster_id(cluster)
        self.producers = ProducerRegistry(recall=self._stored_producer_batches)
        self._topic_locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()
        self.groups = GroupCoordinator(self.engine)
        self.transactions = TransactionCoordinator(self.engine, self.producers)
        self._executor = LifoThreadPool(workers, thread_name_prefix="kafka-listener")
        self._loop: asyncio.AbstractEventLoop | None = None
        self._appended: asyncio.Event | None = None
        #: called with (principal, client id, topic) after records were appended to the topic;
        #: they must return at once (the catalog queues what it is told)
        self.produce_observers: list[Callable[[str, str, str], None]] = []

    def _stored_producer_batches(
        self, pid: int, topic: str, partition: int
    ) -> list[tuple[int, int, int, int]]:
        try:
            return self.engine.producer_batches(topic, partition, pid)
        except EngineError:  # the topic went away: nothing to recall
            return []

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Bind to the event loop that serves the connections."""
        self._loop = loop
        self._appended = asyncio.Event()
        self.groups.attach(loop)

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run a blocking engine call on the pool."""
        assert self._loop is not None
        return await self._loop.run_in_executor(self._executor, fn, *args)

    def observe_produce(self, principal: str, client_id: str, topic: str) -> None:
        """Tell the produce observers who wrote to `topic`; an observer's failure is logged,
        never the producer's problem."""
        for observer in self.produce_observers:
            try:
                observer(principal, client_id, topic)
            except Exception:
                logger.exception("produce observer failed")

    def notify_appended(self) -> None:
        """Wake long-polling fetches (callable from any thread)."""
        if self._loop is not None and self._appended is not None:
            self._loop.call_soon_threadsafe(self.wake_fetches)

    def wake_fetches(self) -> None:
        """Wake long-polling fetches (on the event loop's thread)."""
        assert self._appended is not None
        self._appended.set()
        self._appended = asyncio.Event()

    async def wait_for_append(self, timeout: float) -> None:
        """Return after the next append through this broker, or after `timeout` seconds (capped
        so that appends by other processes are noticed too)."""
        assert self._appended is not None
        event = self._appended
        with contextlib.suppress(TimeoutError), throttling.idle():
            await asyncio.wait_for(event.wait(), min(timeout, EXTERNAL_WRITE_POLL_S))

    def topic_lock(self, topic: str) -> threading.Lock:
        """The lock that orders sequence checks and appends on one topic."""
        with self._locks_lock:
            lock = self._topic_locks.get(topic)
            if lock is None:
                lock = self._topic_locks[topic] = threading.Lock()
            return lock

    def topics(self) -> dict[str, TopicMeta]:
        """The topic catalog (called on a pool thread or the loop; cheap when unchanged)."""
        return self.engine.topic_metadata()

    def close(self) -> None:
        """Stop the pool (after the loop has stopped)."""
        self._executor.shutdown(wait=True, cancel_futures=True)


def _cluster_id(cluster: EmbeddedCluster) -> str:
    """A stable id per cluster directory (Kafka clients only compare it)."""
    file = cluster.path / "kafka-cluster-id"
    try:
        return file.read_text().strip()
    except FileNotFoundError:
        cid = uuid.uuid4().hex[:22]
        tmp = file.with_suffix(".tmp")
        tmp.write_text(cid)
        tmp.replace(file)
        return file.read_text().strip()
