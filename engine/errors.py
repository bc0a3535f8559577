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


class StorageError(EngineError):
    """A file of the embedded engine could not be read or written (the message names it)."""

    kafka_error = "KAFKA_STORAGE_ERROR"

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        #: The file (or directory) the error is about.
        self.path = path


class StorageFullError(StorageError):
    """The disk holding the data directory is full: nothing of the failed write was stored.

    Everything acknowledged before stays; writes succeed again once space is freed."""

    def __init__(self, directory: str, file: str | None = None) -> None:
        where = f" (writing {file})" if file else ""
        super().__init__(
            f"no space left on the device holding the data directory {directory}{where}; "
            "nothing of this write was stored. Free some space and retry.",
            directory,
        )
        self.directory = directory
        self.file = file


class DamagedFileError(StorageError):
    """A database file is damaged (truncated, overwritten, not a database).

    Only what is stored in that file is unavailable; `topic` names the topic it holds, if any."""

    def __init__(self, file: str, detail: str, topic: str | None = None) -> None:
        what = f"topic {topic!r}: " if topic is not None else ""
        super().__init__(f"{what}the file {file} is damaged ({detail})", file)
        self.file = file
        self.detail = detail
        self.topic = topic


class DataLossError(DamagedFileError):
    """A log ends before the end offset recorded when its records were acknowledged: records
    were lost (typically a damaged `-wal` file after a crash). Writes to the topic are refused
    until an operator accepts the loss (`streamgov recover --accept-loss`); reads serve what is
    left.

    `lost` maps each damaged partition to the range of lost offsets [first, end)."""

    def __init__(
        self, file: str, ends_file: str, topic: str, lost: dict[int, tuple[int, int]]
    ) -> None:
        parts = ", ".join(
            f"partition {p} lost offsets {a}-{b - 1} ({b - a} records)"
            for p, (a, b) in sorted(lost.items())
        )
        DamagedFileError.__init__(
            self,
            file,
            f"it ends before the acknowledged end offsets recorded in {ends_file}, so its "
            f"write-ahead log {file}-wal was damaged: {parts}; writes to the topic are refused "
            "until `streamgov recover --accept-loss` is run",
            topic,
        )
        self.ends_file = ends_file
        self.lost = dict(lost)

    @property
    def records_lost(self) -> int:
        """How many acknowledged records are missing."""
        return sum(b - a for a, b in self.lost.values())
