"""A caching HTTP client for any Confluent-compatible schema registry (httpx).

Schema ids never change meaning, so lookups by id and registrations are cached for good (in
bounded maps); the latest version of a subject is cached only when a TTL is given.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from httpapi.tls import ClientCertificate, Verify, client_verify
from registry.formats.base import SchemaReference

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"
DEFAULT_URL = "http://127.0.0.1:8081"
#: Said when an https server hangs up after the handshake: how TLS 1.3 servers refuse a
#: client certificate that is missing or issued by a CA they do not trust.
CLOSED_OVER_TLS = (
    " (a server that requires a client certificate closes the connection when none, or one "
    "it does not trust, is presented)"
)

K = TypeVar("K")
V = TypeVar("V")


class RegistryClientError(Exception):
    """The registry answered with an error (or could not be reached: status 0)."""

    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status}, error code {error_code})")
        self.status = status
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True, slots=True)
class RegisteredSchema:
    """A schema as the registry returns it; subject and version when known."""

    schema_id: int
    schema: str
    schema_type: str = "AVRO"
    references: tuple[SchemaReference, ...] = ()
    subject: str | None = None
    version: int | None = None
    metadata: Any = None
    rule_set: Any = None

    @classmethod
    def from_json(cls, body: Mapping[str, Any], schema_id: int | None = None) -> RegisteredSchema:
        """Build from a registry answer (`/schemas/ids/{id}` or a subject version)."""
        refs = tuple(
            SchemaReference(r["name"], r["subject"], int(r["version"]))
            for r in body.get("references") or ()
        )
        return cls(
            schema_id=int(body["id"]) if schema_id is None else schema_id,
            schema=body.get("schema", ""),
            schema_type=body.get("schemaType") or "AVRO",
            references=refs,
            subject=body.get("subject"),
            version=body.get("version"),
            metadata=body.get("metadata"),
            rule_set=body.get("ruleSet"),
        )


@dataclass
class _Bounded(Generic[K, V]):
    """A small thread-safe map that forgets its oldest entries beyond `capacity`."""

    capacity: int
    items: dict[K, V] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, key: K) -> V | None:
        return self.items.get(key)

    def put(self, key: K, value: V) -> None:
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.capacity:
                self.items.pop(next(iter(self.items)))

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


def _refs_json(references: Iterable[SchemaReference]) -> list[dict[str, Any]]:
    return [{"name": r.name, "subject": r.subject, "version": r.version} for r in references]


def _schema_body(
    schema: str, schema_type: str, references: tuple[SchemaReference, ...]
) -> dict[str, Any]:
    body: dict[str, Any] = {"schema": schema, "schemaType": schema_type}
    if references:
        body["references"] = _refs_json(references)
    return body


def _config_body(compatibility: str | None, normalize: bool | None) -> dict[str, Any]:
    """The body of a config change: only the settings given."""
    body: dict[str, Any] = {}
    if compatibility is not None:
        body["compatibility"] = compatibility
    if normalize is not None:
        body["normalize"] = normalize
    return body


def _path(*parts: str | int) -> str:
    return "/" + "/".join(quote(str(p), safe="") for p in parts)


class RegistryClient:
    """Talks to a schema registry over HTTP; thread-safe; caches what never changes."""

    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        timeout: float = 10.0,
        cache_capacity: int = 1000,
        latest_ttl_seconds: float | None = None,
        transport: httpx.BaseTransport | None = None,
        auth: httpx.Auth | None = None,
        verify: Verify = True,
        cert: ClientCertificate | None = None,
    ) -> None:
        """`verify`: an `ssl.SSLContext`, True (default trust), False, or a CA bundle's path;
        `cert`: a client certificate to present over https. A file that cannot be used
        raises `httpapi.tls.ClientTlsError` naming it."""
        self.url = url.rstrip("/")
        context: ssl.SSLContext | bool = client_verify(verify, cert)
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            auth=auth,
            verify=context,
            headers={"Accept": f"{MEDIA_TYPE}, application/json", "Content-Type": MEDIA_TYPE},
        )
        self._by_id: _Bounded[int, RegisteredSchema] = _Bounded(cache_capacity)
        self._ids: _Bounded[tuple[Any, ...], int] = _Bounded(cache_capacity)
        self._latest: _Bounded[str, tuple[float, RegisteredSchema]] = _Bounded(cache_capacity)
        self._latest_ttl = latest_ttl_seconds

    def close(self) -> None:
        """Close the HTTP connections."""
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One call; returns the decoded JSON (or text) body; raises `RegistryClientError`."""
        query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
        try:
            response = self._http.request(method, path, json=body, params=query)
        except httpx.HTTPError as exc:
            hint = ""
            if self.url.startswith("https:") and isinstance(
                exc, httpx.RemoteProtocolError | httpx.ReadError
            ):
                hint = CLOSED_OVER_TLS
            raise RegistryClientError(
                0, 0, f"cannot reach the registry at {self.url}: {exc}{hint}"
            ) from exc
        if response.is_success:
            try:
                return response.json()
            except ValueError:
                return response.text
        try:
            error = response.json()
            code, message = (
                int(error.get("error_code", response.status_code)),
                str(error["message"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            code, message = response.status_code, response.text or response.reason_phrase
        raise RegistryClientError(response.status_code, code, message)

    # -- schemas ------------------------------------------------------------------------------
    def register(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Iterable[SchemaReference] = (),
        normalize: bool = False,
    ) -> int:
        """Register (or find) a schema under a subject; returns its id (cached)."""
        refs = tuple(references)
        key = (subject, schema_type, schema, refs, normalize)
        cached = self._ids.get(key)
        if cached is not None:
            return cached
        answer = self.request(
            "POST",
            _path("subjects", subject, "versions"),
            _schema_body(schema, schema_type, refs),
            {"normalize": normalize},
        )
        schema_id = int(answer["id"])
        self._ids.put(key, schema_id)
        return schema_id

    def lookup(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Iterable[SchemaReference] = (),
        normalize: bool = False,
        deleted: bool = False,
    ) -> RegisteredSchema:
        """Find the version under which a schema is registered in a subject."""
        answer = self.request(
            "POST",
            _path("subjects", subject),
            _schema_body(schema, schema_type, tuple(references)),
            {"normalize": normalize, "deleted": deleted},
        )
        return RegisteredSchema.from_json(answer)

    def get_schema(self, schema_id: int) -> RegisteredSchema:
        """The schema with this id (cached for good)."""
        cached = self._by_id.get(schema_id)
        if cached is not None:
            return cached
        found = RegisteredSchema.from_json(
            self.request("GET", _path("schemas", "ids", schema_id)), schema_id
        )
        self._by_id.put(schema_id, found)
        return found

    def get_latest(self, subject: str) -> RegisteredSchema:
        """The latest live version of a subject (cached only with a TTL)."""
        if self._latest_ttl is not None:
            cached = self._latest.get(subject)
            if cached is not None and time.monotonic() - cached[0] < self._latest_ttl:
                return cached[1]
        found = self.get_version(subject, "latest")
        if self._latest_ttl is not None:
            self._latest.put(subject, (time.monotonic(), found))
        return found

    def get_version(
        self, subject: str, version: int | str = "latest", deleted: bool = False
    ) -> RegisteredSchema:
        """One version of a subject."""
        answer = self.request(
            "GET", _path("subjects", subject, "versions", version), params={"deleted": deleted}
        )
        return RegisteredSchema.from_json(answer)

    def subjects(
        self, prefix: str | None = None, deleted: bool = False, deleted_only: bool = False
    ) -> list[str]:
        """Subject names."""
        return list(
            self.request(
                "GET",
                "/subjects",
                params={"subjectPrefix": prefix, "deleted": deleted, "deletedOnly": deleted_only},
            )
        )

    def versions(self, subject: str, deleted: bool = False) -> list[int]:
        """Version numbers of a subject."""
        return list(
            self.request("GET", _path("subjects", subject, "versions"), params={"deleted": deleted})
        )

    def delete_subject(self, subject: str, permanent: bool = False) -> list[int]:
        """Soft-delete a subject (or permanently delete a soft-deleted one)."""
        self._latest.clear()
        return list(
            self.request("DELETE", _path("subjects", subject), params={"permanent": permanent})
        )

    def delete_version(self, subject: str, version: int | str, permanent: bool = False) -> int:
        """Soft-delete a version (or permanently delete a soft-deleted one)."""
        self._latest.clear()
        answer = self.request(
            "DELETE",
            _path("subjects", subject, "versions", version),
            params={"permanent": permanent},
        )
        return int(answer)

    def test_compatibility(
        self,
        subject: str,
        schema: str,
        schema_type: str = "AVRO",
        references: Iterable[SchemaReference] = (),
        version: int | str | None = None,
        verbose: bool = True,
    ) -> dict[str, Any]:
        """`{"is_compatible": bool, "messages": [...]}` against one version, or (version None)
        against the versions the subject's compatibility level names."""
        body = _schema_body(schema, schema_type, tuple(references))
        parts: tuple[str | int, ...] = ("compatibility", "subjects", subject, "versions")
        if version is not None:
            parts = (*parts, version)
        return dict(self.request("POST", _path(*parts), body, {"verbose": verbose}))

    def schema_types(self) -> list[str]:
        """Schema formats the registry supports."""
        return list(self.request("GET", "/schemas/types"))

    # -- config and mode -------------------------------------------------------------------------
    def get_config(
        self, subject: str | None = None, default_to_global: bool = False
    ) -> dict[str, Any]:
        """Compatibility settings, globally or of one subject."""
        path = "/config" if subject is None else _path("config", subject)
        params = {"defaultToGlobal": default_to_global} if subject is not None else None
        return dict(self.request("GET", path, params=params))

    def set_config(
        self,
        subject: str | None = None,
        compatibility: str | None = None,
        normalize: bool | None = None,
    ) -> dict[str, Any]:
        """Set the compatibility level and/or normalization, globally or for one subject."""
        path = "/config" if subject is None else _path("config", subject)
        return dict(self.request("PUT", path, _config_body(compatibility, normalize)))

    def delete_config(self, subject: str | None = None) -> dict[str, Any]:
        """Drop a subject's settings (or reset the global ones)."""
        path = "/config" if subject is None else _path("config", subject)
        return dict(self.request("DELETE", path))

    def get_mode(self, subject: str | None = None, default_to_global: bool = False) -> str:
        """READWRITE, READONLY or IMPORT, globally or of one subject."""
        path = "/mode" if subject is None else _path("mode", subject)
        params = {"defaultToGlobal": default_to_global} if subject is not None else None
        return str(self.request("GET", path, params=params)["mode"])

    def set_mode(self, mode: str, subject: str | None = None, force: bool = False) -> str:
        """Set the mode, globally or for one subject."""
        path = "/mode" if subject is None else _path("mode", subject)
        return str(self.request("PUT", path, {"mode": mode}, {"force": force})["mode"])

    def delete_mode(self, subject: str | None = None) -> str:
        """Drop a subject's mode (or reset the global one); returns the old mode."""
        path = "/mode" if subject is None else _path("mode", subject)
        return str(self.request("DELETE", path)["mode"])


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
