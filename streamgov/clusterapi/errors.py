"""Errors of the cluster admin API and the route class that renders every failure as JSON.

Every failure answers `{"error_code": <int>, "message": <str>}` with an HTTP status equal to
the first three digits of `error_code`, as Confluent REST Proxy does. The route class catches
errors inside this router only, so other components' error handlers stay untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, ClassVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.types import Receive, Scope, Send

from engine import errors as engine_errors
from streamgov.clusterapi.models import ErrorBody

log = logging.getLogger(__name__)

#: REST Proxy's codes: 40403 for an unknown topic or partition, 40002 for a bad Kafka request.
UNKNOWN_TOPIC_OR_PARTITION = 40403
KAFKA_BAD_REQUEST = 40002
NOT_FOUND = 404
BAD_REQUEST = 400
UNPROCESSABLE = 422
FORBIDDEN = 403
READ_ONLY = 40301
GROUP_NOT_EMPTY = 40901
PAYLOAD_TOO_LARGE = 41301
UNAVAILABLE = 50302
UNSUPPORTED = 50101
METHOD_NOT_ALLOWED = 405

#: How each engine error is reported. Order matters only for subclasses (none today).
_ENGINE_CODES: dict[type[engine_errors.EngineError], int] = {
    engine_errors.UnknownTopicOrPartitionError: UNKNOWN_TOPIC_OR_PARTITION,
    engine_errors.TopicAlreadyExistsError: KAFKA_BAD_REQUEST,
    engine_errors.InvalidTopicError: KAFKA_BAD_REQUEST,
    engine_errors.InvalidPartitionsError: KAFKA_BAD_REQUEST,
    engine_errors.InvalidConfigError: KAFKA_BAD_REQUEST,
    engine_errors.RecordTooLargeError: KAFKA_BAD_REQUEST,
    engine_errors.OffsetOutOfRangeError: KAFKA_BAD_REQUEST,
    engine_errors.GroupNotEmptyError: GROUP_NOT_EMPTY,
    engine_errors.GroupIdNotFoundError: NOT_FOUND,
    engine_errors.RebalanceInProgressError: GROUP_NOT_EMPTY,
    engine_errors.AuthorizationError: FORBIDDEN,
    engine_errors.ClusterUnavailableError: UNAVAILABLE,
    engine_errors.UnsupportedByBackendError: UNSUPPORTED,
}


class ClusterApiError(Exception):
    """A failure to report to the client with a REST Proxy error code."""

    def __init__(self, error_code: int, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status: the first three digits of the error code."""
        return int(str(self.error_code)[:3])


#: OpenAPI documentation of the error bodies every route may answer.
ErrorBodyResponses: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad request"),
        (403, "Read-only server"),
        (404, "Unknown cluster, topic, partition or group"),
        (409, "Consumer group has active members"),
        (413, "Request body too large"),
        (422, "Invalid request body or parameters"),
    )
}


def cluster_not_found(cluster_id: str) -> ClusterApiError:
    """The path names a cluster this server does not serve."""
    return ClusterApiError(NOT_FOUND, f"Cluster {cluster_id} could not be found.")


def group_not_found(group_id: str) -> ClusterApiError:
    """The path names a consumer group that has neither members nor committed offsets."""
    return ClusterApiError(NOT_FOUND, f"Consumer group {group_id} could not be found.")


def bad_request(message: str) -> ClusterApiError:
    """The request is well-formed JSON but asks for something invalid."""
    return ClusterApiError(BAD_REQUEST, message)


def from_engine(exc: engine_errors.EngineError) -> ClusterApiError:
    """Translate an engine error, keeping its message (it names what was wrong)."""
    code = _ENGINE_CODES.get(type(exc), 50001)
    return ClusterApiError(code, str(exc) or type(exc).__name__)


def _describe_validation(errors: Sequence[Any]) -> str:
    parts = []
    for error in list(errors)[:5]:
        location = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{location or 'body'}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "invalid request"


def error_response(exc: ClusterApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response for an error."""
    return JSONResponse(
        status_code=exc.status,
        content={"error_code": exc.error_code, "message": exc.message},
        headers=headers,
    )


async def _read_limited_body(request: Request) -> None:
    """Read the body up front, refusing one over the server's request size limit (413)."""
    limit = int(request.app.state.services.settings.max_request_bytes)
    too_large = ClusterApiError(
        PAYLOAD_TOO_LARGE, f"Request body is over the limit of {limit} bytes"
    )
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    request._body = b"".join(chunks)  # FastAPI's body parsing reads this cache


class ClusterApiRoute(APIRoute):
    """An APIRoute that turns validation, engine and API errors into REST Proxy error bodies."""

    #: Every method served on each path of this route class, for the `Allow` header of 405s.
    path_methods: ClassVar[dict[str, set[str]]] = {}

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        self.path_methods.setdefault(self.path, set()).update(self.methods or ())

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a method this path does not serve with 405, an error body, and an `Allow`
        header naming every method of the path.

        Starlette matches routes one method at a time and lets the first route of the path
        answer 405 with only its own methods.
        """
        method = scope["method"]
        if self.methods and method not in self.methods:
            allowed = sorted(self.path_methods.get(self.path, self.methods))
            response = error_response(
                ClusterApiError(
                    METHOD_NOT_ALLOWED,
                    f"method {method} is not allowed on {self.path}; use {', '.join(allowed)}",
                ),
                headers={"Allow": ", ".join(allowed)},
            )
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                if request.method in {"POST", "PUT", "PATCH"}:
                    await _read_limited_body(request)
                return await handler(request)
            except ClusterApiError as exc:
                return error_response(exc)
            except RequestValidationError as exc:
                return error_response(
                    ClusterApiError(UNPROCESSABLE, _describe_validation(exc.errors()))
                )
            except HTTPException as exc:  # e.g. a body that is not valid JSON or UTF-8
                return error_response(ClusterApiError(exc.status_code, str(exc.detail)))
            except engine_errors.EngineError as exc:
                return error_response(from_engine(exc))
            except ValueError as exc:
                return error_response(bad_request(str(exc) or "invalid value"))
            except Exception:
                log.exception("cluster API request failed: %s %s", request.method, request.url)
                return error_response(ClusterApiError(50001, "internal error; see server log"))

        return guarded
