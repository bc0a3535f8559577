"""Options and error handling shared by every sub-command."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import click

from engine.cluster import Cluster
from engine.errors import EngineError
from streamgov.config import ClusterSettings, ConfigError
from streamgov.kafka_properties import KafkaProperties

F = TypeVar("F", bound=Callable[..., Any])

_PROPERTIES = "streamgov.kafka_options"
_VERBOSE = "streamgov.verbose"
_OPENED = "streamgov.kafka_properties"


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        ctx.meta[key] = value

    return store


def cluster_options(func: F) -> F:
    """Add `--cluster NAME`, `-b/--bootstrap HOST:PORT`, `-X key=value` and `-v/--verbose`.

    `-X` and `--verbose` do not reach the command's parameters: `open_cluster` reads them."""
    func = click.option(
        "--verbose",
        "-v",
        is_flag=True,
        expose_value=False,
        callback=_remember(_VERBOSE),
        help="Say which cluster and client properties are used (secrets masked) and show the "
        "Kafka client's log on stderr.",
    )(func)
    func = click.option(
        "--property",
        "-X",
        multiple=True,
        metavar="KEY=VALUE",
        expose_value=False,
        callback=_remember(_PROPERTIES),
        help="A librdkafka client property for Kafka (repeatable, as kcat -X); KEY=@FILE reads "
        "the value from a file. Also from STREAMGOV_KAFKA_* and the kafka: section of "
        "streamgov.yaml.",
    )(func)
    func = click.option(
        "--bootstrap",
        "-b",
        metavar="HOST:PORT",
        default=None,
        help="Use the Kafka cluster at these bootstrap servers (env STREAMGOV_BOOTSTRAP).",
    )(func)
    func = click.option(
        "--cluster",
        "cluster_name",
        metavar="NAME",
        default=None,
        help="Embedded cluster name under STREAMGOV_HOME (env STREAMGOV_CLUSTER; default: "
        "'default'). An option wins over the environment.",
    )(func)
    return func


class _Scrub(logging.Filter):
    """Masks secret property values in log records before any handler sees them."""

    def __init__(self, properties: KafkaProperties) -> None:
        super().__init__()
        self._properties = properties

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._properties.scrub(record.getMessage())
        record.args = None
        return True


class _ClientLog(logging.StreamHandler):
    """The `--verbose` handler of the Kafka client's log (one at a time)."""


def _show_client_log(properties: KafkaProperties) -> None:
    from engine.kafka.cluster import LIBRDKAFKA_LOGGER

    for old in [h for h in LIBRDKAFKA_LOGGER.handlers if isinstance(h, _ClientLog)]:
        LIBRDKAFKA_LOGGER.removeHandler(old)
    for stale in [f for f in LIBRDKAFKA_LOGGER.filters if isinstance(f, _Scrub)]:
        LIBRDKAFKA_LOGGER.removeFilter(stale)
    handler = _ClientLog()
    handler.setFormatter(logging.Formatter("kafka: %(message)s"))
    LIBRDKAFKA_LOGGER.addFilter(_Scrub(properties))
    LIBRDKAFKA_LOGGER.addHandler(handler)
    LIBRDKAFKA_LOGGER.setLevel(logging.INFO)


def cluster_settings(cluster_name: str | None, bootstrap: str | None) -> ClusterSettings:
    """The cluster the common options and the environment choose (one-line error if none)."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    try:
        return ClusterSettings.resolve(cluster_name, bootstrap, meta.get(_PROPERTIES) or ())
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def open_cluster(cluster_name: str | None, bootstrap: str | None) -> Cluster:
    """Open the cluster chosen by the common options, or fail with a one-line error."""
    ctx = click.get_current_context(silent=True)
    meta = ctx.meta if ctx is not None else {}
    settings = cluster_settings(cluster_name, bootstrap)
    meta[_OPENED] = settings.properties
    if meta.get(_VERBOSE):
        for line in settings.describe():
            click.echo(line, err=True)
        if settings.bootstrap:
            _show_client_log(settings.properties)
    try:
        return settings.open()
    except (ConfigError, EngineError) as exc:
        raise click.ClickException(str(exc)) from exc


def scrub(text: str) -> str:
    """`text` with the secret Kafka property values of this command masked."""
    ctx = click.get_current_context(silent=True)
    properties = ctx.meta.get(_OPENED) if ctx is not None else None
    return properties.scrub(text) if isinstance(properties, KafkaProperties) else text


def user_errors(func: F) -> F:
    """Turn expected errors (engine, configuration, OS) into one clear line and exit 1; no
    message shows a secret client property."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except click.ClickException as exc:
            exc.message = scrub(exc.message)
            raise
        except (EngineError, ConfigError, OSError, ValueError) as exc:
            raise click.ClickException(scrub(str(exc) or type(exc).__name__)) from exc

    return wrapper  # type: ignore[return-value]
