"""What a component reads when it is mounted, and what it hands back to be closed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from httpapi.tls import TlsSettings

#: Headers an extra worker of `up --workers` adds when it forwards a request to the primary:
#: who the worker authenticated, and the secret that proves the worker sent it.
FORWARDED_PRINCIPAL_HEADER = "x-streamgov-forwarded-principal"
FORWARD_SECRET_HEADER = "x-streamgov-forward-secret"

#: Stops one piece of a component's background work; called once, at shutdown.
Closer = Callable[[], None]


@dataclass
class ServerSettings:
    """Tunables of `streamgov up` that components read when they are mounted."""

    lag_interval_seconds: float = 10.0
    readonly: bool = False
    #: Largest request body any route accepts (413 above it).
    max_request_bytes: int = 4 * 1024 * 1024
    #: The topic holding the schema registry's log.
    schemas_topic: str = "_schemas"
    #: The address the server listens on; host names it answers to follow from it.
    bind_host: str = "127.0.0.1"
    #: Further names the `Host` header may carry (`*` accepts any), e.g. a proxy's name.
    allowed_hosts: tuple[str, ...] = ()
    #: The port of the Kafka-protocol listener on `bind_host` (embedded clusters); None: none.
    kafka_port: int | None = None
    #: Authenticate and authorize every request (REST and Kafka listener).
    auth: bool = False
    #: Principals allowed everything when `auth` is on (`User:admin`).
    super_users: tuple[str, ...] = ()
    #: Requests per second each principal may send with `auth` (429 above it); None: no limit.
    rest_rate_limit: float | None = None
    #: TLS for REST and the Kafka listener (`--tls-cert`, `--tls-key`, `--tls-ca`); None: plain
    tls: TlsSettings | None = None
    #: Replication flows `streamgov up` runs: (flow spec, source opener, target opener)
    #: triples built by the composition root (the replicator reads them).
    replication: tuple[tuple[object, object, object], ...] = ()
    #: Run background work (lag sampling, catalog evaluation); off in the extra processes of
    #: `streamgov up --workers`, where only the primary runs it.
    background: bool = True
    #: Where an extra worker process forwards the routes of primary-only components.
    primary_url: str | None = None
    #: Shared by the processes of `up --workers`: a forwarded request carrying it is taken to
    #: be from the principal the worker authenticated (e.g. by client certificate)
    forward_secret: str | None = field(default=None, repr=False)
