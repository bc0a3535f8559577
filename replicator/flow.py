"""A replication flow's settings, checked once so the worker never meets a bad value. Pure."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from replicator.offsets import DEFAULT_OFFSET_LAG_MAX
from replicator.policy import PolicyName

#: MM2's default topic and group exclusions.
DEFAULT_TOPICS_EXCLUDE = r".*[\-\.]internal|.*\.replica|__.*"
DEFAULT_GROUPS_EXCLUDE = r"console-consumer-.*|connect-.*|__.*"

#: Topic configs never copied (MM2's `config.properties.exclude` default).
CONFIG_EXCLUDE = re.compile(
    r"follower\.replication\.throttled\.replicas|leader\.replication\.throttled\.replicas|"
    r"message\.timestamp\.difference\.max\.ms|message\.timestamp\.type|"
    r"unclean\.leader\.election\.enable|min\.insync\.replicas"
)

_ALIAS = re.compile(r"[A-Za-z0-9_-]{1,100}")


class FlowError(ValueError):
    """A flow setting that cannot work, named."""


@dataclass(frozen=True)
class Flow:
    """One direction of replication between two named clusters.

    `groups` (a regex, or None for no group translation) names the consumer groups whose
    offsets are checkpointed; `sync_group_offsets` also commits them into inactive target
    groups; `delete_with_source` deletes a remote topic when its source topic is deleted;
    `carry_schemas` copies the registry schemas replicated records use to the target's
    registry with the same ids; `worker`/`workers` share the partitions between several
    processes (stable hash)."""

    source: str
    target: str
    topics: str = ".*"
    topics_exclude: str = DEFAULT_TOPICS_EXCLUDE
    groups: str | None = None
    groups_exclude: str = DEFAULT_GROUPS_EXCLUDE
    policy: PolicyName = "default"
    delete_with_source: bool = False
    sync_group_offsets: bool = True
    sync_configs: bool = True
    carry_schemas: bool = True
    offset_lag_max: int = DEFAULT_OFFSET_LAG_MAX
    refresh_interval_s: float = 30.0
    checkpoint_interval_s: float = 5.0
    batch_records: int = 2000
    worker: int = 0
    workers: int = 1
    mask: dict[str, str] = field(default_factory=dict)
    #: The secret that keys masking hashes (never shown: not in repr).
    mask_salt: str = field(default="", repr=False, compare=False)
    #: URL of the source's schema registry over HTTP; None reads the source's `_schemas`.
    source_registry: str | None = None

    def __post_init__(self) -> None:
        for what, alias in (("source", self.source), ("target", self.target)):
            if not _ALIAS.fullmatch(alias):
                raise FlowError(
                    f"{what} alias {alias!r} must be 1-100 letters, digits, '_' or '-' "
                    "(it prefixes remote topic names)"
                )
        if self.source == self.target:
            raise FlowError(f"source and target are the same cluster ({self.source!r})")
        for what, pattern in (
            ("topics", self.topics),
            ("topics exclude", self.topics_exclude),
            ("groups", self.groups),
            ("groups exclude", self.groups_exclude),
        ):
            if pattern is None:
                continue
            try:
                re.compile(pattern)
            except re.error as exc:
                raise FlowError(f"{what} regex {pattern!r} is invalid: {exc}") from None
        if self.policy not in ("default", "identity"):
            raise FlowError(f"policy {self.policy!r} is not 'default' or 'identity'")
        if self.offset_lag_max < 1:
            raise FlowError("offset lag max must be at least 1")
        if not 0 <= self.worker < self.workers:
            raise FlowError(f"worker {self.worker} is not in 0..{self.workers - 1}")
        if self.refresh_interval_s <= 0 or self.checkpoint_interval_s <= 0:
            raise FlowError("intervals must be positive")
        for tag, action in self.mask.items():
            if action not in ("hash", "redact"):
                raise FlowError(f"mask action for tag {tag!r} is {action!r}: use hash or redact")
        if "hash" in self.mask.values() and not self.mask_salt:
            raise FlowError(
                "masking with hash needs a secret salt: set STREAMGOV_MASK_SALT (or the "
                "variable the flow's mask_salt_env names)"
            )
        if self.batch_records < 1:
            raise FlowError("batch records must be at least 1")

    @property
    def name(self) -> str:
        """`source->target`, how status and metrics name the flow."""
        return f"{self.source}->{self.target}"

    def wants_topic(self, topic: str) -> bool:
        """Whether the topic filters take `topic` (full match; exclude wins)."""
        return re.fullmatch(self.topics, topic) is not None and not re.fullmatch(
            self.topics_exclude, topic
        )

    def wants_group(self, group: str) -> bool:
        """Whether the group filters take `group`."""
        return (
            self.groups is not None
            and re.fullmatch(self.groups, group) is not None
            and not re.fullmatch(self.groups_exclude, group)
        )

    def owns(self, topic: str, partition: int) -> bool:
        """Whether this worker copies the partition: a topic's partitions go round the
        workers, starting at a worker a stable hash of the topic name picks, so each worker
        gets an equal share of every topic (to within one partition)."""
        if self.workers == 1:
            return True
        return (zlib.crc32(topic.encode()) + partition) % self.workers == self.worker


def copyable_config(config: dict[str, str]) -> dict[str, str]:
    """The topic config entries that follow the source."""
    return {k: v for k, v in config.items() if not CONFIG_EXCLUDE.fullmatch(k)}
