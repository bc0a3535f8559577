"""The one REST client of the terminal UI: every request to a streamgov server goes through it.

It speaks three APIs of the server: the cluster admin API (`/v3/...`), the schema registry
(Confluent paths at the root) and the lag monitor (`/lag/...`). Credentials and TLS settings
are given by whoever starts the UI (`streamgov tui` reads them from the environment the way
every command does) and are never logged or shown: `repr()` of the client and of
`Credentials` hides them.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

DEFAULT_URL = "http://127.0.0.1:8081"
REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
#: Largest response body the UI accepts; protects the terminal from a runaway server.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024


class ApiError(Exception):
    """The server answered with an error; `message` is its explanation."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status}, error {self.error_code})"


class ServerUnreachableError(Exception):
    """The server could not be reached (refused, timed out, name not resolved)."""


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


@dataclass(frozen=True)
class Credentials:
    """HTTP credentials: a bearer token, or a user and password for basic authentication."""

    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def auth(self) -> httpx.Auth | None:
        """The httpx authentication these credentials call for (basic auth when no token)."""
        if self.token is None and self.user is not None:
            return httpx.BasicAuth(self.user, self.password or "")
        return None

    def headers(self) -> dict[str, str]:
        """Headers to send on every request."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def __repr__(self) -> str:
        kind = "token" if self.token else "basic" if self.user else "none"
        return f"Credentials(<{kind}>)"


def streamgov_answers(
    url: str,
    credentials: Credentials,
    timeout: float = 0.5,
    verify: ssl.SSLContext | bool = True,
) -> bool:
    """Whether a streamgov server answers at `url` (its lag monitor's group list, or a refusal
    for want of credentials). Quick and quiet: anything else, including nothing listening,
    is False."""
    try:
        response = httpx.get(
            f"{url.rstrip('/')}/lag/groups",
            auth=credentials.auth(),
            headers=credentials.headers(),
            timeout=timeout,
            verify=verify,
        )
        if response.status_code in (401, 403):
            return "error_code" in response.json()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return False
    return (
        response.status_code == 200
        and isinstance(body, dict)
        and isinstance(body.get("groups"), list)
        and "interval_seconds" in body
    )


class StreamgovClient:
    """Async client for a streamgov server's REST APIs, returning decoded JSON."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        credentials: Credentials | None = None,
        *,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """`verify` is httpx's: an `ssl.SSLContext` (trusting a private CA, presenting a
        client certificate) or True for the default trust."""
        self.url = url.rstrip("/")
        creds = credentials or Credentials()
        self._http = httpx.AsyncClient(
            base_url=self.url,
            auth=creds.auth(),
            headers={"Accept": "application/json", **creds.headers()},
            timeout=timeout,
            transport=transport,
            verify=verify,
            follow_redirects=False,
        )
        self._cluster_id: str | None = None

    def __repr__(self) -> str:
        return f"StreamgovClient({self.url!r})"

    def log_in(self, credentials: Credentials) -> None:
        """Send these credentials from now on (after a login prompt)."""
        self._http.auth = credentials.auth() or httpx.Auth()  # the base class adds nothing
        self._http.headers.pop("Authorization", None)
        self._http.headers.update(credentials.headers())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # -- plumbing ----------------------------------------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request; return the decoded JSON body (None for an empty body)."""
        headers = {"Content-Type": content_type} if json is not None else {}
        try:
            response = await self._http.request(
                method, path, params=params, json=json, headers=headers
            )
        except httpx.TransportError as exc:
            reason = _reason(exc, self.url.startswith("https:"))
            raise ServerUnreachableError(f"cannot reach {self.url}: {reason}") from None
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ApiError(response.status_code, 0, "response too large")
        if response.status_code >= 400:
            raise _api_error(response)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                response.status_code, 0, "the server sent a body that is not JSON"
            ) from None

    async def _get(self, path: str, **params: Any) -> Any:
        clean = {k: v for k, v in params.items() if v is not None}
        return await self.request("GET", path, params=clean)

    # -- cluster admin API (/v3) -------------------------------------------------------------

    async def cluster_id(self) -> str:
        """The id of the (one) cluster the server serves, cached after the first call."""
        if self._cluster_id is None:
            body = await self._get("/v3/clusters")
            data = body.get("data") or []
            if not data:
                raise ApiError(404, 404, "the server reports no cluster")
            self._cluster_id = str(data[0]["cluster_id"])
        return self._cluster_id

    async def _cluster(self, *segments: str | int) -> str:
        path = "/".join(_seg(s) for s in segments)
        root = f"/v3/clusters/{_seg(await self.cluster_id())}"
        return f"{root}/{path}" if path else root

    async def topics(self) -> list[dict[str, Any]]:
        """Every topic (REST Proxy `TopicData`)."""
        body = await self._get(await self._cluster("topics"))
        return list(body["data"])

    async def partitions(self, topic: str) -> list[dict[str, Any]]:
        """The topic's partitions with `earliest_offset` and `latest_offset`."""
        body = await self._get(await self._cluster("topics", topic, "partitions"))
        return list(body["data"])

    async def configs(self, topic: str) -> dict[str, str | None]:
        """The topic's effective configuration as a name -> value map."""
        body = await self._get(await self._cluster("topics", topic, "configs"))
        return {entry["name"]: entry.get("value") for entry in body["data"]}

    async def create_topic(
        self, name: str, partitions: int, configs: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """Create a topic."""
        payload = {
            "topic_name": name,
            "partitions_count": partitions,
            "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()],
        }
        result: dict[str, Any] = await self.request(
            "POST", await self._cluster("topics"), json=payload
        )
        return result

    async def delete_topic(self, name: str) -> None:
        """Delete a topic and its records."""
        await self.request("DELETE", await self._cluster("topics", name))

    async def alter_configs(self, topic: str, updates: Mapping[str, str | None]) -> None:
        """Set config keys; a None value resets the key to its default."""
        data = [
            {"name": k, "operation": "DELETE"} if v is None else {"name": k, "value": v}
            for k, v in updates.items()
        ]
        path = await self._cluster("topics", topic, "configs")
        await self.request("POST", f"{path}:alter", json={"data": data})

    async def produce(
        self, topic: str, value: str, key: str | None = None, partition: int | None = None
    ) -> dict[str, Any]:
        """Produce one record with string key and value."""
        payload: dict[str, Any] = {"value": {"type": "STRING", "data": value}}
        if key is not None:
            payload["key"] = {"type": "STRING", "data": key}
        if partition is not None:
            payload["partition_id"] = partition
        result: dict[str, Any] = await self.request(
            "POST", await self._cluster("topics", topic, "records"), json=payload
        )
        return result

    async def records(
        self,
        topic: str,
        partition: int,
        *,
        offset: int | None = None,
        timestamp: str | None = None,
        position: str | None = None,
        limit: int = 100,
    ) -> dict[str, Any]:
        """A page of records of one partition (streamgov's record-browsing addition)."""
        path = await self._cluster("topics", topic, "partitions", partition, "records")
        result: dict[str, Any] = await self._get(
            path, offset=offset, timestamp=timestamp, position=position, limit=limit
        )
        return result

    async def consumer_groups(self) -> list[dict[str, Any]]:
        """Every consumer group (REST Proxy `ConsumerGroupData`)."""
        body = await self._get(await self._cluster("consumer-groups"))
        return list(body["data"])

    async def group_lags(self, group: str) -> list[dict[str, Any]]:
        """The group's lag on each partition it has committed offsets for."""
        body = await self._get(await self._cluster("consumer-groups", group, "lags"))
        return list(body["data"])

    async def reset_offsets(
        self,
        group: str,
        position: str,
        value: int | None = None,
        *,
        topic: str | None = None,
        partition: int | None = None,
        validate_only: bool = False,
    ) -> list[dict[str, Any]]:
        """Move the group's committed offsets (streamgov addition); returns the new offsets."""
        payload = {
            "position": position,
            "value": value,
            "topic_name": topic,
            "partition_id": partition,
            "validate_only": validate_only,
        }
        path = await self._cluster("consumer-groups", group)
        body = await self.request("POST", f"{path}/offsets:reset", json=payload)
        return list(body["data"])

    # -- schema registry ---------------------------------------------------------------------

    async def subjects(self) -> list[str]:
        """Every live subject, sorted."""
        return sorted(await self._get("/subjects"))

    async def versions(self, subject: str) -> list[int]:
        """The live versions of a subject, ascending."""
        return sorted(await self._get(f"/subjects/{_seg(subject)}/versions"))

    async def schema_version(
        self, subject: str, version: int | str, fmt: str | None = None
    ) -> dict[str, Any]:
        """`{subject, version, id, schema, schemaType?, references?}` of one version
        (`fmt="serialized"`: a Protobuf schema as a base64 descriptor)."""
        result: dict[str, Any] = await self._get(
            f"/subjects/{_seg(subject)}/versions/{_seg(version)}", format=fmt
        )
        return result

    async def schema_by_id(self, schema_id: int, fmt: str | None = None) -> dict[str, Any]:
        """`{schema, schemaType?, references?}` of a registered schema id (`fmt` as above)."""
        result: dict[str, Any] = await self._get(f"/schemas/ids/{int(schema_id)}", format=fmt)
        return result

    async def compatibility_level(self, subject: str | None = None) -> str:
        """The subject's effective level (the global level when it has none)."""
        if subject is None:
            body = await self._get("/config")
        else:
            body = await self._get(f"/config/{_seg(subject)}", defaultToGlobal="true")
        return str(body.get("compatibilityLevel") or body.get("compatibility") or "")

    async def set_compatibility_level(self, subject: str, level: str) -> None:
        """Set the subject's compatibility level."""
        await self.request(
            "PUT",
            f"/config/{_seg(subject)}",
            json={"compatibility": level},
            content_type=REGISTRY_CONTENT_TYPE,
        )

    async def test_compatibility(
        self, subject: str, schema: str, schema_type: str = "AVRO"
    ) -> tuple[bool, list[str]]:
        """Test a candidate against the subject's latest version: (compatible, messages)."""
        payload: dict[str, Any] = {"schema": schema}
        if schema_type.upper() != "AVRO":
            payload["schemaType"] = schema_type.upper()
        body = await self.request(
            "POST",
            f"/compatibility/subjects/{_seg(subject)}/versions/latest",
            params={"verbose": "true"},
            json=payload,
            content_type=REGISTRY_CONTENT_TYPE,
        )
        messages = [str(m) for m in body.get("messages") or []]
        return bool(body.get("is_compatible")), messages

    # -- lag monitor -------------------------------------------------------------------------

    async def lag_groups(self) -> dict[str, Any]:
        """`GET /lag/groups`: every monitored group with status, totals and recommendation."""
        result: dict[str, Any] = await self._get("/lag/groups")
        return result

    async def lag_group(self, group: str) -> dict[str, Any]:
        """`GET /lag/groups/{group}`: a group with its partitions."""
        result: dict[str, Any] = await self._get(f"/lag/groups/{_seg(group)}")
        return result

    # -- replication -------------------------------------------------------------------------

    async def replication(self) -> dict[str, Any]:
        """`GET /replication`: every flow with its state and per-partition lag."""
        result: dict[str, Any] = await self._get("/replication")
        return result

    # -- catalog -----------------------------------------------------------------------------

    async def catalog_streams(self) -> list[dict[str, Any]]:
        """`GET /catalog/streams`: every catalogued stream."""
        result: list[dict[str, Any]] = await self._get("/catalog/streams")
        return result

    async def catalog_stream(self, topic: str) -> dict[str, Any]:
        """`GET /catalog/streams/{topic}`: owner, tags, consumers, producers, fields, drift."""
        result: dict[str, Any] = await self._get(f"/catalog/streams/{_seg(topic)}")
        return result

    async def catalog_search(self, text: str, limit: int = 200) -> list[str]:
        """`GET /catalog/search`: topics matching every word, best first."""
        hits: list[dict[str, Any]] = await self._get("/catalog/search", q=text, limit=limit)
        return [str(hit["topic"]) for hit in hits]

    # -- access control ----------------------------------------------------------------------

    async def authorized_operations(
        self, resource_type: str, names: list[str]
    ) -> tuple[str | None, dict[str, list[str]]] | None:
        """`GET /authorized-operations`: who is logged in (None when authorization is off)
        and per resource what they may do; None from a server without the query."""
        params: dict[str, Any] = {"resource_type": resource_type, "resource_name": names}
        try:
            body = await self.request("GET", "/authorized-operations", params=params)
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise
        principal = body.get("principal")
        operations = {
            str(item["resource_name"]): [str(op) for op in item["authorized_operations"]]
            for item in body.get("data") or []
        }
        return (None if principal is None else str(principal)), operations

    async def audit(self, limit: int = 200, **filters: str | None) -> list[dict[str, Any]]:
        """`GET /audit`: the newest audit events matching the filters (principal, action,
        result, since, until), newest first."""
        body = await self._get("/audit", limit=limit, **{k: v for k, v in filters.items() if v})
        return list(body["data"])


#: Said when an https server hangs up after the handshake: how TLS 1.3 servers refuse a
#: client certificate that is missing or issued by a CA they do not trust.
CLOSED_OVER_TLS = (
    " (a server that requires a client certificate closes the connection when none, or one "
    "it does not trust, is presented)"
)


def _reason(exc: httpx.TransportError, https: bool = False) -> str:
    text = str(exc).strip()
    if isinstance(exc, httpx.TimeoutException):
        return "timed out"
    if isinstance(exc, httpx.ConnectError):
        return "connection refused" if "refused" in text.lower() or not text else text
    if https and isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return (text or type(exc).__name__) + CLOSED_OVER_TLS
    return text or type(exc).__name__


def _api_error(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "message" in body:
        code = body.get("error_code")
        return ApiError(
            response.status_code,
            int(code) if isinstance(code, int) else response.status_code,
            str(body["message"]),
        )
    if isinstance(body, dict) and "detail" in body:
        return ApiError(response.status_code, response.status_code, str(body["detail"]))
    reason = response.reason_phrase or "error"
    return ApiError(response.status_code, response.status_code, f"{reason} ({response.url.path})")
