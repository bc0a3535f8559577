"""The `Host` header check that keeps DNS rebinding away from a server on a private address.

A web page can make a browser send requests to `127.0.0.1` by pointing its own host name at it
(DNS rebinding). Those requests carry the attacker's name in `Host`, so the server answers only
names it knows: an IP address (a rebinding always uses a name), `localhost`, the name it is
bound to, and the configured allowed hosts.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from httpapi.errors import error_body

#: The error code of a request whose `Host` names no address of this server.
HOST_NOT_ALLOWED = 40007


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """Whether `host` names only this machine (`localhost` or a loopback address)."""
    address = _ip(host)
    if address is not None:
        return address.is_loopback
    return host.lower() == "localhost" or host.lower().endswith(".localhost")


def is_wildcard(host: str) -> bool:
    """Whether `host` is an any-address bind (`0.0.0.0`, `::`, or empty)."""
    address = _ip(host) if host else None
    return not host or (address is not None and address.is_unspecified)


def host_name(header: str) -> str:
    """The name part of a `Host` header value (no port, IPv6 brackets kept off)."""
    header = header.strip()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


@dataclass(frozen=True)
class HostCheck:
    """Which `Host` header values a server answers."""

    bind_host: str = "127.0.0.1"
    allowed_hosts: tuple[str, ...] = ()

    def allows(self, header: str | None) -> bool:
        """Whether a request with this `Host` header may be served."""
        if header is None or "*" in self.allowed_hosts:
            return True
        name = host_name(header).lower().rstrip(".")
        if _ip(name) is not None or is_loopback(name) or name == self.bind_host.lower():
            return True
        for allowed in self.allowed_hosts:
            allowed = allowed.lower()
            if name == allowed or (allowed.startswith("*.") and name.endswith(allowed[1:])):
                return True
        return False


class HostCheckMiddleware:
    """ASGI middleware: a request whose `Host` the check refuses answers 400 in the error
    shape; everything else passes through."""

    def __init__(self, app: ASGIApp, check: HostCheck) -> None:
        self.app = app
        self.check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve or refuse one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or ()).get(b"host")
        header = raw.decode("latin-1") if raw is not None else None
        if self.check.allows(header):
            await self.app(scope, receive, send)
            return
        shown = (header or "")[:100]
        body = json.dumps(
            error_body(
                HOST_NOT_ALLOWED,
                f"Host {shown!r} is not a name of this server; add it with --allowed-host "
                "if it is (this check keeps DNS rebinding out)",
            )
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 400, "headers": headers})
        await send({"type": "http.response.body", "body": body})
