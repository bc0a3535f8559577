"""The lag monitor's REST routes: `/lag/groups`, `/lag/groups/{group}`, the KEDA `metrics-api`
endpoint `/lag/keda/{group}`, and the Prometheus endpoint `/metrics`.

Errors answer `{"error_code": <int>, "message": <str>}` with the HTTP status in the first three
digits of `error_code`, like the rest of streamgov's non-registry API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from lagmonitor.metrics import CONTENT_TYPE
from lagmonitor.monitor import LagMonitor
from lagmonitor.schemas import GroupDetail, GroupList, KedaMetric

MAX_GROUP_ID_LENGTH = 1024

_NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "The group is not monitored."}}


def _not_found(group: str) -> JSONResponse:
    shown = group if len(group) <= 200 else group[:200] + "..."
    return JSONResponse(
        status_code=404,
        content={
            "error_code": 40403,
            "message": f"Consumer group {shown!r} is not monitored: it does not exist, is "
            "filtered out by the include/exclude patterns, or has not been sampled yet",
        },
    )


def build_router(monitor: LagMonitor) -> APIRouter:
    """The `/lag` routes over a running monitor."""
    router = APIRouter(prefix="/lag", tags=["lag monitor"])

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
    def get_group(group: str) -> GroupDetail | JSONResponse:
        """The group's partitions (lag, time lag, status and reason) and its recommendation
        with history."""
        detail = monitor.group_detail(group) if len(group) <= MAX_GROUP_ID_LENGTH else None
        return detail if detail is not None else _not_found(group)

    @router.get(
        "/keda/{group:path}",
        response_model=KedaMetric,
        responses=_NOT_FOUND,
        summary="The value for KEDA's metrics-api scaler",
    )
    def keda(group: str) -> KedaMetric | JSONResponse:
        """Point KEDA's `metrics-api` trigger here with `valueLocation: recommendedReplicas`
        and `targetValue: "1"` to follow the controller's recommendation."""
        metric = monitor.keda(group) if len(group) <= MAX_GROUP_ID_LENGTH else None
        return metric if metric is not None else _not_found(group)

    return router


def build_metrics_router(monitor: LagMonitor) -> APIRouter:
    """`GET /metrics` in Prometheus text format."""
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", response_class=Response, summary="Prometheus metrics")
    def prometheus() -> Response:
        """Lag metrics with kafka-lag-exporter's names, plus status and recommendations."""
        return Response(monitor.metrics_text(), media_type=CONTENT_TYPE)

    return router
