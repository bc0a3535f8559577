"""Who reads a stream, declared and observed, and whether a deprecated stream is safe to delete.
Pure: the observations come in as plain values (see `catalog.observer` for the I/O side).

A consumer counts while its group has live members on the stream, or was seen active within
the horizon (committed offsets that moved, or members), and a declared consumer (a service
listing the stream as an input) counts until its declaration goes. A deprecated stream with no
consumer that counts is safe to delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.model import Lifecycle, Stream
from catalog.state import CatalogState

DEFAULT_HORIZON_SECONDS = 7 * 24 * 3600.0


@dataclass(frozen=True, slots=True)
class GroupObservation:
    """What the cluster says about one consumer group right now."""

    group: str
    #: topic -> committed offsets summed over its partitions
    committed: Mapping[str, int] = field(default_factory=dict)
    #: topic -> lag summed over its partitions (end offset minus committed)
    lag: Mapping[str, int] = field(default_factory=dict)
    #: topics the group's live members are assigned or subscribed to
    live_topics: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ConsumerView:
    """One consumer of a stream, as the catalog presents it."""

    group: str
    service: str | None
    declared: bool
    observed: bool
    live: bool
    last_active: float | None
    lag: int | None
    #: lag of the same group on the replacement stream, when the stream is deprecated and the
    #: group has started reading the replacement
    replacement_lag: int | None
    counts: bool

    def to_dict(self) -> dict[str, object]:
        """JSON form for the REST API and the CLI."""
        return {
            "group": self.group,
            "service": self.service,
            "declared": self.declared,
            "observed": self.observed,
            "live": self.live,
            "last_active": self.last_active,
            "lag": self.lag,
            "replacement_lag": self.replacement_lag,
            "counts": self.counts,
        }


@dataclass(frozen=True, slots=True)
class DeprecationStatus:
    """A deprecated stream, its consumers that still count, and whether it may go."""

    stream: Stream
    consumers: tuple[ConsumerView, ...]

    @property
    def counting(self) -> list[str]:
        """Group ids of the consumers that keep the stream alive."""
        return [view.group for view in self.consumers if view.counts]

    @property
    def safe_to_delete(self) -> bool:
        """True when nothing counts any more."""
        return not self.counting

    def to_dict(self) -> dict[str, object]:
        """The shape of `catalog deprecations --format json`."""
        deprecation = self.stream.deprecation
        return {
            "topic": self.stream.topic,
            "owner": self.stream.owner,
            "deprecated": deprecation.to_dict() if deprecation else None,
            "consumers": self.counting,
            "consumer_details": [view.to_dict() for view in self.consumers],
            "safe_to_delete": self.safe_to_delete,
        }


def consumers_of(
    state: CatalogState,
    topic: str,
    observations: Mapping[str, GroupObservation],
    now: float,
    horizon_seconds: float = DEFAULT_HORIZON_SECONDS,
) -> list[ConsumerView]:
    """Every consumer of `topic`, declared or observed, sorted by group id.

    Observed means the group has committed offsets on the stream or live members on it right
    now; `state.consumers` remembers when each was last seen active, so a group whose offsets
    stay put stops counting once the horizon has passed.
    """
    stream = state.streams.get(topic)
    replacement = stream.deprecation.replacement if stream and stream.deprecation else None
    declared: dict[str, str] = {}
    for service in state.readers_of(topic):
        for group in service.group_ids():
            declared.setdefault(group, service.name)
    observed = {
        group: seen
        for group, seen in observations.items()
        if topic in seen.committed or topic in seen.live_topics
    }
    remembered = state.consumers.get(topic, {})
    views = []
    for group in sorted(set(declared) | set(observed)):
        seen = observed.get(group)
        live = seen is not None and topic in seen.live_topics
        last_active = remembered.get(group)
        if live:
            last_active = now
        # A group seen before its activity was ever recorded counts: unknown is not idle.
        recent = last_active is None or now - last_active <= horizon_seconds
        replacement_lag = (
            seen.lag.get(replacement)
            if seen is not None and replacement is not None and replacement in seen.committed
            else None
        )
        views.append(
            ConsumerView(
                group=group,
                service=declared.get(group) or state.service_of_group(group),
                declared=group in declared,
                observed=seen is not None,
                live=live,
                last_active=last_active,
                lag=seen.lag.get(topic) if seen is not None else None,
                replacement_lag=replacement_lag,
                counts=group in declared or live or (seen is not None and recent),
            )
        )
    return views


def deprecation_statuses(
    state: CatalogState,
    observations: Mapping[str, GroupObservation],
    now: float,
    horizon_seconds: float = DEFAULT_HORIZON_SECONDS,
) -> list[DeprecationStatus]:
    """Every deprecated stream with the consumers that still count, by topic."""
    return [
        DeprecationStatus(
            stream, tuple(consumers_of(state, topic, observations, now, horizon_seconds))
        )
        for topic, stream in sorted(state.streams.items())
        if stream.lifecycle is Lifecycle.DEPRECATED
    ]


def activity_updates(
    state: CatalogState,
    observations: Mapping[str, GroupObservation],
    previous: Mapping[str, GroupObservation],
    now: float,
    refresh_seconds: float,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Which (topic, group) pairs to record as active now, and which to forget.

    A pair is recorded when it is new, when its group is live on the topic, or when its
    committed offsets moved since the previous observation, but at most once per
    `refresh_seconds`; a remembered pair whose group no longer has offsets or members on the
    topic is forgotten.
    """
    record: list[tuple[str, str]] = []
    forget: list[tuple[str, str]] = []
    for group, seen in observations.items():
        before = previous.get(group)
        for topic in set(seen.committed) | set(seen.live_topics):
            last = state.consumers.get(topic, {}).get(group)
            moved = before is not None and before.committed.get(topic) != seen.committed.get(topic)
            active = topic in seen.live_topics or moved
            if last is None or (active and now - last >= refresh_seconds):
                record.append((topic, group))
    for topic, groups in state.consumers.items():
        for group in groups:
            now_seen = observations.get(group)
            if now_seen is None or (
                topic not in now_seen.committed and topic not in now_seen.live_topics
            ):
                forget.append((topic, group))
    return sorted(record), sorted(forget)
