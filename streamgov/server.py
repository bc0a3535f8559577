"""The HTTP server: one FastAPI application that mounts every component's router.

This is the composition root for HTTP: it opens the components over one `Cluster` and wires
their routers. Registry routes sit at the root (Confluent-compatible paths); the other
components live under their own prefix.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI

from engine.cluster import Cluster
from streamgov import __version__


@dataclass
class ServerSettings:
    """Tunables of `streamgov up` that components read when they are wired in."""

    lag_interval_seconds: float = 10.0
    readonly: bool = False
    #: Largest request body the registry accepts (413 above it).
    max_request_bytes: int = 4 * 1024 * 1024
    #: The topic holding the schema registry's log.
    schemas_topic: str = "_schemas"


@dataclass
class Services:
    """The running components behind one application, and how to stop them."""

    cluster: Cluster
    settings: ServerSettings
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        """Stop components in reverse order of start."""
        for closer in reversed(self.closers):
            closer()
        self.closers.clear()


def create_app(cluster: Cluster, settings: ServerSettings | None = None) -> FastAPI:
    """Build the application over `cluster`, starting each component's background work."""
    services = Services(cluster=cluster, settings=settings or ServerSettings())
    app = FastAPI(
        title="streamgov",
        version=__version__,
        description="Schema registry, stream catalog, access control and lag monitoring.",
    )
    app.state.services = services
    # Components mount themselves here, each in its own block.

    # Schema registry: Confluent-compatible paths at the root.
    from registry.api import build_router, install_error_handlers
    from registry.service import SchemaRegistry

    schema_registry = SchemaRegistry(
        cluster, services.settings.schemas_topic, readonly=services.settings.readonly
    ).start()
    services.closers.append(schema_registry.close)
    app.state.schema_registry = schema_registry
    install_error_handlers(app)
    app.include_router(build_router(schema_registry, services.settings.max_request_bytes))

    # Cluster admin API (REST Proxy v3 shape): topics, records, consumer groups.
    from streamgov.clusterapi import router as cluster_router

    app.include_router(cluster_router)

    # Lag monitor: the sampling loop, /lag routes (KEDA endpoint included) and /metrics.
    from lagmonitor.api import build_metrics_router
    from lagmonitor.api import build_router as build_lag_router
    from lagmonitor.monitor import EVENTS_TOPIC, LagMonitor, MonitorConfig

    lag_monitor = LagMonitor(
        cluster,
        MonitorConfig(
            interval_seconds=services.settings.lag_interval_seconds,
            events_topic=None if services.settings.readonly else EVENTS_TOPIC,
        ),
    )
    lag_monitor.start()
    services.closers.append(lag_monitor.stop)
    app.state.lag_monitor = lag_monitor
    app.include_router(build_lag_router(lag_monitor))
    app.include_router(build_metrics_router(lag_monitor))
    app.router.add_event_handler("shutdown", services.close)
    return app


class ServerStartError(RuntimeError):
    """An in-process server did not come up (its thread died or it timed out)."""


@contextmanager
def serve_in_thread(app: FastAPI, *, port: int = 0, startup_timeout: float = 30.0) -> Iterator[str]:
    """Serve `app` on a loopback port (a free one by default) in a background thread; yields
    its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="streamgov-server", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise ServerStartError("the local streamgov server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
