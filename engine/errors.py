"""Errors raised by every engine backend, named after the Kafka errors they mirror.

Each error's message names what was wrong so the CLI and REST layers can show it as-is.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    #: The Kafka protocol error name this error corresponds to.
    kafka_error = "UNKNOWN_SERVER_ERROR"


class InvalidTopicError(EngineError):
    """The topic name breaks one of Kafka's naming rules."""

    kafka_error = "INVALID_TOPIC_EXCEPTION"


class TopicAlreadyExistsError(EngineError):
    """A topic with that name already exists."""

    kafka_error = "TOPIC_ALREADY_EXISTS"


class UnknownTopicOrPartitionError(EngineError):
    """The topic or partition does not exist."""

    kafka_error = "UNKNOWN_TOPIC_OR_PART"


class InvalidPartitionsError(EngineError):
    """A partition count is not allowed (not positive, or not larger than the current one)."""

    kafka_error = "INVALID_PARTITIONS"


class InvalidConfigError(EngineError):
    """A topic configuration key or value is not valid."""

    kafka_error = "INVALID_CONFIG"


class RecordTooLargeError(EngineError):
    """A record is larger than the topic's `max.message.bytes`."""

    kafka_error = "MESSAGE_TOO_LARGE"


class OffsetOutOfRangeError(EngineError):
    """A fetch asked for an offset outside [earliest, latest]."""

    kafka_error = "OFFSET_OUT_OF_RANGE"


class GroupNotEmptyError(EngineError):
    """The operation needs a consumer group with no active members."""

    kafka_error = "NON_EMPTY_GROUP"


class GroupIdNotFoundError(EngineError):
    """The consumer group does not exist."""

    kafka_error = "GROUP_ID_NOT_FOUND"


class RebalanceInProgressError(EngineError):
    """The group is rebalancing; the member must rejoin before committing."""

    kafka_error = "REBALANCE_IN_PROGRESS"


class AuthorizationError(EngineError):
    """The principal is not allowed to perform the operation on the resource."""

    kafka_error = "AUTHORIZATION_FAILED"

    def __init__(self, principal: str, operation: str, resource_type: str, resource: str) -> None:
        super().__init__(
            f"{principal} is not authorized to {operation} {resource_type} {resource!r}"
        )
        self.principal = principal
        self.operation = operation
        self.resource_type = resource_type
        self.resource = resource


class ClusterUnavailableError(EngineError):
    """The backend could not be reached or did not answer in time."""

    kafka_error = "BROKER_NOT_AVAILABLE"


class UnsupportedByBackendError(EngineError):
    """The backend cannot perform this operation (the message says why)."""

    kafka_error = "UNSUPPORTED_VERSION"


class InvalidRecordError(EngineError):
    """A record breaks a rule of its topic (e.g. a keyless record on a compacted topic)."""

    kafka_error = "INVALID_RECORD"


class InconsistentGroupProtocolError(EngineError):
    """A member asked for an assignor the rest of its consumer group does not use."""

    kafka_error = "INCONSISTENT_GROUP_PROTOCOL"
