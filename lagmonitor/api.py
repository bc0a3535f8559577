"""The lag monitor's REST routes: `/lag/groups`, `/lag/groups/{group}`, the KEDA `metrics-api`
endpoint `/lag/keda/{group}`, and the Prometheus endpoint `/metrics`.

Errors answer `{"error_code": <int>, "message": <str>}` with the HTTP status in the first three
digits of `error_code` (the routers are built with `httpapi.shaped_router`).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response

from engine.cluster import Cluster
from httpapi import ApiError, Closer, ServerSettings, shaped_router
from httpapi.metrics import extra_metrics
from lagmonitor.metrics import CONTENT_TYPE
from lagmonitor.monitor import EVENTS_TOPIC, LagMonitor, MonitorConfig
from lagmonitor.schemas import GroupDetail, GroupList, KedaMetric

MAX_GROUP_ID_LENGTH = 1024

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "The group is not monitored."}}


def _not_found(group: str) -> ApiError:
    shown = group if len(group) <= 200 else group[:200] + "..."
    return ApiError(
        40403,
        f"Consumer group {shown!r} is not monitored: it does not exist, is "
        "filtered out by the include/exclude patterns, or has not been sampled yet",
    )


def build_router(monitor: LagMonitor) -> APIRouter:
    """The `/lag` routes over a running monitor."""
    router = shaped_router(prefix="/lag", tags=["lag monitor"])

    @router.get("/groups", response_model=GroupList, summary="Every monitored consumer group")
    def list_groups() -> GroupList:
        """Every group with its status, totals, lag history and scaling recommendation."""
        return monitor.group_list()

    @router.get(
        "/groups/{group:path}",
        response_model=GroupDetail,
        responses=_NOT_FOUND,
        summary="One consumer group in detail",
    )
    def get_group(group: str) -> GroupDetail:
        """The group's partitions (lag, time lag, status and reason) and its recommendation
        with history."""
        detail = monitor.group_detail(group) if len(group) <= MAX_GROUP_ID_LENGTH else None
        if detail is None:
            raise _not_found(group)
        return detail

    @router.get(
        "/keda/{group:path}",
        response_model=KedaMetric,
        responses=_NOT_FOUND,
        summary="The value for KEDA's metrics-api scaler",
    )
    def keda(group: str) -> KedaMetric:
        """Point KEDA's `metrics-api` trigger here with `valueLocation: recommendedReplicas`
        and `targetValue: "1"` to follow the controller's recommendation."""
        metric = monitor.keda(group) if len(group) <= MAX_GROUP_ID_LENGTH else None
        if metric is None:
            raise _not_found(group)
        return metric

    return router


def build_metrics_router(monitor: LagMonitor) -> APIRouter:
    """`GET /metrics` in Prometheus text format."""
    router = shaped_router(tags=["metrics"])

    @router.get("/metrics", response_class=Response, summary="Prometheus metrics")
    def prometheus(request: Request) -> Response:
        """Lag metrics with kafka-lag-exporter's names, plus status and recommendations, and
        what other components add (`httpapi.metrics`)."""
        text = monitor.metrics_text() + extra_metrics(request.app)
        return Response(text, media_type=CONTENT_TYPE)

    return router


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Start sampling `cluster` and serve `/lag` (the KEDA endpoint included) and `/metrics`."""
    monitor = LagMonitor(
        cluster,
        MonitorConfig(
            interval_seconds=settings.lag_interval_seconds,
            events_topic=None if settings.readonly else EVENTS_TOPIC,
        ),
    )
    monitor.start()
    app.state.lag_monitor = monitor
    app.include_router(build_router(monitor))
    app.include_router(build_metrics_router(monitor))
    return [monitor.stop]
