"""`streamgov demo`: a small live platform on the embedded engine, served like `streamgov up`,
with producers and consumers running until Ctrl-C (see docs/generate.md)."""

from __future__ import annotations

import threading
import time

import click

from engine.cluster import Cluster
from streamgov import fastpaths
from streamgov.cli.common import user_errors
from streamgov.cli.up import (
    DEFAULT_HOST,
    DEFAULT_KAFKA_PORT,
    DEFAULT_PORT,
    banner,
    check_port_free,
)
from streamgov.config import ClusterSettings, embedded_cluster_path
from streamgov.server import ServerSettings, create_app

#: Seconds between two ticks of the demo's producers and consumers.
TICK_SECONDS = 1.0
#: Streams and groups the demo replicates to its disaster-recovery cluster.
REPLICATED_TOPICS = r"orders|payments\.v2|customers"
REPLICATED_GROUPS = r"shipping|finance|crm-sync"


def _replication(name: str) -> tuple[tuple[object, object, object], ...]:
    """One flow: the demo cluster to `<name>-dr` (both embedded)."""
    from replicator.config import FlowSpec
    from replicator.flow import Flow
    from streamgov.replication import cluster_opener

    target = f"{name}-dr"
    flow = Flow(source=name, target=target, topics=REPLICATED_TOPICS, groups=REPLICATED_GROUPS)
    return ((FlowSpec(flow, name, target), cluster_opener(name), cluster_opener(target)),)


def _run_platform(cluster: Cluster, url: str, seed: int, stop: threading.Event) -> None:
    """Wait for the server, seed the platform, then tick until `stop` (in a thread)."""
    import httpx

    from streamgov.demo import DemoPlatform

    while not stop.is_set():
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        stop.wait(0.1)
    if stop.is_set():
        return
    platform = DemoPlatform(cluster, url, seed=seed)
    try:
        platform.seed()
        click.echo(
            "Demo platform seeded: 5 services, 5 streams (Avro, JSON Schema, Protobuf), "
            "6 schema versions in use; group 'analytics' is falling behind.",
            err=True,
        )
        next_tick = time.monotonic()
        while not stop.is_set():
            platform.tick()
            next_tick += TICK_SECONDS
            stop.wait(max(0.0, next_tick - time.monotonic()))
    except Exception as exc:  # the server keeps serving what was built; say what stopped
        click.echo(f"demo producers stopped: {exc}", err=True)
    finally:
        platform.close()


@click.command("demo")
@click.option(
    "--cluster",
    "cluster_name",
    default="demo",
    show_default=True,
    metavar="NAME",
    help="Embedded cluster to build the demo in (its replica is NAME-dr).",
)
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--kafka-port",
    default=DEFAULT_KAFKA_PORT,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the Kafka-protocol listener.",
)
@click.option("--no-kafka", is_flag=True, help="Do not open the Kafka-protocol listener.")
@click.option(
    "--lag-interval",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.05, 3600.0),
    metavar="SECONDS",
    help="How often the lag monitor samples (a verdict needs 10 samples).",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed of the records.")
@user_errors
def demo(
    cluster_name: str,
    host: str,
    port: int,
    kafka_port: int,
    no_kafka: bool,
    lag_interval: float,
    seed: int,
) -> None:
    """Build a small live platform on the embedded engine and serve it like `streamgov up`:
    services with owners, streams with PII and financial tags, a deprecated stream a consumer
    still reads, compatible schema versions, producers writing generated records, consumer
    groups of which one falls behind, and a replication flow to NAME-dr. Browse it with
    `streamgov tui`; Ctrl-C stops it (the data stays)."""
    import uvicorn

    check_port_free(host, port)
    if not no_kafka:
        check_port_free(host, kafka_port)
    settings = ServerSettings(
        lag_interval_seconds=lag_interval,
        bind_host=host,
        kafka_port=None if no_kafka else kafka_port,
        replication=_replication(cluster_name),
    )
    cluster = ClusterSettings(cluster=cluster_name).open()
    stop = threading.Event()
    url = f"http://{host}:{port}"
    try:
        app = create_app(cluster, settings)
        listener = getattr(app.state, "kafka_listener", None)
        for line in banner(
            cluster_label=f"demo cluster '{cluster_name}'",
            url=url,
            kafka_bootstrap=listener.bootstrap if listener is not None else None,
            data_dir=embedded_cluster_path(cluster_name),
            engine=fastpaths.status(),
        ):
            click.echo(line, err=True)
        worker = threading.Thread(
            target=_run_platform, args=(cluster, url, seed, stop), name="demo", daemon=True
        )
        worker.start()
        try:
            uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
        finally:
            stop.set()
            worker.join(timeout=10)
    finally:
        cluster.close()
