"""Access control in the server: the `_acls` service, REST authentication and authorization
in front of every router (with `--auth`), and the ACL API in REST Proxy v3's shape at
`/v3/clusters/{cluster_id}/acls` (list with filters, create, batch create, delete by filter).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from acl.audit import AuditLog
from acl.audit_query import AuditQuery, AuditQueryError
from acl.derived import SingleWriterError, owners_from
from acl.model import VALID_OPERATIONS, Acl, AclError, AclFilter, ResourceType
from acl.principal import certificate_principals
from acl.quota_service import ClientQuotaService
from acl.ratelimit import RateLimiter
from acl.rest import AuthMiddleware
from acl.service import AccessControl
from engine.auth import CLUSTER_RESOURCE
from engine.cluster import Cluster
from httpapi import ApiError, Closer, ServerSettings, error_responses, json_body, shaped_router

BAD_REQUEST = 40002


def translate(exc: Exception) -> ApiError | None:
    """ACL errors: 400 naming what was wrong (REST Proxy answers bad enums with 40002)."""
    if isinstance(exc, SingleWriterError):
        return ApiError(40901, str(exc))
    if isinstance(exc, AclError | AuditQueryError):
        return ApiError(BAD_REQUEST, str(exc))
    return None


def _check_cluster(cluster: Cluster, cluster_id: str) -> None:
    if cluster_id != cluster.name:
        raise ApiError(40401, f"Cluster {cluster_id} cannot be found.")


def _entry(base: str, cluster_id: str, acl: Acl) -> dict[str, Any]:
    fields = acl.to_dict()
    query = "&".join(f"{k}={v}" for k, v in fields.items())
    return {
        "kind": "KafkaAcl",
        "metadata": {"self": f"{base}v3/clusters/{cluster_id}/acls?{query}"},
        "cluster_id": cluster_id,
        **fields,
    }


def _listing(request: Request, cluster_id: str, acls: list[Acl]) -> dict[str, Any]:
    base = str(request.base_url)
    return {
        "kind": "KafkaAclList",
        "metadata": {"self": f"{base}v3/clusters/{cluster_id}/acls", "next": None},
        "data": [_entry(base, cluster_id, acl) for acl in acls],
    }


FILTER_FIELDS = (
    "resource_type",
    "resource_name",
    "pattern_type",
    "principal",
    "host",
    "operation",
    "permission",
)


def build_router(access: AccessControl, cluster: Cluster, max_body_bytes: int) -> Any:
    """The `/v3/clusters/{cluster_id}/acls` routes."""
    router = shaped_router(
        prefix="/v3",
        translate=translate,
        max_body_bytes=max_body_bytes,
        responses=error_responses(
            {
                400: "A missing or invalid field or filter (40002), or a body that is not JSON",
                404: "The cluster does not exist (40401)",
                409: "A WRITE grant to anyone but an owned stream's owner (40901)",
                413: "The request body is too large",
                415: "The request body is not JSON",
                422: "Invalid parameters",
            }
        ),
    )

    def query_filter(request: Request, required: tuple[str, ...] = ()) -> AclFilter:
        values = {k: request.query_params.get(k) for k in FILTER_FIELDS}
        missing = [k for k in required if not values[k]]
        if missing:
            raise ApiError(BAD_REQUEST, f"{', '.join(missing)} must be given")
        if any(
            (values[k] or "").upper() == "UNKNOWN" for k in FILTER_FIELDS if k != "resource_name"
        ):
            raise ApiError(BAD_REQUEST, "UNKNOWN is not a valid filter value")
        return AclFilter.from_dict(values)

    @router.get("/clusters/{cluster_id}/acls", summary="ACLs matching the filter")
    def list_acls(request: Request, cluster_id: str) -> dict[str, Any]:
        _check_cluster(cluster, cluster_id)
        return _listing(request, cluster_id, access.acls(query_filter(request)))

    @router.post("/clusters/{cluster_id}/acls", status_code=201, summary="Create an ACL")
    async def create_acl(request: Request, cluster_id: str, force: bool = False) -> JSONResponse:
        _check_cluster(cluster, cluster_id)
        access.add([Acl.from_dict(await json_body(request))], force=force)
        return JSONResponse(None, status_code=201)

    @router.post("/clusters/{cluster_id}/acls:batch", status_code=201, summary="Create ACLs")
    async def create_acls(request: Request, cluster_id: str, force: bool = False) -> JSONResponse:
        _check_cluster(cluster, cluster_id)
        body = await json_body(request)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise ApiError(BAD_REQUEST, 'the body is {"data": [ACL, ...]}')
        access.add([Acl.from_dict(item) for item in data], force=force)
        return JSONResponse(None, status_code=201)

    @router.delete("/clusters/{cluster_id}/acls", summary="Delete the ACLs matching the filter")
    def delete_acls(request: Request, cluster_id: str) -> dict[str, Any]:
        _check_cluster(cluster, cluster_id)
        required = ("resource_type", "pattern_type", "operation", "permission")
        removed = access.remove([query_filter(request, required)])
        return {"data": [_entry(str(request.base_url), cluster_id, a) for a in removed]}

    return router


AUDIT_FILTERS = ("principal", "action", "result", "since", "until")


def build_audit_router(cluster: Cluster) -> Any:
    """`GET /audit`: the audit events, newest first, filtered and paged."""
    router = shaped_router(
        prefix="/audit",
        tags=["audit"],
        translate=translate,
        responses=error_responses(
            {
                400: "A filter that is not valid (40002)",
                403: "Without DESCRIBE on the cluster (40301)",
                422: "Invalid parameters",
            }
        ),
    )
    log = AuditLog(cluster)

    @router.get("", summary="Audit events, newest first")
    def events(
        request: Request,
        limit: int = Query(100, ge=1, le=1000, description="Events per page"),
        before: int | None = Query(None, ge=0, description="`next_before` of the last page"),
    ) -> dict[str, Any]:
        """Denied requests and allowed changes (CloudEvents JSON), newest first. Filters:
        `principal` (exact), `action` (part of the method, or the operation), `result`
        (`denied` or `allowed`), `since` and `until` (ISO 8601). `next_before` asks for the
        next (older) page; null at the oldest kept event."""
        query = AuditQuery.from_params({k: request.query_params.get(k) for k in AUDIT_FILTERS})
        found, next_before = log.page(query.matches, limit, before)
        return {"data": found, "next_before": next_before}

    return router


MAX_NAMES = 1000


def build_operations_router(access: AccessControl) -> Any:
    """`GET /authorized-operations`: what the caller may do on some resources (Kafka's
    `include_authorized_operations`, REST Proxy v3's `authorized_operations`), so a UI
    offers only what will be allowed."""
    router = shaped_router(
        tags=["access control"],
        translate=translate,
        responses=error_responses({400: "An unknown resource type or too many names (40002)"}),
    )

    @router.get("/authorized-operations", summary="What the caller may do")
    def authorized_operations(
        request: Request,
        resource_type: str = Query(..., description="TOPIC, GROUP, CLUSTER or SUBJECT"),
        resource_name: list[str] = Query([], description="Repeatable; none for the cluster"),
    ) -> dict[str, Any]:
        """Per resource, the operations the authenticated principal may perform (every
        operation of the type when authorization is off). The catalog's owner rule is not
        an ACL and is not counted."""
        try:
            kind = ResourceType(resource_type.upper())
        except ValueError:
            valid = ", ".join(t.value for t in ResourceType)
            raise ApiError(BAD_REQUEST, f"resource_type must be one of {valid}") from None
        names = resource_name or [CLUSTER_RESOURCE]
        if len(names) > MAX_NAMES:
            raise ApiError(BAD_REQUEST, f"at most {MAX_NAMES} resource names per request")
        principal = getattr(request.state, "principal", None)
        host = request.client.host if request.client else None
        operations = sorted(VALID_OPERATIONS[kind])

        def allowed(name: str) -> list[str]:
            if principal is None:
                return [op.value for op in operations]
            return [
                op.value
                for op in operations
                if access.decide(principal, op, kind, name, host, audit=False).allowed
            ]

        data = [
            {
                "resource_type": kind.value,
                "resource_name": name,
                "authorized_operations": allowed(name),
            }
            for name in names
        ]
        return {"principal": principal, "data": data}

    return router


def catalog_owners(app: FastAPI) -> dict[str, tuple[str, ...]]:
    """Owned streams and their owners' principals, from the catalog the server runs."""
    catalog = getattr(app.state, "catalog", None)
    if catalog is None:
        return {}
    return owners_from(catalog.services(), catalog.streams())


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Start access control, include the ACL routes and, with `settings.auth`, check every
    request. `app.state.access` is the service and `app.state.quotas` the client quotas (the
    Kafka listener's mount uses both)."""
    access = AccessControl(cluster, owners=lambda: catalog_owners(app)).start()
    app.state.access = access
    audit = None if settings.readonly else AuditLog(cluster).start()
    access.audit = audit
    if settings.auth:
        current = access.settings()
        wanted = frozenset(settings.super_users)
        if current.super_users != wanted:
            access.configure(wanted, current.allow_everyone_if_no_acl_found)
        rate = settings.rest_rate_limit
        limiter = RateLimiter(rate) if rate else None
        certificates = certificate_principals(settings.tls)
        app.add_middleware(
            AuthMiddleware,
            access=access,
            audit=audit,
            limiter=limiter,
            certificates=certificates,
            forward_secret=settings.forward_secret,
        )
    access.run_in_background()
    quotas = ClientQuotaService(cluster).start()
    quotas.audit = audit
    quotas.run_in_background()
    app.state.quotas = quotas
    app.include_router(build_router(access, cluster, settings.max_request_bytes))
    app.include_router(build_audit_router(cluster))
    app.include_router(build_operations_router(access))
    return [quotas.close, access.close] + ([audit.close] if audit is not None else [])
