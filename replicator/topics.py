"""What the target's topics must look like to follow the source: creation, partition
increases and config changes, as a plan computed from two descriptions. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.topics import CONFIG_KEYS, DEFAULT_CONFIG
from engine.types import TopicDescription
from replicator.flow import copyable_config


@dataclass(frozen=True)
class TopicPlan:
    """The changes that make a remote topic follow its source topic."""

    create: bool = False
    partitions: int | None = None
    config: dict[str, str | None] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether nothing needs changing."""
        return not self.create and self.partitions is None and not self.config


def _overrides(config: dict[str, str]) -> dict[str, str]:
    """The config entries a topic sets away from the defaults (known topic keys only)."""
    return {
        k: v
        for k, v in copyable_config(config).items()
        if k in CONFIG_KEYS and DEFAULT_CONFIG.get(k) != v
    }


def plan_topic(
    source: TopicDescription, target: TopicDescription | None, *, sync_configs: bool
) -> TopicPlan:
    """What to do on the target: create it with the source's partitions and overrides, grow
    it to the source's partition count (never shrink), set changed overrides and reset the
    ones the source no longer has."""
    wanted = _overrides(source.config)
    if target is None:
        return TopicPlan(create=True, partitions=len(source.partitions), config=dict(wanted))
    partitions = len(source.partitions) if len(source.partitions) > len(target.partitions) else None
    updates: dict[str, str | None] = {}
    if sync_configs:
        have = _overrides(target.config)
        updates = {k: v for k, v in wanted.items() if have.get(k) != v}
        updates.update({k: None for k in have if k not in wanted})
    return TopicPlan(partitions=partitions, config=updates)
