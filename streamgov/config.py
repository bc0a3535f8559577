"""Where streamgov keeps its data and how a command picks its cluster."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from engine.cluster import Cluster
from streamgov.kafka_properties import KafkaProperties, KafkaPropertyError, gather

DEFAULT_CLUSTER = "default"
PROJECT_FILE = "streamgov.yaml"
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


def project_config_file(env: Mapping[str, str] | None = None) -> Path:
    """The project's `streamgov.yaml`: `STREAMGOV_CONFIG`, else the one in the current
    directory (it need not exist)."""
    named = (os.environ if env is None else env).get("STREAMGOV_CONFIG")
    return Path(named).expanduser() if named else Path.cwd() / PROJECT_FILE


@dataclass(frozen=True)
class ClusterSettings:
    """Which cluster a command talks to: an embedded one by name, or Kafka by bootstrap, with
    the librdkafka properties that reach it (security settings and the like)."""

    cluster: str = DEFAULT_CLUSTER
    bootstrap: str | None = None
    properties: KafkaProperties = field(default_factory=KafkaProperties)

    @classmethod
    def resolve(
        cls,
        cluster: str | None,
        bootstrap: str | None,
        options: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> ClusterSettings:
        """Pick the cluster by one rule: an option beats the environment.

        `--cluster` and `--bootstrap` together are refused; either one alone wins over both
        `STREAMGOV_CLUSTER` and `STREAMGOV_BOOTSTRAP`. Without either option,
        `STREAMGOV_BOOTSTRAP` picks Kafka and `STREAMGOV_CLUSTER` an embedded cluster; both
        set is refused. An empty bootstrap list is refused. `options` are `-X key=value`
        client properties, merged over the environment and the `kafka:` section of
        `streamgov.yaml` (Kafka only: refused with an embedded cluster).
        """
        environ = os.environ if env is None else env
        if bootstrap is not None and not bootstrap.strip():
            raise ConfigError("--bootstrap is empty: give HOST:PORT[,HOST:PORT...]")
        if cluster and bootstrap:
            raise ConfigError(
                "--cluster and --bootstrap both given: --cluster names an embedded cluster, "
                "--bootstrap a Kafka cluster; use one"
            )
        env_cluster = environ.get("STREAMGOV_CLUSTER") or None
        env_bootstrap = (environ.get("STREAMGOV_BOOTSTRAP") or "").strip() or None
        if not cluster and not bootstrap:
            if env_cluster and env_bootstrap:
                raise ConfigError(
                    "STREAMGOV_CLUSTER and STREAMGOV_BOOTSTRAP are both set: unset one, or "
                    "choose with --cluster or --bootstrap"
                )
            cluster, bootstrap = env_cluster, env_bootstrap
        if not bootstrap:
            if options:
                raise ConfigError(
                    "-X sets Kafka client properties, but the cluster is embedded "
                    f"({cluster or DEFAULT_CLUSTER}); give --bootstrap or STREAMGOV_BOOTSTRAP"
                )
            return cls(cluster=cluster or DEFAULT_CLUSTER)
        try:
            properties = gather(options, environ, project_config_file(environ))
        except KafkaPropertyError as exc:
            raise ConfigError(str(exc)) from None
        return cls(cluster=DEFAULT_CLUSTER, bootstrap=bootstrap.strip(), properties=properties)

    def describe(self) -> list[str]:
        """What these settings connect to, one line each, secrets masked (for `--verbose`)."""
        if not self.bootstrap:
            return [f"cluster: embedded {self.cluster!r} at {embedded_cluster_path(self.cluster)}"]
        return [f"cluster: Kafka at {self.bootstrap}"] + [
            f"kafka property {line}" for line in self.properties.describe()
        ]

    def open(self) -> Cluster:
        """Open the cluster these settings name, with every client property passed through.

        A property librdkafka refuses is a `ConfigError` naming it and where it was set; no
        message carries a secret value."""
        if self.bootstrap:
            from engine.errors import EngineError
            from engine.kafka import KafkaCluster

            try:
                config: dict[str, Any] = dict(self.properties.config())
                return KafkaCluster(self.bootstrap, **config)
            except EngineError as exc:
                raise type(exc)(self.properties.scrub(str(exc))) from None
            except Exception as exc:  # librdkafka refuses a property at client creation
                raise ConfigError(self._refused(exc)) from None
        from engine.embedded import EmbeddedCluster

        path = embedded_cluster_path(self.cluster)
        return EmbeddedCluster(path, name=self.cluster)

    def _refused(self, exc: Exception) -> str:
        first = exc.args[0] if exc.args else exc
        describe = getattr(first, "str", None)  # a KafkaError says it best in its str()
        text = self.properties.scrub(str(describe() if callable(describe) else first))
        named = [p for p in self.properties.properties if f'"{p.key}"' in text]
        where = f" (set by {named[0].source})" if named else ""
        return f"Kafka client configuration refused: {text}{where}"
