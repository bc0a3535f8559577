"""The catalog's REST routes under `/catalog`: streams, services, deprecations, events, search
and exports. A thin layer over `catalog.service.Catalog`.

Errors answer `{"error_code": <int>, "message": <str>}` with the HTTP status in the first three
digits of `error_code`, like the rest of streamgov's non-registry API.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from catalog import exports
from catalog.model import CatalogError, ConflictError, NotFoundError
from catalog.schemas import RegistrySchemas
from catalog.search import SearchQueryError
from catalog.service import Catalog, CatalogSettings
from engine.cluster import Cluster
from httpapi import ApiError, Closer, ServerSettings, error_responses, shaped_router

_CODES: dict[type[Exception], int] = {NotFoundError: 40401, ConflictError: 40901}


def translate(exc: Exception) -> ApiError | None:
    """Catalog and search errors in the error shape: 404, 409, else 422 naming the problem."""
    if isinstance(exc, CatalogError | SearchQueryError):
        return ApiError(_CODES.get(type(exc), 42201), str(exc))
    return None


class StreamUpdate(BaseModel):
    """Fields to set on a stream's entry; absent fields are left as they are."""

    owner: str | None = Field(None, description="The one service allowed to write the stream")
    namespace: str | None = None
    description: str | None = None
    key_subject: str | None = None
    value_subject: str | None = None
    add_tags: list[str] = Field(default_factory=list, description="`name` or `name=value`")
    remove_tags: list[str] = Field(default_factory=list, description="Tag names to remove")
    field_tags: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Tags of schema fields by dotted path (`customer.email: [pii]`); [] clears",
    )


class DeprecationRequest(BaseModel):
    """How a stream is deprecated."""

    replacement: str | None = None
    sunset: str | None = Field(None, description="YYYY-MM-DD")
    reason: str | None = None
    since: str | None = Field(None, description="YYYY-MM-DD; today when absent")


class ServiceUpdate(BaseModel):
    """Fields to set on a service; absent fields are left as they are."""

    team: str | None = None
    description: str | None = None
    contacts: list[str] | None = None
    inputs: list[str] | None = None
    outputs: list[str] | None = None
    groups: list[str] | None = None
    principals: list[str] | None = None


_ERRORS = error_responses(
    {
        400: "The request body is not valid JSON.",
        404: "The stream or service is not in the catalog (40401).",
        409: "The change contradicts the catalog's state (40901).",
        413: "The request body is too large.",
        415: "The request body is not JSON.",
        422: "A value is not valid (42201); the message says which.",
    }
)


def build_router(catalog: Catalog) -> APIRouter:
    """The `/catalog` routes over a running catalog."""
    router = shaped_router(
        translate=translate, prefix="/catalog", tags=["catalog"], responses=_ERRORS
    )

    @router.get("/streams", summary="Streams in the catalog")
    def list_streams(
        tag: str | None = Query(None, description="Only streams with this tag name"),
        owner: str | None = None,
        lifecycle: str | None = Query(None, description="active, deprecated or retired"),
    ) -> list[dict[str, Any]]:
        """Every catalogued stream, filtered by tag, owner or lifecycle."""
        return [
            stream.to_dict()
            for stream in catalog.streams()
            if (tag is None or stream.has_tag(tag.lower()))
            and (owner is None or stream.owner == owner)
            and (lifecycle is None or stream.lifecycle.value == lifecycle)
        ]

    @router.get("/streams/{topic}", summary="One stream in detail")
    def describe_stream(topic: str) -> Any:
        """Owner, tags, lifecycle, deprecation, consumers (declared and observed, with lag),
        producers, schema fields with their tags, and drift."""
        return catalog.describe(topic).to_dict()

    @router.patch("/streams/{topic}", summary="Create or update a stream's entry")
    def update_stream(topic: str, body: StreamUpdate) -> Any:
        """Only the fields given change; tags are added and removed by name."""
        return catalog.tag(
            topic,
            owner=body.owner,
            namespace=body.namespace,
            description=body.description,
            key_subject=body.key_subject,
            value_subject=body.value_subject,
            add_tags=body.add_tags,
            remove_tags=body.remove_tags,
            field_tags=body.field_tags,
        ).to_dict()

    @router.put("/streams/{topic}/deprecation", summary="Deprecate a stream")
    def deprecate(topic: str, body: DeprecationRequest) -> Any:
        """Mark the stream deprecated with its replacement; its consumers are then followed
        until none is left, and the owner is told once."""
        return catalog.deprecate(
            topic,
            replacement=body.replacement,
            sunset=body.sunset,
            reason=body.reason,
            since=body.since,
        ).to_dict()

    @router.delete("/streams/{topic}/deprecation", summary="Undo a deprecation")
    def undeprecate(topic: str) -> Any:
        """Make a deprecated stream active again."""
        return catalog.undeprecate(topic).to_dict()

    @router.post("/streams/{topic}/retire", summary="Delete a stream that is safe to delete")
    def retire(topic: str, force: bool = False) -> Any:
        """Delete the topic and mark its entry retired; refused (409) while consumers remain,
        unless `force`, whose answer names the consumers it breaks."""
        return catalog.retire(topic, force=force)

    @router.get("/services", summary="Services")
    def list_services() -> list[dict[str, Any]]:
        """Every service with its team, contacts, inputs, outputs and groups."""
        return [service.to_dict() for service in catalog.services()]

    @router.get("/services/{name}", summary="One service")
    def get_service(name: str) -> Any:
        """The service and the streams it owns."""

        def detail() -> dict[str, Any]:
            service = catalog.service(name)
            owned = [s.topic for s in catalog.state().owned_by(name)]
            return {**service.to_dict(), "owns": owned}

        return detail()

    @router.patch("/services/{name}", summary="Create or update a service")
    def update_service(name: str, body: ServiceUpdate) -> Any:
        """Only the fields given change."""
        fields = body.model_dump(exclude_none=True)
        return catalog.put_service(name, **fields).to_dict()

    @router.delete("/services/{name}", summary="Forget a service")
    def delete_service(name: str) -> Any:
        """Remove the service from the catalog (its streams keep their owner's name)."""
        return catalog.delete_service(name).to_dict()

    @router.get("/services/{name}/asyncapi", summary="AsyncAPI 3.0 document of a service")
    def service_asyncapi(name: str) -> Any:
        """Channels for the streams the service reads and writes, with message payloads from
        the registry."""
        return exports.asyncapi(catalog.state(), name, catalog.schema_text)

    @router.get("/deprecations", summary="Deprecated streams and their remaining consumers")
    def deprecations() -> list[dict[str, Any]]:
        """Evaluates now: each deprecated stream, the consumers that still count, and whether
        it is safe to delete. The owner of a stream that just became safe is told once."""
        return [status.to_dict() for status in catalog.deprecations()]

    @router.get("/events", summary="Catalog events")
    def events(limit: int = Query(1000, ge=1, le=10_000)) -> list[dict[str, Any]]:
        """The newest events, oldest first (`no_consumers_left`, `single_writer_violation`)."""
        return catalog.events.read(limit)

    @router.get("/search", summary="Full-text search")
    def search(
        q: str = Query(..., description="Words to find in names, tags, owners, fields"),
        limit: int = Query(20, ge=1, le=1000),
    ) -> Any:
        """Streams matching every word, best first."""
        return [hit.to_dict() for hit in catalog.search(q, limit)]

    @router.get("/fields", summary="Streams with a field tag")
    def tagged_fields(tag: str = Query(..., description="For example pii")) -> list[dict[str, Any]]:
        """Which streams carry a field with this tag (schema tags and catalog tags)."""
        return catalog.fields_with_tag(tag.lower())

    @router.get("/export/backstage", response_class=PlainTextResponse, summary="Backstage entities")
    def export_backstage() -> str:
        """`catalog-info.yaml`: a Component per service and an API per stream."""
        return exports.backstage(catalog.state())

    @router.get(
        "/export/topology",
        summary="Service and stream topology",
        response_class=Response,
        responses={
            200: {
                "description": "The topology in the asked format.",
                "content": {
                    "text/plain": {"schema": {"type": "string"}},
                    "text/vnd.graphviz": {"schema": {"type": "string"}},
                    "application/json": {"schema": {"type": "object"}},
                },
            }
        },
    )
    def export_topology(format: str = Query("mermaid", pattern="^(mermaid|dot|json)$")) -> Response:
        """The topology as Mermaid, Graphviz DOT or JSON."""
        state = catalog.state()
        if format == "dot":
            return PlainTextResponse(exports.dot(state), media_type="text/vnd.graphviz")
        if format == "json":
            services, streams, edges = exports.topology(state)
            body = {"services": sorted(services), "streams": sorted(streams), "edges": edges}
            return Response(json.dumps(body), media_type="application/json")
        return PlainTextResponse(exports.mermaid(state))

    return router


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Start the catalog over `cluster` (reading schemas from the registry mounted before it),
    evaluate deprecations in the background, and serve `/catalog`."""
    registry = getattr(app.state, "schema_registry", None)
    catalog = Catalog(
        cluster,
        CatalogSettings(readonly=settings.readonly),
        schemas=RegistrySchemas(registry) if registry is not None else None,
    ).start()
    if settings.background:
        catalog.run_in_background()
    app.state.catalog = catalog
    app.include_router(build_router(catalog))
    return [catalog.close]
