"""`streamgov up`: the REST API (schema registry and the other components) over a cluster."""

from __future__ import annotations

import secrets
import socket
from pathlib import Path

import click

from engine.embedded import EmbeddedCluster
from engine.errors import InvalidTopicError
from engine.topics import RESERVED_TOPICS, validate_topic_name
from httpapi import is_loopback
from httpapi.tls import uvicorn_config
from registry.errors import RegistryError
from registry.service import SCHEMAS_TOPIC
from streamgov import __version__, fastpaths
from streamgov.cli.common import cluster_options, cluster_settings, open_cluster, user_errors
from streamgov.cli.tlsoptions import kafka_security, tls_options, tls_settings
from streamgov.config import embedded_cluster_path, project_config_file
from streamgov.replication import project_flows
from streamgov.server import ServerSettings, create_app
from streamgov.workers import reuseport_supported, serve_with_workers

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8081
DEFAULT_KAFKA_PORT = 9092


def check_port_free(host: str, port: int) -> None:
    """Fail with one clear line when the address is taken (before anything starts)."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc


def check_schemas_topic(_ctx: click.Context, _param: click.Parameter, name: str) -> str:
    """A legal Kafka topic name that is not one of Kafka's own topics."""
    try:
        validate_topic_name(name)
    except InvalidTopicError as exc:
        raise click.BadParameter(str(exc)) from None
    if name in RESERVED_TOPICS:
        raise click.BadParameter(f"{name!r} is one of Kafka's own topics")
    return name


def banner(
    *,
    cluster_label: str,
    url: str,
    kafka_bootstrap: str | None,
    data_dir: Path | None,
    engine: str,
    workers: int = 1,
) -> list[str]:
    """What `up` says at start: what it serves, where, and what to do next."""
    served: list[tuple[str, str | None]] = [
        ("REST API and schema registry", url),
        ("Kafka bootstrap", kafka_bootstrap),
        ("Metrics", f"{url}/metrics"),
        ("Data directory", str(data_dir) if data_dir is not None else None),
        ("Server processes", str(workers) if workers > 1 else None),
    ]
    tui = (
        "streamgov tui"
        if url == f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
        else (f"streamgov tui --url {url}")
    )
    return [
        f"streamgov {__version__} serving {cluster_label}",
        *(f"  {label}: {value}" for label, value in served if value is not None),
        engine,
        f"Next: `{tui}` to browse topics, schemas and lag; other commands reach this server "
        f"with STREAMGOV_URL={url}.",
        "Press Ctrl-C to stop.",
    ]


@click.command("up")
@cluster_options
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--log-level",
    default="warning",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--lag-interval",
    "lag_interval",
    metavar="SECONDS",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600.0),
    help="How often the lag monitor samples consumer groups.",
)
@click.option(
    "--schemas-topic",
    "schemas_topic",
    metavar="NAME",
    default=SCHEMAS_TOPIC,
    show_default=True,
    callback=check_schemas_topic,
    help="The topic holding the schema registry's state; give another one to keep apart from "
    "a registry that already uses _schemas on the same Kafka cluster.",
)
@click.option(
    "--allowed-host",
    "allowed_hosts",
    metavar="NAME",
    multiple=True,
    help="A host name clients reach this server by (repeatable; `*.example.com` for a domain, "
    "`*` for any). IP addresses and localhost are always served; other names are refused so "
    "that a web page cannot reach the server through DNS rebinding.",
)
@click.option(
    "--kafka-port",
    "kafka_port",
    default=DEFAULT_KAFKA_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the Kafka-protocol listener on --host (embedded clusters).",
)
@click.option("--no-kafka", is_flag=True, help="Do not open the Kafka-protocol listener.")
@click.option(
    "--auth",
    is_flag=True,
    help="Authenticate and authorize every request: REST (HTTP Basic, bearer tokens) and the "
    "Kafka listener (SASL PLAIN, SCRAM-SHA-256/512), with the ACLs of `streamgov acl`.",
)
@click.option(
    "--super-user",
    "super_users",
    multiple=True,
    metavar="PRINCIPAL",
    help="A principal allowed everything with --auth (User:admin; repeatable).",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(min=0.001),
    default=None,
    metavar="N",
    help="With --auth: REST requests per second per principal (429 with Retry-After above).",
)
@tls_options
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow listening on a non-loopback address without --auth.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing --port, say one per core: each serves the registry and "
    "the REST APIs; background work (lag sampling, catalog evaluation, the Kafka listener, "
    "replication) runs in the first, which the others forward /lag, /metrics and "
    "/replication to. Needs SO_REUSEPORT (Linux, macOS, BSD).",
)
@user_errors
def up(
    cluster_name: str | None,
    bootstrap: str | None,
    host: str,
    port: int,
    log_level: str,
    lag_interval: float,
    schemas_topic: str,
    allowed_hosts: tuple[str, ...],
    kafka_port: int,
    no_kafka: bool,
    auth: bool,
    super_users: tuple[str, ...],
    rate_limit: float | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    tls_key_password_file: Path | None,
    tls_ca: Path | None,
    tls_client_auth: str | None,
    tls_principal_mapping: str | None,
    insecure: bool,
    workers: int,
) -> None:
    """Serve the schema registry (Confluent-compatible, default http://127.0.0.1:8081) and
    the other components' REST APIs, over the embedded engine or Kafka (--bootstrap). On the
    embedded engine, Kafka clients connect to --host:--kafka-port (unless --no-kafka)."""
    import uvicorn

    if not auth and not insecure and not is_loopback(host):
        raise click.UsageError(
            f"refusing to listen on {host} without authentication: anyone who can reach it "
            "could change schemas, topics and offsets; add --auth (or --insecure)"
        )
    if (super_users or rate_limit) and not auth:
        raise click.UsageError("--super-user and --rate-limit need --auth")
    if workers > 1 and not reuseport_supported():
        raise click.ClickException(
            "--workers needs SO_REUSEPORT, which this platform lacks; serve with one process"
        )
    tls = tls_settings(
        tls_cert,
        tls_key,
        tls_key_password_file,
        tls_ca,
        tls_client_auth,
        tls_principal_mapping,
    )
    check_port_free(host, port)
    on_kafka = cluster_settings(cluster_name, bootstrap).bootstrap
    with_kafka = not no_kafka and not on_kafka
    if with_kafka:
        check_port_free(host, kafka_port)
    # Components read their tunables from here; add new options above and set them below.
    settings = ServerSettings(
        lag_interval_seconds=lag_interval,
        schemas_topic=schemas_topic,
        bind_host=host,
        allowed_hosts=allowed_hosts,
        kafka_port=kafka_port if with_kafka else None,
        auth=auth,
        super_users=super_users,
        rest_rate_limit=rate_limit,
        tls=tls,
        forward_secret=secrets.token_urlsafe(32) if workers > 1 else None,
        replication=project_flows(project_config_file()),
    )
    if not auth and not is_loopback(host):
        click.echo(
            f"warning: listening on {host} without authentication: anyone who can reach this "
            "address can change schemas, topics and offsets",
            err=True,
        )
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        try:
            app = create_app(cluster, settings)
        except RegistryError as exc:
            raise click.ClickException(f"cannot start the schema registry: {exc}") from exc
        listener = getattr(app.state, "kafka_listener", None)
        label = f"Kafka cluster {on_kafka}" if on_kafka else f"cluster '{cluster.name}'"
        scheme = "https" if tls is not None else "http"
        security = kafka_security(auth, tls)
        for line in banner(
            cluster_label=label,
            url=f"{scheme}://{host}:{port}",
            kafka_bootstrap=(
                None
                if listener is None
                else listener.bootstrap
                if security == "PLAINTEXT"
                else f"{listener.bootstrap} (security.protocol={security})"
            ),
            data_dir=None if on_kafka else embedded_cluster_path(cluster.name),
            engine=fastpaths.status(),
            workers=workers,
        ):
            click.echo(line, err=True)
        if isinstance(cluster, EmbeddedCluster):
            for problem in cluster.check_storage():  # damaged files, lost records: say so now
                click.echo(f"warning: {problem}", err=True)
        if workers == 1:
            config = uvicorn_config(
                app, tls, host=host, port=port, log_level=log_level, access_log=False
            )
            uvicorn.Server(config).run()
        else:
            serve_with_workers(
                app,
                workers - 1,
                cluster_settings(cluster_name, bootstrap),
                settings,
                host,
                port,
                log_level,
            )
    finally:
        cluster.close()
