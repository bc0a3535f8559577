"""`streamgov up --workers N`: one server process per core on one address.

Every process listens on the same address through its own `SO_REUSEPORT` socket, so the kernel
spreads connections over them. Components whose state lives in the cluster (the registry's
state log, the catalog's, `/v3`) are served by every process; the state log keeps several
instances on one data directory consistent (ids by log order). The first process, the
primary, alone runs the background work (lag sampling, catalog evaluation, the Kafka
listener); the others mount `create_app` with `ServerSettings.background` off and forward the
routes of primary-only components (`PRIMARY_ONLY` in `streamgov.server`) to the primary over
a private loopback socket, so every process answers the same thing. What a process keeps in
memory per client (the `--rate-limit` of `--auth`) is counted per process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from multiprocessing.process import BaseProcess

import httpx
import uvicorn
from fastapi import FastAPI, Request, Response

from httpapi import ServerSettings
from httpapi.settings import FORWARD_SECRET_HEADER, FORWARDED_PRINCIPAL_HEADER
from httpapi.tls import uvicorn_config
from streamgov.config import ClusterSettings

logger = logging.getLogger(__name__)

#: Request headers not passed on when forwarding (hop-by-hop, or recomputed by the client).
_HOP_HEADERS = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
_FORWARD_TIMEOUT_S = 30.0
#: Never passed on from a client: only this process vouches for a principal.
_FORWARD_HEADERS = frozenset({FORWARDED_PRINCIPAL_HEADER, FORWARD_SECRET_HEADER})


def reuseport_supported() -> bool:
    """Whether this platform lets several sockets listen on one address (`SO_REUSEPORT`)."""
    return hasattr(socket, "SO_REUSEPORT")


def listening_socket(host: str, port: int, *, reuse_port: bool) -> socket.socket:
    """A socket bound to host:port, ready for uvicorn; with `reuse_port` other processes can
    bind the same address and the kernel shares connections among them."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def mount_forwarding(
    app: FastAPI, prefixes: Sequence[str], primary_url: str, secret: str | None = None
) -> None:
    """Answer every request under `prefixes` with the primary's answer to it; with `secret`
    (shared with the primary), the principal this process authenticated goes along."""
    client = httpx.AsyncClient(base_url=primary_url, timeout=_FORWARD_TIMEOUT_S)

    async def forward(request: Request) -> Response:
        headers = [
            (name, value)
            for name, value in request.headers.items()
            if name.lower() not in _HOP_HEADERS and name.lower() not in _FORWARD_HEADERS
        ]
        principal = (request.scope.get("state") or {}).get("principal")
        if secret is not None and principal:
            headers += [(FORWARDED_PRINCIPAL_HEADER, principal), (FORWARD_SECRET_HEADER, secret)]
        answer = await client.request(
            request.method,
            request.url.path,
            params=request.url.query,
            headers=headers,
            content=await request.body(),
        )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP_HEADERS}
        kept.pop("content-encoding", None)  # httpx hands over the decoded body
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    for prefix in prefixes:
        for path in (prefix, f"{prefix}/{{rest:path}}"):
            app.add_api_route(path, forward, methods=methods, include_in_schema=False)
    app.router.add_event_handler("shutdown", client.aclose)


def worker_settings(settings: ServerSettings, primary_url: str) -> ServerSettings:
    """The settings of a process other than the primary: no background work, no Kafka
    listener and no replication flows of its own, primary-only routes forwarded to
    `primary_url`."""
    return replace(
        settings, background=False, kafka_port=None, replication=(), primary_url=primary_url
    )


def serve_worker(
    cluster: ClusterSettings, settings: ServerSettings, host: str, port: int, log_level: str
) -> None:
    """A worker process: serve the app on its own `SO_REUSEPORT` socket until told to stop
    (SIGTERM) or until the primary is gone."""
    from streamgov.server import create_app

    primary = os.getppid()
    opened = cluster.open()
    try:
        app = create_app(opened, settings)
        sock = listening_socket(host, port, reuse_port=True)
        server = uvicorn.Server(
            uvicorn_config(app, settings.tls, log_level=log_level, access_log=False, lifespan="on")
        )
        stop = threading.Event()

        def watch_primary() -> None:
            while not stop.wait(0.5):
                if os.getppid() != primary:
                    server.should_exit = True
                    return

        threading.Thread(target=watch_primary, name="primary-watch", daemon=True).start()
        try:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C reaches the whole group
                server.run(sockets=[sock])
        finally:
            stop.set()
            sock.close()
    finally:
        opened.close()


@contextlib.contextmanager
def workers(
    count: int,
    cluster: ClusterSettings,
    settings: ServerSettings,
    host: str,
    port: int,
    log_level: str,
) -> Iterator[list[BaseProcess]]:
    """Run `count` worker processes beside the caller (the primary) while the block runs; they
    are stopped (SIGTERM, then SIGKILL after 10 s) when it ends."""
    context = multiprocessing.get_context("spawn")
    processes: list[BaseProcess] = [
        context.Process(
            target=serve_worker,
            args=(cluster, settings, host, port, log_level),
            name=f"streamgov-worker-{number}",
            daemon=True,
        )
        for number in range(1, count + 1)
    ]
    try:
        for process in processes:
            process.start()
        yield processes
    finally:
        for process in processes:
            if process.pid is not None and process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            if process.pid is None:
                continue
            process.join(10)
            if process.is_alive():
                process.kill()
                process.join()


def serve_with_workers(
    app: FastAPI,
    extra: int,
    cluster: ClusterSettings,
    settings: ServerSettings,
    host: str,
    port: int,
    log_level: str,
) -> None:
    """Serve `app` in this process (the primary) and in `extra` worker processes, all on
    host:port, until interrupted; then stop the workers."""

    shared = listening_socket(host, port, reuse_port=True)
    private = listening_socket("127.0.0.1", 0, reuse_port=False)
    primary_url = f"http://127.0.0.1:{private.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn_config(app, settings.tls, log_level=log_level, access_log=False, lifespan="on")
    )
    try:
        with (
            workers(extra, cluster, worker_settings(settings, primary_url), host, port, log_level),
            contextlib.suppress(KeyboardInterrupt),
        ):  # uvicorn re-raises Ctrl-C
            if settings.tls is None:
                server.run(sockets=[shared, private])
            else:  # TLS outside; the workers' private socket stays plain loopback
                inside = _QuietServer(
                    uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="off")
                )
                asyncio.run(_serve_both(server, shared, inside, private))
    finally:
        shared.close()
        private.close()


class _QuietServer(uvicorn.Server):
    """A second server in the primary's loop: the first one handles the signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def install_signal_handlers(self) -> None:
        """Signals are the first server's (older uvicorn)."""


async def _serve_both(
    outside: uvicorn.Server,
    outside_socket: socket.socket,
    inside: uvicorn.Server,
    inside_socket: socket.socket,
) -> None:
    """Run both servers until either stops, then stop the other."""
    tasks = [
        asyncio.ensure_future(outside.serve(sockets=[outside_socket])),
        asyncio.ensure_future(inside.serve(sockets=[inside_socket])),
    ]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    outside.should_exit = inside.should_exit = True
    await asyncio.gather(*tasks)
