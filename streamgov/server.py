"""The HTTP server: one FastAPI application assembled from the components' mounts.

Each component exports one `mount(app, cluster, settings)` function that starts what it runs,
includes its router (built with `httpapi.shaped_router`, so every error has one shape) and
returns what must be closed. `COMPONENTS` lists them in mount order; adding a component is its
module plus one line here. Registry routes sit at the root (Confluent-compatible paths); the
other components live under their own prefix.
"""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

import uvicorn
from fastapi import FastAPI

from engine.cluster import Cluster
from httpapi import Closer, HostCheck, HostCheckMiddleware, ServerSettings, install_fallback
from httpapi.tls import TlsSettings, uvicorn_config
from streamgov import __version__
from streamgov.workers import mount_forwarding

__all__ = [
    "COMPONENTS",
    "PRIMARY_ONLY",
    "Mount",
    "ServerSettings",
    "ServerStartError",
    "Services",
    "create_app",
    "serve_in_thread",
]


class Mount(Protocol):
    """A component's mount function: start its work, include its router, return closers."""

    def __call__(
        self, app: FastAPI, cluster: Cluster, settings: ServerSettings
    ) -> list[Closer]: ...


#: Every component served over HTTP, as `module:function`, mounted in this order.
COMPONENTS: tuple[str, ...] = (
    "registry.api:mount",  # Confluent-compatible schema registry at the root
    "acl.api:mount",  # access control: /v3/.../acls; with --auth, every request checked
    "catalog.api:mount",  # stream catalog at /catalog (reads schemas from the registry)
    "clusterapi:mount",  # cluster admin API in REST Proxy v3 shape at /v3
    "lagmonitor.api:mount",  # lag monitor at /lag (KEDA endpoint included) and /metrics
    "replicator.api:mount",  # replication flows from streamgov.yaml, status at /replication
    "streamgov.kafkaport:mount",  # Kafka-protocol listener on --kafka-port (embedded only)
)

#: Components whose state lives in one process's memory, with the paths they serve: with
#: `ServerSettings.background` off (the extra processes of `up --workers`) they are not
#: started, and their paths are forwarded to the primary (`ServerSettings.primary_url`).
PRIMARY_ONLY: dict[str, tuple[str, ...]] = {
    "lagmonitor.api:mount": ("/lag", "/metrics"),  # sampled windows
    "replicator.api:mount": ("/replication",),  # running flows
    "streamgov.kafkaport:mount": (),  # the listener owns its port
}


def load_mount(spec: str) -> Mount:
    """The mount function named by `module:function`."""
    module, _, name = spec.partition(":")
    mount: Mount = getattr(importlib.import_module(module), name)
    return mount


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
    try:
        for spec in COMPONENTS:
            forwarded = PRIMARY_ONLY.get(spec)
            if forwarded is not None and not services.settings.background:
                if forwarded and services.settings.primary_url:
                    mount_forwarding(
                        app,
                        forwarded,
                        services.settings.primary_url,
                        services.settings.forward_secret,
                    )
                continue
            services.closers.extend(load_mount(spec)(app, cluster, services.settings))
    except BaseException:
        services.close()
        raise
    install_fallback(app)
    hosts = HostCheck(services.settings.bind_host, services.settings.allowed_hosts)
    app.add_middleware(HostCheckMiddleware, check=hosts)
    app.router.add_event_handler("shutdown", services.close)
    return app


class ServerStartError(RuntimeError):
    """An in-process server did not come up (its thread died or it timed out)."""


@contextmanager
def serve_in_thread(
    app: FastAPI,
    *,
    port: int = 0,
    startup_timeout: float = 30.0,
    tls: TlsSettings | None = None,
) -> Iterator[str]:
    """Serve `app` on a loopback port (a free one by default) in a background thread, over
    TLS with `tls`; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    try:
        config = uvicorn_config(app, tls, log_config=None, access_log=False, lifespan="on")
    except BaseException:
        sock.close()
        raise
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
        yield f"{'https' if tls is not None else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
