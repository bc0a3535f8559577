"""The replicator's REST routes under `/replication`, and its mount."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from engine.cluster import Cluster
from httpapi import ApiError, Closer, ServerSettings, error_responses, shaped_router
from httpapi.metrics import add_metrics_source
from replicator.config import FlowSpec
from replicator.service import ReplicationService, RunningFlow


def build_router(service: ReplicationService) -> APIRouter:
    """`GET /replication` (every flow) and `GET /replication/flows/{name}` (`SOURCE->TARGET`)."""
    router = shaped_router(
        prefix="/replication",
        tags=["replication"],
        responses=error_responses({404: "No replication flow of that name (40401)"}),
    )

    @router.get("", summary="Replication flows")
    def flows() -> dict[str, Any]:
        """Every flow with its state, totals and per-partition lag."""
        return {"flows": [service.describe(f) for f in service.flows]}

    @router.get("/flows/{name}", summary="One replication flow")
    def flow(name: str) -> dict[str, Any]:
        """One flow, named `SOURCE->TARGET`."""
        running = service.find(name)
        if running is None:
            raise ApiError(40401, f"no replication flow {name!r}")
        return service.describe(running)

    return router


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Run the flows of `settings.replication` (built by the composition root, each a
    `FlowSpec` with openers for its clusters) and serve `/replication`."""
    flows = [
        RunningFlow(spec.flow, open_source, open_target)
        for spec, open_source, open_target in _specs(settings)
    ]
    service = ReplicationService(flows).start()
    app.state.replication = service
    app.include_router(build_router(service))
    add_metrics_source(app, service.metrics_text)
    return [service.close]


def _specs(settings: ServerSettings) -> list[tuple[FlowSpec, Any, Any]]:
    out = []
    for item in settings.replication:
        spec, open_source, open_target = item
        if isinstance(spec, FlowSpec):
            out.append((spec, open_source, open_target))
    return out
