"""The replication flows `streamgov up` runs: the `replication:` section of the project's
`streamgov.yaml`, with openers for the clusters each flow names."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from catalog.governance.files import load_governance
from engine.cluster import Cluster
from replicator.config import read_sections
from streamgov.config import ClusterSettings, ConfigError

#: How a flow names a cluster.
CLUSTER_SPEC_HELP = "an embedded cluster NAME, or NAME=HOST:PORT[,HOST:PORT] for Kafka"


def cluster_spec(spec: str) -> tuple[str, ClusterSettings]:
    """`NAME` (embedded) or `NAME=HOST:PORT` (Kafka) -> (alias, settings); `ConfigError`
    when the spec is neither."""
    alias, sep, bootstrap = spec.partition("=")
    if not alias:
        raise ConfigError(f"{spec!r}: give {CLUSTER_SPEC_HELP}")
    if sep:
        if not bootstrap.strip():
            raise ConfigError(f"{spec!r}: no bootstrap servers after '='")
        return alias, ClusterSettings(bootstrap=bootstrap.strip())
    return alias, ClusterSettings(cluster=alias)


def cluster_opener(spec: str) -> Callable[[], Cluster]:
    """A function opening the cluster `spec` names."""
    return cluster_spec(spec)[1].open


def project_flows(path: Path) -> tuple[tuple[object, object, object], ...]:
    """The flows of `path`'s `replication:` sections (none if the file does not exist);
    `ConfigFileError` (file:line) for a bad section."""
    if not path.exists():
        return ()
    governance = load_governance(path)
    specs = read_sections(governance.sections.get("replication", []))
    return tuple((spec, cluster_opener(spec.source), cluster_opener(spec.target)) for spec in specs)
