"""What a handler sees: the request, and the connection it arrived on with its principal."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.auth import ANONYMOUS, Authorizer, Operation, ResourceType


@dataclass
class Connection:
    """One client connection. `principal` is who the client is (ANONYMOUS until SASL is
    added); every handler asks `allowed` before it touches a resource."""

    host: str
    port: int
    principal: str = ANONYMOUS
    authorizer: Authorizer | None = None
    client_id: str = ""
    #: Per-connection scratch space for handlers (e.g. an authentication exchange).
    state: dict[str, Any] = field(default_factory=dict)

    def allowed(self, operation: Operation, resource_type: ResourceType, name: str) -> bool:
        """Whether this connection's principal may perform the operation (always, without an
        authorizer)."""
        if self.authorizer is None:
            return True
        return bool(
            self.authorizer.authorize(self.principal, operation, resource_type, name, self.host)
        )


@dataclass(frozen=True, slots=True)
class Request:
    """A decoded request: its header fields and its kio body."""

    api_key: int
    api_version: int
    correlation_id: int
    client_id: str
    body: Any
