"""Errors of the cluster admin API in Confluent REST Proxy's codes.

Every failure answers `{"error_code": <int>, "message": <str>}` with an HTTP status equal to
the first three digits of `error_code`, as Confluent REST Proxy does; the router is built with
`httpapi.shaped_router`, which renders them, and `translate` names the engine's errors.
"""

from __future__ import annotations

from typing import Any

from clusterapi.models import ErrorBody
from engine import errors as engine_errors
from httpapi import ApiError

#: REST Proxy's codes: 40403 for an unknown topic or partition, 40002 for a bad Kafka request.
UNKNOWN_TOPIC_OR_PARTITION = 40403
KAFKA_BAD_REQUEST = 40002
NOT_FOUND = 404
BAD_REQUEST = 400
FORBIDDEN = 403
READ_ONLY = 40301
#: A change to an internal topic without `internal=true`.
INTERNAL_TOPIC = 40302
GROUP_NOT_EMPTY = 40901
UNAVAILABLE = 50302
UNSUPPORTED = 50101

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


class ClusterApiError(ApiError):
    """A failure to report to the client with a REST Proxy error code."""


#: OpenAPI documentation of the error bodies every route may answer.
ErrorBodyResponses: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad request"),
        (403, "Read-only server, or a change to an internal topic without internal=true"),
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


def translate(exc: Exception) -> ApiError | None:
    """Engine errors and bad values raised by the routes, in REST Proxy's codes."""
    if isinstance(exc, engine_errors.EngineError):
        return from_engine(exc)
    if isinstance(exc, ValueError):
        return bad_request(str(exc) or "invalid value")
    return None
