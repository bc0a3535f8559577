"""Routers whose every failure answers in the one error shape.

`shaped_router` gives a component an `APIRouter` whose route class handles, for that router's
routes only: 405 with an `Allow` header naming every method of the path, 415 for a body in a
content type the router does not accept, 413 for a body over the limit, 400 for a body that is
not JSON, 422 for invalid parameters, the component's own errors (through its translator), the
engine's storage failures (507 full disk, 503 damaged file) and anything unexpected (logged,
500). `install_fallback` answers what matches no router (404).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Receive, Scope, Send

from httpapi.errors import INTERNAL_ERROR, ApiError, error_body
from httpapi.storage import storage_error

log = logging.getLogger(__name__)

#: A component's own exceptions as `ApiError`s (None: not one of its errors).
ErrorTranslator = Callable[[Exception], ApiError | None]
#: Content types a JSON body may be sent with, unless a router names its own.
JSON_CONTENT_TYPES = ("application/json",)
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
_STATUSES = {status.value for status in HTTPStatus}


def _no_translation(exc: Exception) -> ApiError | None:
    return None


def _phrase(status: int) -> str:
    return HTTPStatus(status).phrase if status in _STATUSES else "Error"


def _describe_validation(problems: Sequence[Any]) -> str:
    parts = []
    for problem in list(problems)[:5]:
        location = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {problem.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


class ShapedRoute(APIRoute):
    """An `APIRoute` that answers every failure in the error shape (see the module docstring).

    `shaped_router` makes one subclass per router, carrying that router's settings.
    """

    translate: ClassVar[ErrorTranslator] = staticmethod(_no_translation)
    accept: ClassVar[tuple[str, ...]] = JSON_CONTENT_TYPES
    max_body_bytes: ClassVar[int] = 4 * 1024 * 1024
    error_class: ClassVar[type[JSONResponse]] = JSONResponse
    #: Every route of this class, to name all methods of a path in `Allow`.
    siblings: ClassVar[list[APIRoute]] = []

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.siblings.append(self)

    @classmethod
    def error_response(cls, error: ApiError) -> Response:
        """The response for `error` in this router's media type."""
        return cls.error_class(
            error_body(error.error_code, error.message),
            status_code=error.status,
            headers=error.headers or None,
        )

    def allowed_methods(self, scope: Scope) -> list[str]:
        """Every method some route of this router serves on the request's path."""
        served = []
        for method in _METHODS:
            probe = {**scope, "method": method}
            if any(route.matches(probe)[0] is Match.FULL for route in self.siblings):
                served.append(method)
        return served

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a method the path does not serve with 405 naming every method it does.

        Starlette hands a request whose path matched but whose method did not to the first
        route of the path, which would name only its own methods.
        """
        method = scope["method"]
        if self.methods and method not in self.methods:
            allowed = self.allowed_methods(scope) or sorted(self.methods)
            response = self.error_response(
                ApiError(
                    405,
                    f"Method {method} is not allowed here; use {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
            )
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)

    async def read_body(self, request: Request) -> None:
        """Refuse an unaccepted content type (415) or a body over the limit (413), then keep
        the body where FastAPI and the handler read it."""
        limit = self.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
        body = b"".join(chunks)
        content_type = request.headers.get("content-type")
        media = (content_type or "").split(";", 1)[0].strip().lower()
        if (content_type is not None or body) and media not in self.accept:
            raise ApiError(
                415,
                f"Unsupported content type {media or '(none)'!r}; send the body as "
                + " or ".join(self.accept),
            )
        request._body = body  # Starlette's cache, read by FastAPI's body parsing

    def to_error(self, request: Request, exc: Exception) -> ApiError:
        """The error shape of anything a handler raised."""
        if isinstance(exc, ApiError):
            return exc
        translated = storage_error(exc) or type(self).translate(exc)
        if translated is not None:
            return translated
        if isinstance(exc, RequestValidationError):
            problems = exc.errors()
            if any(p.get("type") == "json_invalid" for p in problems):
                return ApiError(400, "The request body is not valid JSON")
            return ApiError(422, f"Unprocessable request: {_describe_validation(problems)}")
        if isinstance(exc, HTTPException):
            return ApiError(exc.status_code, str(exc.detail), dict(exc.headers or {}))
        log.error("request failed: %s %s", request.method, request.url.path, exc_info=exc)
        return ApiError(INTERNAL_ERROR, "Internal error; the server log has the details")

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The endpoint, wrapped so that every failure answers in the error shape."""
        handler = super().get_route_handler()

        async def shaped(request: Request) -> Response:
            try:
                if request.method in _BODY_METHODS:
                    await self.read_body(request)
                return await handler(request)
            except Exception as exc:
                return self.error_response(self.to_error(request, exc))

        return shaped


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"Request body is over the limit of {limit} bytes")


class ShapedRouter(APIRouter):
    """An `APIRouter` that turns away, before trying each route, a path whose first segment
    none of its routes starts with: a request for `/v3/...` does not walk the registry's
    routes one regular expression at a time."""

    _first_segments: frozenset[str] | None = None
    _segments_of: int = -1

    def first_segments(self) -> frozenset[str] | None:
        """The first path segment of every route; None when a route starts with a parameter."""
        if self._segments_of != len(self.routes):
            firsts = {str(getattr(route, "path", "/{")).split("/", 2)[1] for route in self.routes}
            parameter = any("{" in first for first in firsts)
            self._first_segments = None if parameter else frozenset(firsts)
            self._segments_of = len(self.routes)
        return self._first_segments

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """No match without trying a route when the first path segment is not one of ours."""
        segments = self.first_segments()
        if segments is not None and scope["type"] == "http":
            path: str = scope["path"]
            if path.split("/", 2)[1] not in segments:
                return Match.NONE, {}
        return super().matches(scope)


async def json_body(request: Request) -> Any:
    """The request's body read as JSON, for routes that take it raw; an empty or unreadable
    body is a 400 in the error shape."""
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "The request body is not valid JSON") from None


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for error statuses, each with the error shape as its body."""
    body = {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "error_code": {"type": "integer"},
                    "message": {"type": "string"},
                },
                "required": ["error_code", "message"],
            }
        }
    }
    return {code: {"description": text, "content": body} for code, text in descriptions.items()}


def shaped_router(
    *,
    translate: ErrorTranslator = _no_translation,
    accept: Sequence[str] = JSON_CONTENT_TYPES,
    max_body_bytes: int = 4 * 1024 * 1024,
    error_class: type[JSONResponse] = JSONResponse,
    **router_options: Any,
) -> APIRouter:
    """An `APIRouter` (taking `APIRouter`'s options) whose routes answer in the error shape.

    `translate` turns the component's own exceptions into `ApiError`s; `accept` lists the
    content types a body may have; `error_class` renders error bodies (its media type).
    """
    route_class = type(
        "ShapedRoute",
        (ShapedRoute,),
        {
            "translate": staticmethod(translate),
            "accept": tuple(t.lower() for t in accept),
            "max_body_bytes": max_body_bytes,
            "error_class": error_class,
            "siblings": [],
        },
    )
    return ShapedRouter(route_class=route_class, **router_options)


class RouteTable:
    """Routes declared at module level and added to a router built later (with settings).

    `@table.get(path, **options)` records a route as `@router.get` would add one;
    `table.add_to(router)` adds them all, in order.
    """

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, Callable[..., Any], dict[str, Any]]] = []

    def _record(self, method: str, path: str, **options: Any) -> Callable[..., Any]:
        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            self._routes.append((method, path, func, options))
            return func

        return decorate

    def get(self, path: str, **options: Any) -> Callable[..., Any]:
        """Record a GET route."""
        return self._record("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[..., Any]:
        """Record a POST route."""
        return self._record("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[..., Any]:
        """Record a PUT route."""
        return self._record("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[..., Any]:
        """Record a PATCH route."""
        return self._record("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[..., Any]:
        """Record a DELETE route."""
        return self._record("DELETE", path, **options)

    def add_to(self, router: APIRouter) -> APIRouter:
        """Add every recorded route to `router`; returns it."""
        for method, path, func, options in self._routes:
            router.add_api_route(path, func, methods=[method], **options)
        return router


def install_fallback(app: FastAPI) -> None:
    """Answer what no router matched (an unknown path) in the error shape, and `GET /` with
    `{}` as Confluent's registry does, so health checks that probe `/` work."""

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse(
            error_body(exc.status_code, f"HTTP {exc.status_code} {_phrase(exc.status_code)}"),
            status_code=exc.status_code,
            headers=dict(exc.headers or {}) or None,
        )

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        message = f"Unprocessable request: {_describe_validation(exc.errors())}"
        return JSONResponse(error_body(422, message), status_code=422)

    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    root = shaped_router()

    @root.get("/", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {}

    app.include_router(root)
