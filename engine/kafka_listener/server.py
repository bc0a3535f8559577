"""`KafkaListener`: the asyncio TCP server that speaks the Kafka protocol for an
`EmbeddedCluster`, in a thread of its own so that callers stay synchronous.

Each connection's frames are read by a `FrameProtocol` (the socket reads straight into a
large frame's own buffer) and answered in request order by one task (as Kafka does);
the blocking engine work of a request runs on the broker's thread pool, so one slow client or
one long-polling fetch never holds up another connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any

from kio.index import KioIndexError

from engine.auth import Authenticator, Authorizer, ClientQuotas
from engine.embedded import EmbeddedCluster
from engine.kafka_listener import apis, audit, memory, messages, throttling
from engine.kafka_listener.broker import FETCH_MAX_BYTES, Broker, BrokerSettings
from engine.kafka_listener.context import Connection, Request
from engine.kafka_listener.frames import BadFrameSizeError, Frame, FrameProtocol
from engine.kafka_listener.framing import (
    API_VERSIONS_KEY,
    MalformedRequestError,
    parse_header,
    unsupported_api_versions,
)
from engine.kafka_listener.handlers import sasl

logger = logging.getLogger(__name__)

_TXN_EXPIRY_S = 1.0


class KafkaListener:
    """Serves `cluster` to Kafka clients on host:port (port 0 picks a free one).

    `advertised_host` is the address clients are told to reconnect to (default: `host`, or
    127.0.0.1 when listening on every interface)."""

    def __init__(
        self,
        cluster: EmbeddedCluster,
        host: str = "127.0.0.1",
        port: int = 9092,
        *,
        advertised_host: str | None = None,
        authorizer: Authorizer | None = None,
        authenticator: Authenticator | None = None,
        quotas: ClientQuotas | None = None,
        auto_create_topics: bool = True,
        max_request_bytes: int = 100 * 1024 * 1024,
        fetch_max_bytes: int = FETCH_MAX_BYTES,
        ssl_context: ssl.SSLContext | None = None,
        certificate_principal: Callable[[bytes], str] | None = None,
    ) -> None:
        """With `ssl_context` the listener speaks TLS (SSL, or SASL_SSL with an
        authenticator); `certificate_principal` names the principal of a verified client
        certificate (DER) and may raise to refuse it."""
        self.cluster = cluster
        self.ssl_context = ssl_context
        self.certificate_principal = certificate_principal
        self.host = host
        self._sock = socket.create_server((host, port), reuse_port=False)
        self.port = int(self._sock.getsockname()[1])
        if advertised_host is None:
            advertised_host = "127.0.0.1" if host in ("", "0.0.0.0", "::") else host
        settings = BrokerSettings(
            advertised_host,
            self.port,
            auto_create_topics=auto_create_topics,
            max_request_bytes=max_request_bytes,
            fetch_max_bytes=fetch_max_bytes,
        )
        self.broker = Broker(cluster, settings, authorizer, authenticator=authenticator)
        self.broker.quotas = quotas
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._connections: set[asyncio.Task[None]] = set()
        #: set once every served API version's message classes are loaded (after `start`)
        self.schemas_loaded = threading.Event()

    @property
    def bootstrap(self) -> str:
        """The address clients bootstrap from (host:port)."""
        return f"{self.broker.settings.advertised_host}:{self.port}"

    def start(self) -> KafkaListener:
        """Start serving in a background thread; returns once connections are accepted.

        The process's malloc then keeps freed buffers for reuse (`memory`)."""
        memory.retain_freed_memory()
        self._thread = threading.Thread(target=self._run, name="kafka-listener", daemon=True)
        self._thread.start()
        self._ready.wait()
        threading.Thread(
            target=self._load_schemas, name="kafka-listener-schemas", daemon=True
        ).start()
        return self

    def _load_schemas(self) -> None:
        """Load every served API version's message classes in the background, so that no
        client's first request of a kind waits for its module to be imported."""
        try:
            messages.load_schemas(
                (key, version)
                for key, api in apis.APIS.items()
                for version in range(api.min_version, api.max_version + 1)
            )
        except Exception:  # each request still loads what it needs itself
            logger.debug("loading the message classes ahead failed", exc_info=True)
        finally:
            memory.freeze_heap()
            self.schemas_loaded.set()

    def stop(self) -> None:
        """Close every connection and stop serving."""
        if self._thread is None:
            return
        if self._stopping is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(timeout=30)
        self._thread = None
        self.broker.close()

    def __enter__(self) -> KafkaListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        self.broker.attach(self._loop)
        self.broker.transactions.on_end(self.broker.notify_appended)
        limit = self.broker.settings.max_request_bytes

        def protocol() -> FrameProtocol:
            return FrameProtocol(limit, self._start_serving)

        server = await self._loop.create_server(protocol, sock=self._sock, ssl=self.ssl_context)
        expiry = asyncio.create_task(self._expire_transactions())
        self._ready.set()
        try:
            await self._stopping.wait()
        finally:
            expiry.cancel()
            self.broker.groups.close()
            server.close()
            for task in list(self._connections):
                task.cancel()
            await asyncio.gather(*self._connections, return_exceptions=True)
            await server.wait_closed()

    async def _expire_transactions(self) -> None:
        while True:
            await asyncio.sleep(_TXN_EXPIRY_S)
            with contextlib.suppress(Exception):
                await self.broker.run(self.broker.transactions.expire)

    def _start_serving(self, frames: FrameProtocol) -> None:
        task = self._loop.create_task(self._accept(frames))
        self._connections.add(task)
        task.add_done_callback(self._connections.discard)

    async def _accept(self, frames: FrameProtocol) -> None:
        peer = frames.extra("peername") or ("", 0)
        sock = frames.extra("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn = Connection(str(peer[0]), int(peer[1]), authorizer=self.broker.authorizer)
        try:
            self._certify(conn, frames.extra("ssl_object"))
            await self._serve_connection(conn, frames)
        except (ConnectionError, BadFrameSizeError, MalformedRequestError, ssl.SSLError):
            pass
        except sasl.CertificateRefusedError as exc:
            logger.warning("Kafka connection from %s:%s refused: %s", conn.host, conn.port, exc)
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("Kafka connection from %s:%s failed", conn.host, conn.port)
        finally:
            frames.close()
            with contextlib.suppress(Exception):
                await frames.closed

    def _certify(self, conn: Connection, ssl_object: ssl.SSLObject | None) -> None:
        """A verified client certificate authenticates the connection as its principal."""
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der and self.certificate_principal is not None:
            try:
                conn.principal = self.certificate_principal(der)
            except Exception as exc:
                raise sasl.CertificateRefusedError(str(exc)) from exc
            conn.state[sasl.CERTIFIED] = True

    async def _serve_connection(self, conn: Connection, frames: FrameProtocol) -> None:
        # Kafka closes the connection on an invalid or oversize frame size: read_frame raises.
        while True:
            frame = await frames.read_frame()
            frames.serving(True)
            try:
                response = await self.handle_frame(conn, frame)
                if response == b"":
                    return
                if response is not None:
                    frames.write(response)
                    await frames.drain()
                    if conn.state.get(sasl.CLOSE):
                        return
            finally:
                frames.serving(False)
            if conn.state:
                await throttling.mute(conn)

    async def handle_frame(self, conn: Connection, frame: Frame) -> bytes | None:
        """The response frame for one request frame: None for no answer (acks=0), b"" to
        close the connection (what Kafka does on a request it cannot parse or serve)."""
        peek = parse_header(frame, None)
        api = apis.APIS.get(peek.api_key)
        if api is None or sasl.must_authenticate(self.broker, conn, peek.api_key):
            return b""
        if not api.min_version <= peek.api_version <= api.max_version:
            if peek.api_key == API_VERSIONS_KEY:
                return unsupported_api_versions(
                    peek.correlation_id, api.min_version, api.max_version
                )
            return b""
        try:
            flexible = messages.flexible_request(peek.api_key, peek.api_version)
        except KioIndexError:
            return b""  # advertised for feature detection only (Produce v0-2)
        header = parse_header(frame, flexible)
        try:
            body = messages.decode_body(peek.api_key, peek.api_version, frame, header.body_offset)
        except Exception:
            return b""
        conn.client_id = header.client_id
        request = Request(
            header.api_key, header.api_version, header.correlation_id, header.client_id, body
        )
        handler = api.handler
        if self.broker.auditor is not None and request.api_key in audit.CHANGE_APIS:
            handler = functools.partial(_audited, api.handler)
        quotas = self.broker.quotas
        if quotas is not None and peek.api_key not in throttling.EXEMPT_KEYS and quotas.active():
            return await throttling.answer(self.broker, conn, request, handler, len(frame))
        reply: Any = await handler(self.broker, conn, request)
        if reply is None:
            return None
        return messages.encode_response(
            request.api_key, request.api_version, request.correlation_id, reply
        )


async def _audited(
    handler: apis.Handler, broker: Broker, conn: Connection, request: Request
) -> Any:
    """The handler's reply, after telling the broker's auditor of the change it made."""
    reply = await handler(broker, conn, request)
    if reply is not None and broker.auditor is not None:
        audit.report(broker.auditor, conn, request, reply)
    return reply
