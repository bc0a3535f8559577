"""SaslHandshake and SaslAuthenticate: a connection authenticates before any other request
when the listener has an authenticator (Kafka's SaslServerAuthenticator flow, v1 framing)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.auth import AuthenticationFailedError
from engine.kafka_listener import errors
from engine.kafka_listener.context import Connection, Request

if TYPE_CHECKING:
    from engine.kafka_listener.broker import Broker

#: APIs a connection may send before it has authenticated.
BEFORE_AUTHENTICATION = frozenset({17, 18, 36})
#: `Connection.state` keys: the exchange under way, done, close after this reply.
EXCHANGE, AUTHENTICATED, CLOSE = "sasl.exchange", "sasl.authenticated", "close"
#: `Connection.state` key: a verified TLS client certificate named the principal (SSL); the
#: client may still authenticate with SASL (SASL_SSL), whose identity then wins.
CERTIFIED = "tls.certified"


class CertificateRefusedError(Exception):
    """A verified client certificate maps to no principal (the connection is closed)."""


def must_authenticate(broker: Broker, conn: Connection, api_key: int) -> bool:
    """Whether the request must be refused (by closing) because the connection has not
    authenticated yet."""
    return (
        broker.authenticator is not None
        and api_key not in BEFORE_AUTHENTICATION
        and not conn.state.get(AUTHENTICATED)
        and not conn.state.get(CERTIFIED)
    )


async def sasl_handshake(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Choose a mechanism (33 UNSUPPORTED_SASL_MECHANISM when it is not offered)."""
    authenticator = broker.authenticator
    mechanisms = list(authenticator.mechanisms) if authenticator is not None else []
    mechanism = request.body.mechanism
    if authenticator is None or mechanism not in mechanisms or conn.state.get(AUTHENTICATED):
        code = (
            errors.ILLEGAL_SASL_STATE
            if conn.state.get(AUTHENTICATED)
            else (errors.UNSUPPORTED_SASL_MECHANISM)
        )
        return {"error_code": code, "mechanisms": mechanisms}
    conn.state[EXCHANGE] = authenticator.start(mechanism)
    return {"error_code": errors.NONE, "mechanisms": mechanisms}


async def sasl_authenticate(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """One round of the exchange; a failure answers 58 and closes the connection."""
    exchange = conn.state.get(EXCHANGE)
    if exchange is None:
        conn.state[CLOSE] = True
        return {"error_code": errors.ILLEGAL_SASL_STATE, "error_message": "no SASL handshake"}
    try:
        reply, principal = await broker.run(exchange.step, bytes(request.body.auth_bytes))
    except AuthenticationFailedError as exc:
        conn.state[CLOSE] = True
        return {"error_code": errors.SASL_AUTHENTICATION_FAILED, "error_message": str(exc)}
    if principal is not None:
        del conn.state[EXCHANGE]
        conn.state[AUTHENTICATED] = True
        conn.principal = principal
    return {"error_code": errors.NONE, "error_message": None, "auth_bytes": reply}
