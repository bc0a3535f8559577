"""Mounts the Kafka-protocol listener (engine.kafka_listener) beside the HTTP components, so
`streamgov up` on an embedded cluster is also a Kafka broker."""

from __future__ import annotations

from fastapi import FastAPI

from acl.principal import certificate_principals
from engine.cluster import Cluster
from engine.embedded import EmbeddedCluster
from httpapi import Closer, ServerSettings
from httpapi.tls import server_context


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Start the listener on settings.bind_host:settings.kafka_port (embedded clusters only;
    a Kafka cluster already is one), over TLS with `settings.tls`, where a verified client
    certificate's subject is the principal. `app.state.kafka_listener` is the listener or
    None."""
    app.state.kafka_listener = None
    if settings.kafka_port is None or not isinstance(cluster, EmbeddedCluster):
        return []
    from engine.kafka_listener import KafkaListener

    access = getattr(app.state, "access", None)
    secured = access if settings.auth else None
    tls = settings.tls
    certificates = certificate_principals(tls)
    quotas = getattr(app.state, "quotas", None)
    listener = KafkaListener(
        cluster,
        settings.bind_host,
        settings.kafka_port,
        authorizer=secured,
        authenticator=secured.authenticator() if secured is not None else None,
        ssl_context=server_context(tls) if tls is not None else None,
        certificate_principal=certificates.principal if certificates is not None else None,
        quotas=quotas,
    )
    listener.broker.acl_admin = access
    listener.broker.auditor = secured  # with --auth, allowed changes are audited
    listener.broker.quota_admin = quotas
    listener.start()
    app.state.kafka_listener = listener
    catalog = getattr(app.state, "catalog", None)
    if catalog is not None:  # the catalog sees who produces to which stream
        listener.broker.produce_observers.append(catalog.observe_produce)
    return [listener.stop]
