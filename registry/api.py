"""Confluent Schema Registry's REST API as a FastAPI router over a `SchemaRegistry`.

Paths, bodies, status codes and error codes follow Confluent's API so that every existing client
and serializer works unchanged. Bodies are JSON in one of Confluent's content types (415
otherwise), unknown fields are ignored, and every failure is a JSON `{"error_code", "message"}`
(the router is built with `httpapi.shaped_router`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match
from starlette.types import Scope

from engine.cluster import Cluster
from httpapi import Closer, ServerSettings, shaped_router
from registry import errors
from registry.compatibility import CompatibilityLevel
from registry.service import SUPPORTED_TYPES, SchemaRegistry
from registry.store import Mode

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
#: The body types Confluent's registry accepts. None of them is one a web page can send
#: without the browser asking first (CORS), so a page cannot write to a local registry.
CONTENT_TYPES = (
    MEDIA_TYPE,
    "application/vnd.schemaregistry+json",
    "application/json",
    "application/octet-stream",
)
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {
        "description": text,
        "content": {
            MEDIA_TYPE: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "error_code": {"type": "integer"},
                        "message": {"type": "string"},
                    },
                }
            }
        },
    }
    for code, text in (
        (400, "Malformed JSON request body"),
        (404, "Not found (40401 subject, 40402 version, 40403 schema)"),
        (409, "Incompatible schema (40901)"),
        (413, "Request body too large"),
        (422, "Invalid input (42201-42208)"),
    )
}

_REFERENCE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "subject": {"type": "string"},
        "version": {"type": "integer"},
    },
}
_SCHEMA_BODY = {
    "type": "object",
    "properties": {
        "schema": {"type": "string"},
        "schemaType": {"type": "string", "enum": ["AVRO", "JSON", "PROTOBUF"]},
        "references": {"type": "array", "items": _REFERENCE},
        "metadata": {"type": "object"},
        "ruleSet": {"type": "object"},
        "id": {"type": "integer"},
        "version": {"type": "integer"},
    },
}
_CONFIG_BODY = {
    "type": "object",
    "properties": {
        "compatibility": {
            "type": "string",
            "enum": [level.value for level in CompatibilityLevel],
        },
        "normalize": {"type": "boolean"},
    },
}
_MODE_BODY = {
    "type": "object",
    "properties": {"mode": {"type": "string", "enum": [mode.value for mode in Mode]}},
}


# -- answers: the 200 bodies, for the OpenAPI description ----------------------------------------
_STRINGS = {"type": "array", "items": {"type": "string"}}
_INTEGERS = {"type": "array", "items": {"type": "integer"}}
_SCHEMA_FIELDS = {
    "schema": {"type": "string"},
    "schemaType": {"type": "string"},
    "references": {"type": "array", "items": _REFERENCE},
    "metadata": {"type": "object"},
    "ruleSet": {"type": "object"},
}
_SCHEMA_ANSWER = {
    "type": "object",
    "properties": {**_SCHEMA_FIELDS, "maxId": {"type": "integer"}},
    "required": ["schema"],
}
_VERSION_ANSWER = {
    "type": "object",
    "properties": {
        "subject": {"type": "string"},
        "version": {"type": "integer"},
        "id": {"type": "integer"},
        **_SCHEMA_FIELDS,
    },
    "required": ["subject", "version", "id", "schema"],
}
_SUBJECT_VERSION = {
    "type": "object",
    "properties": {"subject": {"type": "string"}, "version": {"type": "integer"}},
    "required": ["subject", "version"],
}
_LEVEL = _CONFIG_BODY["properties"]["compatibility"]  # type: ignore[index]
_CONFIG_ANSWER = {
    "type": "object",
    "properties": {
        "compatibilityLevel": _LEVEL,
        "compatibility": _LEVEL,
        "normalize": {"type": "boolean"},
    },
}
_MODE_ANSWER = {
    "type": "object",
    "properties": {"mode": {"type": "string"}},
    "required": ["mode"],
}
_COMPATIBILITY_ANSWER = {
    "type": "object",
    "properties": {
        "is_compatible": {"type": "boolean"},
        "messages": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["is_compatible"],
}
#: any JSON: the schema text endpoints answer the schema itself
_ANY_JSON: dict[str, Any] = {}

_NORMALIZE_QUERY = {
    "name": "normalize",
    "in": "query",
    "required": False,
    "schema": {"type": "boolean", "default": False},
    "description": "Register the normalized form of the schema.",
}

_BY_ID_QUERY = [
    {
        "name": "subject",
        "in": "query",
        "required": False,
        "schema": {"type": "string"},
        "description": "Accepted for compatibility; schema ids are global.",
    },
    {"name": "format", "in": "query", "required": False, "schema": {"type": "string"}},
    {"name": "fetchMaxId", "in": "query", "required": False, "schema": {"type": "boolean"}},
]


_SLASH = "\ue000"  # stands for an encoded slash while matching; never left in a parameter


class EncodedSlashRoute(APIRoute):
    """Matches `%2F` inside a path segment as part of the parameter, as Confluent does:
    confluent-kafka's Protobuf serializer registers imports under subjects such as
    `common%2Fmoney.proto`, which a decoded path would split in two."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """Match on the raw path when it holds an encoded slash."""
        raw = scope.get("raw_path") or b""
        if b"%2f" not in raw.lower() or scope.get("root_path"):
            return super().matches(scope)
        text = raw.decode("ascii", "replace").replace("%2F", _SLASH).replace("%2f", _SLASH)
        match, child = super().matches({**scope, "path": unquote(text)})
        params = child.get("path_params")
        if params:
            child["path_params"] = {
                key: value.replace(_SLASH, "/") if isinstance(value, str) else value
                for key, value in params.items()
            }
        return match, child


def _flag(value: str | None) -> bool:
    """A boolean query parameter, read as Confluent reads it: `true` in any case."""
    return value is not None and value.strip().lower() == "true"


def _body_spec(schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {MEDIA_TYPE: {"schema": schema}, "application/json": {"schema": schema}},
        }
    }


class RegistryResponse(JSONResponse):
    """JSON with Confluent's content type."""

    media_type = MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        if isinstance(content, bytes):
            return content
        return json.dumps(content, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


async def _json_body(request: Request) -> Any:
    """The request body parsed as JSON (the route has checked its type and size)."""
    raw = await request.body()
    if not raw.strip():
        raise errors.RegistryError(422, "Unprocessable request: the request body is empty")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise errors.RegistryError(400, f"Unrecognized JSON request body: {exc}") from None


def build_router(
    registry: SchemaRegistry, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
) -> APIRouter:
    """The registry's routes at Confluent's paths (each also with a trailing slash)."""
    router = shaped_router(
        accept=CONTENT_TYPES,
        max_body_bytes=max_request_bytes,
        error_class=RegistryResponse,
        tags=["schema registry"],
        default_response_class=RegistryResponse,
    )
    router.route_class = type("RegistryRoute", (EncodedSlashRoute, router.route_class), {})

    def route(path: str, method: str, **kwargs: Any) -> Callable[[Callable[..., Any]], Any]:
        def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
            responses = dict(kwargs.pop("responses", _ERROR_RESPONSES))
            answer = kwargs.pop("returns")
            responses[200] = {
                "description": "Successful Response",
                "content": {MEDIA_TYPE: {"schema": answer}},
            }
            router.add_api_route(path, func, methods=[method], responses=responses, **kwargs)
            router.add_api_route(
                path + "/", func, methods=[method], include_in_schema=False, **kwargs
            )
            return func

        return decorate

    async def call(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(func, *args, **kwargs)

    async def body(request: Request) -> Any:
        return await _json_body(request)

    # -- schemas -----------------------------------------------------------------------------------
    # The two hottest paths come first: routes are matched in order.
    # The hottest path of every deployment (each deserializer asks it once per schema id):
    # its query parameters are read by hand, because FastAPI's per-parameter validation would
    # cost more than the whole answer; they are documented through `openapi_extra`.
    @route(
        "/schemas/ids/{id}",
        "GET",
        summary="Schema by id",
        openapi_extra={"parameters": _BY_ID_QUERY},
        returns=_SCHEMA_ANSWER,
    )
    async def schema_by_id(id: int, request: Request) -> Any:
        fetch_max_id = _flag(request.query_params.get("fetchMaxId"))
        fmt = request.query_params.get("format")
        cached = registry.peek_schema_by_id(id)
        if cached is not None and not fetch_max_id and not fmt:
            return RegistryResponse(cached[1])
        found = cached[0] if cached is not None else await call(registry.schema_by_id, id)
        if fmt:
            found = await call(registry.in_format, found, fmt)
        if fetch_max_id:
            found = {**found, "maxId": registry.max_id()}
        return RegistryResponse(found)

    # The hottest write: `normalize` is read by hand for the same reason (as Confluent reads a
    # boolean: `true` in any case).
    @route(
        "/subjects/{subject}/versions",
        "POST",
        summary="Register a schema under a subject",
        openapi_extra={**_body_spec(_SCHEMA_BODY), "parameters": [_NORMALIZE_QUERY]},
        returns={"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]},
    )
    async def register(subject: str, request: Request) -> Any:
        normalize = _flag(request.query_params.get("normalize"))
        return await registry.register_async(subject, await body(request), normalize)

    @route("/schemas/types", "GET", summary="Schema types this registry supports", returns=_STRINGS)
    async def schema_types() -> list[str]:
        return list(SUPPORTED_TYPES)

    @route("/schemas/ids/{id}/schema", "GET", summary="Schema text by id", returns=_ANY_JSON)
    async def schema_text_by_id(id: int, subject: str | None = None) -> Any:
        cached = registry.peek_schema_by_id(id)
        text = cached[0]["schema"] if cached else await call(registry.schema_text_by_id, id)
        return Response(text, media_type=MEDIA_TYPE)

    def usages_route(
        suffix: str, lister: Callable[..., Any], summary: str, returns: dict[str, Any]
    ) -> None:
        async def usages(
            id: int,
            subject: str | None = None,
            deleted: bool = False,
            offset: int = 0,
            limit: int = -1,
        ) -> Any:
            return await call(lister, id, subject, deleted, offset, limit)

        route(f"/schemas/ids/{{id}}/{suffix}", "GET", summary=summary, returns=returns)(usages)

    usages_route("subjects", registry.subjects_by_id, "Subjects using a schema id", _STRINGS)
    usages_route(
        "versions",
        registry.versions_by_id,
        "Subject-versions using a schema id",
        {"type": "array", "items": _SUBJECT_VERSION},
    )

    @route(
        "/schemas",
        "GET",
        summary="Every registered schema",
        returns={"type": "array", "items": _VERSION_ANSWER},
    )
    async def list_schemas(
        subjectPrefix: str | None = None,  # noqa: N803
        deleted: bool = False,
        latestOnly: bool = False,  # noqa: N803
        offset: int = 0,
        limit: int = -1,
    ) -> Any:
        return await call(registry.list_schemas, subjectPrefix, deleted, latestOnly, offset, limit)

    # -- subjects ----------------------------------------------------------------------------------
    @route("/subjects", "GET", summary="List subjects", returns=_STRINGS)
    async def list_subjects(
        subjectPrefix: str | None = None,  # noqa: N803
        deleted: bool = False,
        deletedOnly: bool = False,  # noqa: N803
        deleted_only: bool = Query(False, include_in_schema=False),
        offset: int = 0,
        limit: int = -1,
    ) -> Any:
        return await call(
            registry.subjects, subjectPrefix, deleted, deletedOnly or deleted_only, offset, limit
        )

    @route(
        "/subjects/{subject}/versions", "GET", summary="Versions of a subject", returns=_INTEGERS
    )
    async def list_versions(
        subject: str,
        deleted: bool = False,
        deletedOnly: bool = False,  # noqa: N803
        deleted_only: bool = Query(False, include_in_schema=False),
        offset: int = 0,
        limit: int = -1,
    ) -> Any:
        return await call(
            registry.versions, subject, deleted, deletedOnly or deleted_only, offset, limit
        )

    @route(
        "/subjects/{subject}/versions/{version}",
        "GET",
        summary="A version of a subject",
        returns=_VERSION_ANSWER,
    )
    async def get_version(
        subject: str, version: str, deleted: bool = False, format: str | None = None
    ) -> Any:
        found = await call(registry.get_version, subject, version, deleted)
        return await call(registry.in_format, found, format) if format else found

    @route(
        "/subjects/{subject}/versions/{version}/schema",
        "GET",
        summary="Schema text only",
        returns=_ANY_JSON,
    )
    async def get_version_schema(subject: str, version: str, deleted: bool = False) -> Any:
        text = await call(registry.get_version_schema, subject, version, deleted)
        return Response(text, media_type=MEDIA_TYPE)

    @route(
        "/subjects/{subject}/versions/{version}/referencedby",
        "GET",
        summary="Ids of schemas that reference this version",
        returns=_INTEGERS,
    )
    async def referenced_by(subject: str, version: str, offset: int = 0, limit: int = -1) -> Any:
        return await call(registry.referenced_by, subject, version, offset, limit)

    @route(
        "/subjects/{subject}/versions/{version}",
        "DELETE",
        summary="Delete a version",
        returns={"type": "integer"},
    )
    async def delete_version(subject: str, version: str, permanent: bool = False) -> Any:
        return await call(registry.delete_version, subject, version, permanent)

    @route(
        "/subjects/{subject}",
        "POST",
        summary="Look a schema up under a subject",
        openapi_extra=_body_spec(_SCHEMA_BODY),
        returns=_VERSION_ANSWER,
    )
    async def lookup(
        subject: str, request: Request, normalize: bool = False, deleted: bool = False
    ) -> Any:
        return await call(registry.lookup, subject, await body(request), normalize, deleted)

    @route("/subjects/{subject}", "DELETE", summary="Delete a subject", returns=_INTEGERS)
    async def delete_subject(subject: str, permanent: bool = False) -> Any:
        return await call(registry.delete_subject, subject, permanent)

    @route(
        "/subjects/{subject}/metadata",
        "GET",
        summary="Latest version with metadata",
        returns=_VERSION_ANSWER,
    )
    async def latest_with_metadata(
        subject: str,
        key: list[str] = Query([]),
        value: list[str] = Query([]),
        deleted: bool = False,
    ) -> Any:
        if len(key) != len(value):
            raise errors.RegistryError(422, "Unprocessable request: give one value per key")
        return await call(
            registry.latest_with_metadata, subject, dict(zip(key, value, strict=True)), deleted
        )

    # -- compatibility -----------------------------------------------------------------------------
    @route(
        "/compatibility/subjects/{subject}/versions/{version}",
        "POST",
        summary="Test compatibility against one version",
        openapi_extra=_body_spec(_SCHEMA_BODY),
        returns=_COMPATIBILITY_ANSWER,
    )
    async def compatible_with_version(
        subject: str,
        version: str,
        request: Request,
        normalize: bool = False,
        verbose: bool = False,
    ) -> Any:
        payload = await body(request)
        return await call(
            registry.test_compatibility, subject, payload, version, normalize, verbose
        )

    @route(
        "/compatibility/subjects/{subject}/versions",
        "POST",
        summary="Test compatibility against the versions the level names",
        openapi_extra=_body_spec(_SCHEMA_BODY),
        returns=_COMPATIBILITY_ANSWER,
    )
    async def compatible_with_all(
        subject: str, request: Request, normalize: bool = False, verbose: bool = False
    ) -> Any:
        payload = await body(request)
        return await call(registry.test_compatibility, subject, payload, None, normalize, verbose)

    # -- config and mode: the same three verbs, globally and per subject -------------------------
    def settings_routes(
        name: str,
        what: str,
        get: Callable[..., Any],
        put: Callable[..., Any],
        delete: Callable[..., Any],
        spec: dict[str, Any],
        answer: dict[str, Any],
        with_force: bool,
    ) -> None:
        async def get_global() -> Any:
            return await call(get, None)

        async def put_global(request: Request, force: bool = False) -> Any:
            extra = (force,) if with_force else ()
            return await call(put, None, await body(request), *extra)

        async def delete_global() -> Any:
            return await call(delete, None)

        async def get_subject(subject: str, defaultToGlobal: bool = False) -> Any:  # noqa: N803
            return await call(get, subject, defaultToGlobal)

        async def put_subject(subject: str, request: Request, force: bool = False) -> Any:
            extra = (force,) if with_force else ()
            return await call(put, subject, await body(request), *extra)

        async def delete_subject(subject: str) -> Any:
            return await call(delete, subject)

        extra = {"openapi_extra": _body_spec(spec), "returns": answer}
        plain = {"returns": answer}
        route(f"/{name}", "GET", summary=f"Global {what}", **plain)(get_global)
        route(f"/{name}", "PUT", summary=f"Set the global {what}", **extra)(put_global)
        route(f"/{name}", "DELETE", summary=f"Reset the global {what}", **plain)(delete_global)
        route(f"/{name}/{{subject}}", "GET", summary=f"A subject's {what}", **plain)(get_subject)
        route(f"/{name}/{{subject}}", "PUT", summary=f"Set a subject's {what}", **extra)(
            put_subject
        )
        route(f"/{name}/{{subject}}", "DELETE", summary=f"Drop a subject's {what}", **plain)(
            delete_subject
        )

    settings_routes(
        "config",
        "compatibility level",
        registry.get_config,
        registry.set_config,
        registry.delete_config,
        _CONFIG_BODY,
        _CONFIG_ANSWER,
        with_force=False,
    )
    settings_routes(
        "mode",
        "mode",
        registry.get_mode,
        registry.set_mode,
        registry.delete_mode,
        _MODE_BODY,
        _MODE_ANSWER,
        with_force=True,
    )

    # -- contexts and associations -----------------------------------------------------------------
    @route("/contexts", "GET", summary="Schema contexts (only the default one)", returns=_STRINGS)
    async def contexts(offset: int = 0, limit: int = -1) -> list[str]:
        return ["."]

    @route(
        "/associations/resources/{namespace}/{resource}",
        "GET",
        summary="Associations (none are kept: always 404)",
        returns=_ANY_JSON,
    )
    async def associations(namespace: str, resource: str) -> Any:
        raise errors.association_not_found(resource)

    return router


def mount(app: FastAPI, cluster: Cluster, settings: ServerSettings) -> list[Closer]:
    """Start the registry over `cluster` and serve its routes at Confluent's paths (the root)."""
    registry = SchemaRegistry(cluster, settings.schemas_topic, readonly=settings.readonly).start()
    app.state.schema_registry = registry
    app.include_router(build_router(registry, settings.max_request_bytes))
    return [registry.close]
