"""Translation of confluent-kafka / librdkafka errors into `engine.errors` classes.

Pure: takes a `KafkaError` (or the exception carrying one) and a short description of what was
being done, returns the engine error to raise. Messages never include client configuration, so
no secret can leak through them.
"""

from __future__ import annotations

import concurrent.futures

from confluent_kafka import KafkaError, KafkaException

from engine import errors

_BY_NAME: dict[str, type[errors.EngineError]] = {
    "TOPIC_ALREADY_EXISTS": errors.TopicAlreadyExistsError,
    "UNKNOWN_TOPIC_OR_PART": errors.UnknownTopicOrPartitionError,
    "_UNKNOWN_TOPIC": errors.UnknownTopicOrPartitionError,
    "_UNKNOWN_PARTITION": errors.UnknownTopicOrPartitionError,
    "_NOENT": errors.UnknownTopicOrPartitionError,
    "INVALID_TOPIC_EXCEPTION": errors.InvalidTopicError,
    "INVALID_PARTITIONS": errors.InvalidPartitionsError,
    "INVALID_REPLICATION_FACTOR": errors.InvalidConfigError,
    "INVALID_CONFIG": errors.InvalidConfigError,
    "POLICY_VIOLATION": errors.InvalidConfigError,
    "MSG_SIZE_TOO_LARGE": errors.RecordTooLargeError,
    "_MSG_SIZE_TOO_LARGE": errors.RecordTooLargeError,
    "RECORD_LIST_TOO_LARGE": errors.RecordTooLargeError,
    "OFFSET_OUT_OF_RANGE": errors.OffsetOutOfRangeError,
    "_AUTO_OFFSET_RESET": errors.OffsetOutOfRangeError,
    "NON_EMPTY_GROUP": errors.GroupNotEmptyError,
    "GROUP_ID_NOT_FOUND": errors.GroupIdNotFoundError,
    "REBALANCE_IN_PROGRESS": errors.RebalanceInProgressError,
    "ILLEGAL_GENERATION": errors.RebalanceInProgressError,
    "UNKNOWN_MEMBER_ID": errors.RebalanceInProgressError,
    "FENCED_INSTANCE_ID": errors.RebalanceInProgressError,
    "_TRANSPORT": errors.ClusterUnavailableError,
    "_TIMED_OUT": errors.ClusterUnavailableError,
    "_ALL_BROKERS_DOWN": errors.ClusterUnavailableError,
    "_RESOLVE": errors.ClusterUnavailableError,
    "_WAIT_COORD": errors.ClusterUnavailableError,
    "BROKER_NOT_AVAILABLE": errors.ClusterUnavailableError,
    "NETWORK_EXCEPTION": errors.ClusterUnavailableError,
    "REQUEST_TIMED_OUT": errors.ClusterUnavailableError,
    "COORDINATOR_NOT_AVAILABLE": errors.ClusterUnavailableError,
    "NOT_COORDINATOR": errors.ClusterUnavailableError,
    "COORDINATOR_LOAD_IN_PROGRESS": errors.ClusterUnavailableError,
    "LEADER_NOT_AVAILABLE": errors.ClusterUnavailableError,
    "NOT_LEADER_FOR_PARTITION": errors.ClusterUnavailableError,
    "_UNSUPPORTED_FEATURE": errors.UnsupportedByBackendError,
    "UNSUPPORTED_VERSION": errors.UnsupportedByBackendError,
    "UNSUPPORTED_FOR_MESSAGE_FORMAT": errors.UnsupportedByBackendError,
}

_AUTHORIZATION = {
    "TOPIC_AUTHORIZATION_FAILED": "topic",
    "GROUP_AUTHORIZATION_FAILED": "group",
    "CLUSTER_AUTHORIZATION_FAILED": "cluster",
    "TRANSACTIONAL_ID_AUTHORIZATION_FAILED": "transactional id",
}


def kafka_error_of(exc: BaseException) -> KafkaError | None:
    """The `KafkaError` an exception carries, if any."""
    if isinstance(exc, KafkaException) and exc.args and isinstance(exc.args[0], KafkaError):
        return exc.args[0]
    return None


def translate(error: KafkaError, doing: str, resource: str = "") -> errors.EngineError:
    """The engine error for a Kafka error met while `doing` something (on `resource`)."""
    name = error.name()
    reason = error.str() or name
    if name in _AUTHORIZATION:
        return errors.AuthorizationError(
            "the configured principal", doing, _AUTHORIZATION[name], resource or "?"
        )
    cls = _BY_NAME.get(name, errors.EngineError)
    where = f" {resource!r}" if resource else ""
    if cls is errors.ClusterUnavailableError:
        return cls(f"Kafka cluster unavailable while trying to {doing}{where}: {reason}")
    if cls is errors.UnknownTopicOrPartitionError and resource:
        return cls(f"Unknown topic or partition {resource!r} (while trying to {doing})")
    return cls(f"Could not {doing}{where}: {reason} ({name})")


def translate_exception(exc: BaseException, doing: str, resource: str = "") -> errors.EngineError:
    """`translate` for any exception a confluent-kafka call or future raised."""
    if isinstance(exc, errors.EngineError):
        return exc
    error = kafka_error_of(exc)
    if error is not None:
        return translate(error, doing, resource)
    if isinstance(exc, concurrent.futures.TimeoutError | TimeoutError):
        return errors.ClusterUnavailableError(
            f"Kafka cluster did not answer in time while trying to {doing}"
            + (f" {resource!r}" if resource else "")
        )
    if isinstance(exc, BufferError):
        return errors.ClusterUnavailableError(
            f"Producer queue is full while trying to {doing}: the cluster is not keeping up"
        )
    return errors.EngineError(f"Could not {doing}: {exc}")
