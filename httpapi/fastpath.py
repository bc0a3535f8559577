"""Raw ASGI answers for the hottest GET routes, ahead of FastAPI's routing and parameter solving.

A fast path serves an existing route for the requests it fully understands and leaves every
other request to that route. `install_fast_paths(app, router, {endpoint: handler})` takes each
endpoint's route from `router` and matches requests with the route's own path pattern. The
handler gets the request and the path parameters. It answers with a `Response`, or with None
for a request outside the plain forms it knows (it must have changed nothing then). The request
then goes on to the FastAPI route, which answers it as always, errors included. A handler that
raises leaves the request to the route too, so failures keep their one error shape, and the
route logs them.

The middleware is installed innermost, after every middleware of the application: host check,
authentication, authorization and rate limits run before a fast path as they run before the
route.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.routing import APIRoute
from starlette._utils import get_route_path
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

#: Answers a request from its path parameters, or returns None to leave it to the route.
FastHandler = Callable[[Request, dict[str, str]], Awaitable[Response | None]]


class FastPathMiddleware:
    """Serves `GET` requests on the fast paths' patterns (see the module docstring)."""

    def __init__(self, app: ASGIApp, routes: tuple[tuple[re.Pattern[str], FastHandler], ...]):
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = get_route_path(scope)
            for pattern, handler in self.routes:
                match = pattern.match(path)
                if match is None:
                    continue
                try:
                    response = await handler(Request(scope, receive), match.groupdict())
                except Exception:  # the route answers it in the error shape, and logs it
                    response = None
                if response is not None:
                    await response(scope, receive, send)
                    return
                break
        await self.app(scope, receive, send)


def _route_of(router: APIRouter, endpoint: Callable[..., Any]) -> APIRoute:
    for route in router.routes:
        methods = getattr(route, "methods", None) or ()
        if isinstance(route, APIRoute) and route.endpoint is endpoint and "GET" in methods:
            return route
    raise LookupError(f"no GET route of this router has the endpoint {endpoint.__name__}")


def install_fast_paths(
    app: FastAPI, router: APIRouter, handlers: Mapping[Callable[..., Any], FastHandler]
) -> None:
    """Serve the GET routes of `router` (included in `app` without a further prefix) whose
    endpoints are keys of `handlers` through those handlers first. `LookupError` when an
    endpoint is not a GET route of the router."""
    routes = tuple((_route_of(router, endpoint).path_regex, h) for endpoint, h in handlers.items())
    # Appended, not inserted: innermost of the user middlewares, whenever it is installed.
    app.user_middleware.append(Middleware(FastPathMiddleware, routes=routes))
