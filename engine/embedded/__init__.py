"""The embedded stream engine: a durable, partitioned log in SQLite (WAL), shared safely by
every process that opens the same cluster directory. See docs/engine.md."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from engine.auth import ANONYMOUS, Authorizer, AuthorizingCluster
from engine.embedded.clients import EmbeddedConsumer, EmbeddedProducer
from engine.embedded.engine import (
    DEFAULT_MAINTENANCE_INTERVAL_S,
    EmbeddedEngine,
    MaintenanceReport,
    now_ms,
)
from engine.errors import DamagedFileError, DataLossError


class EmbeddedCluster(AuthorizingCluster):
    """A `Cluster` stored in the directory `path` (one directory per named cluster).

    Operations are checked against `authorizer` for `principal` (everything is allowed when
    there is no authorizer). `maintenance_interval_s` sets how often a background thread
    enforces retention and compaction (None: only `run_maintenance`); `durable=True` makes
    every commit fsync (survives power loss, not only process crashes). `clock` (milliseconds)
    times group sessions and rebalance timeouts; tests pass a manual one."""

    def __init__(
        self,
        path: str | Path,
        name: str = "default",
        *,
        authorizer: Authorizer | None = None,
        principal: str = ANONYMOUS,
        maintenance_interval_s: float | None = DEFAULT_MAINTENANCE_INTERVAL_S,
        durable: bool = False,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.engine = EmbeddedEngine(
            path, name, maintenance_interval_s=maintenance_interval_s, durable=durable, clock=clock
        )
        super().__init__(self.engine, authorizer, principal)

    def __repr__(self) -> str:
        return f"EmbeddedCluster({str(self.path)!r}, name={self.name!r})"

    @property
    def path(self) -> Path:
        """The cluster directory."""
        return self.engine.path

    def run_maintenance(self, now_ms: int | None = None) -> MaintenanceReport:
        """Enforce retention and compaction on every topic now (optionally as of `now_ms`)."""
        return self.engine.run_maintenance(now_ms)

    def check_storage(self) -> list[DamagedFileError]:
        """Every damaged file of the cluster (see `EmbeddedEngine.check_storage`)."""
        return self.engine.check_storage()

    def recover(self, *, include_internal: bool = False) -> list[DataLossError]:
        """Accept reported losses so the damaged topics take writes again (internal ones only
        with `include_internal`; see `EmbeddedEngine.recover`)."""
        return self.engine.recover(include_internal=include_internal)

    def __enter__(self) -> EmbeddedCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "EmbeddedCluster",
    "EmbeddedConsumer",
    "EmbeddedEngine",
    "EmbeddedProducer",
    "MaintenanceReport",
]
