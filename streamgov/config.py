"""Where streamgov keeps its data and how a command picks its cluster."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from engine.cluster import Cluster

DEFAULT_CLUSTER = "default"
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ConfigError(ValueError):
    """A user-supplied setting is not valid; the message says which and why."""


def streamgov_home() -> Path:
    """The data directory: `STREAMGOV_HOME`, else the per-user data directory."""
    env = os.environ.get("STREAMGOV_HOME")
    return Path(env).expanduser() if env else Path(platformdirs.user_data_dir("streamgov"))


def embedded_cluster_path(name: str = DEFAULT_CLUSTER, home: Path | None = None) -> Path:
    """The directory of the named embedded cluster (one directory per cluster)."""
    if not _CLUSTER_NAME.match(name) or name in {".", ".."}:
        raise ConfigError(
            f"cluster name {name!r} is not valid: use 1-64 letters, digits, '.', '_' or '-'"
        )
    return (home or streamgov_home()) / "clusters" / name


@dataclass(frozen=True)
class ClusterSettings:
    """Which cluster a command talks to: an embedded one by name, or Kafka by bootstrap."""

    cluster: str = DEFAULT_CLUSTER
    bootstrap: str | None = None

    @classmethod
    def resolve(cls, cluster: str | None, bootstrap: str | None) -> ClusterSettings:
        """Apply the environment defaults (`STREAMGOV_CLUSTER`, `STREAMGOV_BOOTSTRAP`).

        Naming both an embedded cluster and Kafka bootstrap servers is refused rather than
        silently picking one, and so is an empty bootstrap list.
        """
        if bootstrap is not None and not bootstrap.strip():
            raise ConfigError("--bootstrap is empty: give HOST:PORT[,HOST:PORT...]")
        if cluster and bootstrap:
            raise ConfigError(
                "--cluster and --bootstrap both given: --cluster names an embedded cluster, "
                "--bootstrap a Kafka cluster; use one"
            )
        return cls(
            cluster=cluster or os.environ.get("STREAMGOV_CLUSTER") or DEFAULT_CLUSTER,
            bootstrap=(bootstrap or os.environ.get("STREAMGOV_BOOTSTRAP") or "").strip() or None,
        )

    def open(self) -> Cluster:
        """Open the cluster these settings name."""
        if self.bootstrap:
            from engine.kafka import KafkaCluster

            return KafkaCluster(self.bootstrap)
        from engine.embedded import EmbeddedCluster

        path = embedded_cluster_path(self.cluster)
        return EmbeddedCluster(path, name=self.cluster)
