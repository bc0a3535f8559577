"""Authentication and authorization of every REST request: one ASGI middleware in front of
all routers.

Credentials: `Authorization: Basic` (a user's password, checked against the stored SCRAM
credential; a successful check is remembered for a minute so a client does not pay the key
derivation on every request) or `Authorization: Bearer <API token>`, or, over TLS without
an `Authorization` header, a verified client certificate (its mapped subject, as on the Kafka
listener). Without valid credentials: 401 with `WWW-Authenticate`. Then the request's `Requirement`
(`acl.rest_rules`) is decided; a refusal is 403 naming the missing permission. Both answers
use the one error shape.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from acl.audit import AuditLog, authorization_event, management_event
from acl.principal import CertificateNameError, CertificatePrincipals, NoMatchingRuleError
from acl.ratelimit import RateLimiter
from acl.rest_rules import READS, Listing, Requirement, filter_listing, listing_of, requirement
from acl.service import AccessControl
from engine.auth import ANONYMOUS, Operation
from httpapi.settings import FORWARD_SECRET_HEADER, FORWARDED_PRINCIPAL_HEADER
from httpapi.tls import client_certificate

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

UNAUTHORIZED = 40101
FORBIDDEN = 40301
TOO_MANY_REQUESTS = 42901
_REMEMBER_S = 60.0
_REMEMBER_MAX = 10_000


class PasswordCache:
    """Recently verified (user, password) pairs, keyed by a digest so no password is held."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(user: str, password: str, stored_key: bytes) -> bytes:
        return hashlib.sha256(b"\0".join((user.encode(), password.encode(), stored_key))).digest()

    def check(self, access: AccessControl, user: str, password: str) -> bool:
        """Whether the password is the user's (remembered for a minute; a changed password
        changes the stored key, so the old pair no longer matches)."""
        credential = access.credential(user, "SCRAM-SHA-256") or access.credential(
            user, "SCRAM-SHA-512"
        )
        if credential is None:
            return False
        key = self._key(user, password, credential.stored_key)
        now = self._clock()
        with self._lock:
            if self._seen.get(key, 0.0) > now:
                return True
        if not access.check_password(user, password):
            return False
        with self._lock:
            if len(self._seen) >= _REMEMBER_MAX:
                self._seen.clear()
            self._seen[key] = now + _REMEMBER_S
        return True


def principal_of(
    access: AccessControl, cache: PasswordCache, authorization: str | None
) -> str | None:
    """The principal the `Authorization` header proves, or None."""
    if not authorization:
        return None
    scheme, _, value = authorization.strip().partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer":
        user = access.check_token(value)
        return None if user is None else f"User:{user}"
    if scheme.lower() == "basic":
        try:
            user, sep, password = base64.b64decode(value, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        if sep and user and cache.check(access, user, password):
            return f"User:{user}"
    return None


class AuthMiddleware:
    """Every HTTP request authenticated and authorized (see the module docstring).
    `scope["state"]["principal"]` carries the principal to the routes."""

    def __init__(
        self,
        app: App,
        access: AccessControl,
        audit: AuditLog | None = None,
        limiter: RateLimiter | None = None,
        certificates: CertificatePrincipals | None = None,
        forward_secret: str | None = None,
    ) -> None:
        self.app = app
        self.access = access
        self.audit = audit
        self.limiter = limiter
        #: with TLS client authentication: client certificate -> principal
        self.certificates = certificates
        #: with `up --workers`: requests an extra worker forwards name their principal
        self.forward_secret = forward_secret
        self.passwords = PasswordCache()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        principal = self._forwarded(headers) or self._principal(scope, headers.get("authorization"))
        method, path = scope["method"], scope["path"]
        client = scope.get("client")
        address = str(client[0]) if client else None
        if principal is None:
            if self.audit is not None:
                self.audit.emit(
                    authorization_event(
                        self.access.cluster.name,
                        ANONYMOUS,
                        "AUTHENTICATE",
                        "REST",
                        path,
                        False,
                        method=f"rest.{method} {path}",
                        client_address=address,
                    )
                )
            challenge = [(b"www-authenticate", b'Basic realm="streamgov"')]
            message = "authentication required: HTTP Basic or a bearer token" + (
                " or a client certificate" if self.certificates is not None else ""
            )
            await _error(send, 401, UNAUTHORIZED, message, challenge)
            return
        if self.limiter is not None:
            wait = self.limiter.admit(principal)
            if wait > 0:
                retry = [(b"retry-after", RateLimiter.retry_after(wait).encode())]
                message = f"{principal} sent too many requests; retry in {wait:.1f} s"
                await _error(send, 429, TOO_MANY_REQUESTS, message, retry)
                return
        needed = requirement(method, path)
        if needed is not None and not self._allowed(principal, needed, scope):
            await _error(send, 403, FORBIDDEN, needed.describe(principal))
            return
        scope.setdefault("state", {})["principal"] = principal
        listing = listing_of(method, path)
        if listing is not None:
            await self.app(scope, receive, self._filtering(send, listing, principal, address))
            return
        if method in READS or self.audit is None:
            await self.app(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status and status[0] < 400:
            self.audit.emit(
                management_event(
                    self.access.cluster.name, principal, f"rest.{method} {path}", path, status[0]
                )
            )

    def _filtering(self, send: Send, listing: Listing, principal: str, host: str | None) -> Send:
        """A `send` that holds a listing's answer back and sends it without the items the
        principal may not DESCRIBE (an error answer, or one that is not JSON, unchanged)."""
        start: list[Message] = []
        chunks: list[bytes] = []

        def may(name: str) -> bool:
            decision = self.access.decide(
                principal, Operation.DESCRIBE, listing.resource_type, name, host, audit=False
            )
            return decision.allowed

        async def held(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.append(message)
                return
            if message["type"] != "http.response.body" or not start:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            head = start[0]
            if int(head["status"]) == 200:
                try:
                    answer = json.loads(body)
                except ValueError:
                    pass
                else:
                    body = json.dumps(
                        filter_listing(answer, listing, may), separators=(",", ":")
                    ).encode()
            headers = [(k, v) for k, v in head.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**head, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        return held

    def _forwarded(self, headers: dict[str, str]) -> str | None:
        """The principal an extra worker authenticated, on a request it forwarded here (the
        shared secret proves it; anyone else's header is ignored)."""
        secret = headers.get(FORWARD_SECRET_HEADER)
        if self.forward_secret is None or secret is None:
            return None
        if not hmac.compare_digest(secret.encode(), self.forward_secret.encode()):
            return None
        return headers.get(FORWARDED_PRINCIPAL_HEADER) or None

    def _principal(self, scope: Scope, authorization: str | None) -> str | None:
        """Who the request is from: the `Authorization` header when there is one (wrong
        credentials are not made up for by a certificate), else the client certificate."""
        if authorization or self.certificates is None:
            return principal_of(self.access, self.passwords, authorization)
        certificate = client_certificate(scope)
        if certificate is None:
            return None
        try:
            return self.certificates.principal(certificate)
        except (NoMatchingRuleError, CertificateNameError):
            return None

    def _allowed(self, principal: str, needed: Requirement, scope: Scope) -> bool:
        if needed.owner_may and principal in self.access.owners_of(needed.name):
            return True
        client = scope.get("client")
        host = str(client[0]) if client else None
        decision = self.access.decide(
            principal, needed.operation, needed.resource_type, needed.name, host
        )
        return decision.allowed


async def _error(
    send: Send,
    status: int,
    code: int,
    message: str,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = json.dumps({"error_code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": headers + (extra or [])}
    )
    await send({"type": "http.response.body", "body": body})
