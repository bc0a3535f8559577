"""Turning the tracker's state into the REST response models (built on request, not per
cycle, so a cycle over many groups never pays for serialisation)."""

from __future__ import annotations

from lagmonitor.controller import Recommendation
from lagmonitor.lag import catch_up_seconds
from lagmonitor.model import Status
from lagmonitor.schemas import (
    GroupDetail,
    GroupList,
    GroupSummary,
    KedaMetric,
    LagPoint,
    PartitionLagModel,
    RecommendationModel,
)
from lagmonitor.tracker import GroupTrack, LagTracker, PartitionView


def recommendation_model(recommendation: Recommendation) -> RecommendationModel:
    """The REST shape of a recommendation."""
    return RecommendationModel(
        at=recommendation.at,
        replicas=recommendation.replicas,
        current=recommendation.current,
        action=recommendation.action,
        reason=recommendation.reason,
        mode=recommendation.mode,
        inputs=recommendation.inputs,
    )


def _sum(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) if known else None


def _summary_fields(track: GroupTrack, partitions: list[PartitionView]) -> dict[str, object]:
    production = _sum([part.production_rate for part in partitions])
    consumption = _sum([part.consumption_rate for part in partitions])
    status = track.status
    recommendation = track.recommendation
    assert status is not None and recommendation is not None
    worst = track.max_lag_track
    time_lag = track.time_lag
    return {
        "group": track.group,
        "state": track.state,
        "members": track.members,
        "topics": track.topics(),
        "partition_count": len(partitions),
        "total_lag": track.total_lag,
        "max_lag": 0 if worst is None else worst.lag,
        "max_lag_topic": None if worst is None else worst.topic,
        "max_lag_partition": None if worst is None else worst.partition,
        "time_lag_seconds": None if time_lag is None else round(time_lag.seconds, 3),
        "time_lag_is_lower_bound": time_lag is not None and time_lag.lower_bound,
        "status": status.status,
        "status_reason": status.reason,
        "completeness": round(status.completeness, 4),
        "production_rate": None if production is None else round(production, 3),
        "consumption_rate": None if consumption is None else round(consumption, 3),
        "catch_up_seconds": catch_up_seconds(track.total_lag, production, consumption),
        "sampled_at": track.sampled_at,
        "lag_history": [
            LagPoint(at=at, lag=lag, time_lag_seconds=seconds)
            for at, lag, seconds in track.lag_history
        ],
        "recommended_replicas": recommendation.replicas,
        "recommendation_reason": recommendation.reason,
        "recommendation": recommendation_model(recommendation),
    }


def _evaluated(track: GroupTrack | None) -> bool:
    return track is not None and track.status is not None and track.recommendation is not None


def group_summary(track: GroupTrack) -> GroupSummary:
    """One group for `GET /lag/groups`."""
    return GroupSummary.model_validate(_summary_fields(track, track.partitions()))


def partition_model(part: PartitionView) -> PartitionLagModel:
    """One partition for `GET /lag/groups/{group}`."""
    production, consumption = part.production_rate, part.consumption_rate
    time_lag = part.time_lag
    return PartitionLagModel(
        topic=part.topic,
        partition=part.partition,
        committed=part.committed,
        end_offset=part.end,
        earliest_offset=part.earliest,
        lag=part.lag,
        time_lag_seconds=None if time_lag is None else round(time_lag.seconds, 3),
        time_lag_is_lower_bound=time_lag is not None and time_lag.lower_bound,
        status=part.status.status,
        reason=part.status.reason,
        owner=None if part.owner is None else part.owner[1],
        completeness=round(part.completeness, 4),
        production_rate=None if production is None else round(production, 3),
        consumption_rate=None if consumption is None else round(consumption, 3),
    )


def group_detail(track: GroupTrack) -> GroupDetail:
    """One group with partitions and recommendation history."""
    partitions = track.partitions()
    return GroupDetail.model_validate(
        {
            **_summary_fields(track, partitions),
            "partitions": [partition_model(part) for part in partitions],
            "recommendation_history": [recommendation_model(r) for r in track.recommendations],
            "missing_topics": list(track.missing_topics),
        }
    )


def group_list(tracker: LagTracker, interval_seconds: float) -> GroupList:
    """Every evaluated group, sorted by name."""
    return GroupList(
        interval_seconds=interval_seconds,
        sampled_at=tracker.sampled_at,
        groups=[
            group_summary(tracker.groups[name])
            for name in sorted(tracker.groups)
            if _evaluated(tracker.groups[name])
        ],
    )


def find_detail(tracker: LagTracker, group: str) -> GroupDetail | None:
    """The group's detail, or None when it is not monitored (or not evaluated yet)."""
    track = tracker.groups.get(group)
    return group_detail(track) if track is not None and _evaluated(track) else None


def keda_metric(tracker: LagTracker, group: str) -> KedaMetric | None:
    """The value for KEDA's metrics-api scaler, or None for an unknown group."""
    track = tracker.groups.get(group)
    if track is None or not _evaluated(track):
        return None
    assert track.recommendation is not None and track.status is not None
    worst = track.max_lag_track
    return KedaMetric(
        group=group,
        recommendedReplicas=track.recommendation.replicas,
        totalLag=track.total_lag,
        maxLag=0 if worst is None else worst.lag,
        timeLagSeconds=None if track.time_lag is None else round(track.time_lag.seconds, 3),
        status=track.status.status if track.status else Status.OK,
    )
