"""The HTTP shape every component's router follows.

One error shape (`{"error_code": <int>, "message": <str>}`) for every failure of every router:
unknown paths, methods a path does not serve (405 with `Allow`), bodies over the limit (413),
unreadable JSON (400), content types a route does not accept (415), invalid parameters (422)
and the component's own errors. A component builds its router with `shaped_router`, which
scopes that handling to the router's own routes, and exports one `mount` function with the
`Mount` signature; `streamgov/server.py` walks the list of mounts.

This package imports only `engine` (its storage errors), so every component may use it.
"""

from httpapi.errors import INTERNAL_ERROR, ApiError, error_body
from httpapi.hosts import HostCheck, HostCheckMiddleware, is_loopback, is_wildcard
from httpapi.routing import (
    JSON_CONTENT_TYPES,
    ErrorTranslator,
    RouteTable,
    error_responses,
    install_fallback,
    json_body,
    shaped_router,
)
from httpapi.settings import Closer, ServerSettings

__all__ = [
    "INTERNAL_ERROR",
    "JSON_CONTENT_TYPES",
    "ApiError",
    "Closer",
    "ErrorTranslator",
    "HostCheck",
    "HostCheckMiddleware",
    "RouteTable",
    "ServerSettings",
    "error_body",
    "error_responses",
    "install_fallback",
    "is_loopback",
    "is_wildcard",
    "json_body",
    "shaped_router",
]
