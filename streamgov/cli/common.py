"""Options and error handling shared by every sub-command."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from engine.cluster import Cluster
from engine.errors import EngineError
from streamgov.config import ClusterSettings, ConfigError

F = TypeVar("F", bound=Callable[..., Any])


def cluster_options(func: F) -> F:
    """Add `--cluster NAME` and `--bootstrap HOST:PORT` to a command."""
    func = click.option(
        "--bootstrap",
        metavar="HOST:PORT",
        default=None,
        help="Use the Kafka cluster at these bootstrap servers (env STREAMGOV_BOOTSTRAP).",
    )(func)
    func = click.option(
        "--cluster",
        "cluster_name",
        metavar="NAME",
        default=None,
        help="Embedded cluster name under STREAMGOV_HOME (default: 'default').",
    )(func)
    return func


def open_cluster(cluster_name: str | None, bootstrap: str | None) -> Cluster:
    """Open the cluster chosen by the common options, or fail with a one-line error."""
    try:
        return ClusterSettings.resolve(cluster_name, bootstrap).open()
    except (ConfigError, EngineError) as exc:
        raise click.ClickException(str(exc)) from exc


def user_errors(func: F) -> F:
    """Turn expected errors (engine, configuration, OS) into one clear line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (EngineError, ConfigError, OSError, ValueError) as exc:
            raise click.ClickException(str(exc) or type(exc).__name__) from exc

    return wrapper  # type: ignore[return-value]
