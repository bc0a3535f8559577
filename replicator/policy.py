"""Remote-topic naming (MirrorMaker 2's replication policies) and internal-topic rules. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PolicyName = Literal["default", "identity"]

SEPARATOR = "."


def is_internal(topic: str) -> bool:
    """Topics never replicated: MM2's internal names (`.internal`/`-internal` suffix, `__` or
    `.` prefix) and the engine's own internal topics (a `_` prefix)."""
    return (
        topic.endswith(".internal")
        or topic.endswith("-internal")
        or topic.startswith("_")
        or topic.startswith(".")
    )


def offset_syncs_topic(source: str) -> str:
    """The offset-syncs topic on the target for flows from `source`."""
    return f"mm2-offset-syncs{SEPARATOR}{source}{SEPARATOR}internal"


def checkpoints_topic(source: str) -> str:
    """The checkpoints topic on the target for flows from `source`."""
    return f"{source}{SEPARATOR}checkpoints{SEPARATOR}internal"


@dataclass(frozen=True)
class ReplicationPolicy:
    """How a source topic is named on the target.

    `default` is MM2's DefaultReplicationPolicy (`east.orders` for `orders` from `east`, with
    the cycle check on topic names); `identity` keeps names and relies on the provenance
    header alone to stop loops."""

    source: str
    target: str
    name: PolicyName = "default"

    def remote_topic(self, topic: str) -> str:
        """The name `topic` has on the target."""
        if self.name == "identity":
            return topic
        return f"{self.source}{SEPARATOR}{topic}"

    def topic_source(self, topic: str) -> str | None:
        """The cluster a remote topic came from (None for a topic that is not remote)."""
        if self.name == "identity":
            return None
        head, sep, _ = topic.partition(SEPARATOR)
        return head if sep else None

    def upstream_topic(self, topic: str) -> str | None:
        """`topic` minus its source prefix (None for a topic that is not remote)."""
        if self.topic_source(topic) is None:
            return None
        return topic.partition(SEPARATOR)[2]

    def would_cycle(self, topic: str) -> bool:
        """True when `topic` (at any hop) came from the target: copying it would loop."""
        current: str | None = topic
        while current is not None:
            if self.topic_source(current) == self.target:
                return True
            current = self.upstream_topic(current)
        return False

    def checkpoint_topic(self, source_topic: str) -> str:
        """The topic a checkpoint names on the target: the remote name, or for a topic that
        came from the target (fail-back) its original name there."""
        if self.topic_source(source_topic) == self.target:
            upstream = self.upstream_topic(source_topic)
            if upstream is not None:
                return upstream
        return self.remote_topic(source_topic)
