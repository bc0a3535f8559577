"""Earlier schemas from any Confluent-compatible registry, over plain REST.

`GET /subjects/{s}/versions`, `GET /subjects/{s}/versions/{v}` and
`GET /config/{s}?defaultToGlobal=true`; credentials from the environment, never printed.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit, urlunsplit

import httpx

from registry.check.baselines import BaselineError, BaselineSubject, BaselineVersion
from registry.check.config import ReferenceSpec
from registry.check.references import Referenced, UnresolvedReferenceError, resolve
from registry.check.text import one_line
from registry.compatibility import CompatibilityLevel
from registry.formats import DEFAULT_LIMITS, Limits, SchemaType

MAX_RESPONSE_BYTES = 16 * 1_048_576
REGISTRY_WORKERS = 8


#: Up to the last `@`: a password with an unescaped `/` or `?` must not show either.
_USER_INFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://).*@", re.DOTALL)


def redact(url: str) -> str:
    """The URL without user information, query or fragment, for messages; never raises, even
    for a URL that does not parse, and escapes what would break the line."""
    return one_line(_USER_INFO.sub(r"\1", url).split("?", 1)[0].split("#", 1)[0])


def split_registry_url(url: str) -> SplitResult:
    """`url` split into its parts; `BaselineError` (never echoing a password) when it is not
    an http(s) URL with a host and a valid port."""
    try:
        parts = urlsplit(url)
        port = parts.port
        httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        said = str(exc)
        if "port" in said.lower():
            problem = "its port must be a number from 1 to 65535"
        elif "IPv6 URL" in said:
            problem = "an IPv6 address must be closed with `]`"
        elif "IPv6" in said or "IPv4" in said:
            problem = "the host in brackets is not an IPv6 address"
        else:
            problem = "it is not a valid URL"
        raise BaselineError(f"registry URL {redact(url)!r} is malformed: {problem}") from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise BaselineError(f"registry URL {redact(url)!r} must be http(s)://host[:port]")
    if port == 0:
        raise BaselineError(f"registry URL {redact(url)!r} is malformed: port 0 cannot be reached")
    return parts


def _quoted(said: str, limit: int = 300) -> str:
    """What a registry said, for a one-line message: escaped and cut to `limit` characters."""
    text = one_line(said)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def registry_auth(env: Mapping[str, str]) -> httpx.Auth | None:
    """Credentials from the environment: a bearer token, or basic auth in either spelling."""
    token = env.get("STREAMGOV_REGISTRY_TOKEN")
    if token:
        return _Bearer(token)
    user_info = env.get("STREAMGOV_REGISTRY_BASIC_AUTH_USER_INFO")
    if user_info:
        user, _, password = user_info.partition(":")
        return httpx.BasicAuth(user, password)
    name = env.get("STREAMGOV_REGISTRY_USER")
    if name:
        return httpx.BasicAuth(name, env.get("STREAMGOV_REGISTRY_PASSWORD", ""))
    return None


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Any:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "_Bearer(<redacted>)"


class RegistryBaseline:
    """Registered versions from any Confluent-compatible registry, over plain REST."""

    def __init__(
        self,
        url: str,
        auth: httpx.Auth | None = None,
        timeout: float = 10.0,
        limits: Limits = DEFAULT_LIMITS,
        owns: Callable[[str], bool] | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """`verify`: httpx's, e.g. a context trusting a private CA and presenting a client
        certificate (`ServerAccess.verify()`)."""
        parts = split_registry_url(url)
        if auth is None and parts.username:
            auth = httpx.BasicAuth(parts.username, parts.password or "")
        host = parts.netloc.rpartition("@")[2]
        self.base = urlunsplit((parts.scheme, host, parts.path, "", "")).rstrip("/")
        self.description = f"registry:{self.base}"
        self.limits = limits
        self.owns = owns
        self._client = httpx.Client(
            base_url=self.base,
            auth=auth,
            timeout=timeout,
            verify=verify,
            headers={"Accept": "application/vnd.schemaregistry.v1+json, application/json"},
            follow_redirects=False,
        )
        self._versions: dict[tuple[str, int], dict[str, Any]] = {}

    def close(self) -> None:
        """Release the HTTP connections."""
        self._client.close()

    def subjects(self) -> Mapping[str, str | None] | None:
        """The registered subjects this repository owns (`schemas.owned_subjects`).

        A registry holds other repositories' subjects too, so without that setting
        deletions are not judged (None).
        """
        if self.owns is None:
            return None
        names = self._get("/subjects")
        if not isinstance(names, list):
            raise BaselineError(f"the registry at {self.base} sent a malformed subject list")
        return {name: None for name in names if isinstance(name, str) and self.owns(name)}

    def fetch(
        self, wanted: Mapping[str, CompatibilityLevel | None], default: CompatibilityLevel
    ) -> dict[str, BaselineSubject]:
        """Each wanted subject's registered versions, at its configured or overridden level."""
        with ThreadPoolExecutor(REGISTRY_WORKERS) as pool:
            found = pool.map(lambda item: self._subject(item[0], item[1], default), wanted.items())
            return {item.subject: item for item in found if item is not None}

    def _get(self, path: str) -> Any | None:
        """GET a path; None for 404; `BaselineError` for anything else that is not 200."""
        try:
            response = self._client.get(path)
        except UnicodeError:  # a host name that cannot be encoded for a lookup
            raise BaselineError(
                f"cannot reach the registry at {self.base}: its host name cannot be looked up"
            ) from None
        except httpx.HTTPError as exc:
            raise BaselineError(
                f"cannot reach the registry at {self.base}: {type(exc).__name__}"
                f"{': ' + str(exc) if str(exc) else ''}"
            ) from None
        if response.status_code == 404:
            return None
        if response.status_code in {401, 403}:
            raise BaselineError(
                f"the registry at {self.base} refused access (HTTP {response.status_code}): "
                "set STREAMGOV_REGISTRY_USER/STREAMGOV_REGISTRY_PASSWORD or "
                "STREAMGOV_REGISTRY_TOKEN"
            )
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise BaselineError(f"the registry at {self.base} sent an oversized answer to {path}")
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            message = body.get("message") if isinstance(body, dict) else None
            said = f": {_quoted(str(message))}" if message else ""
            raise BaselineError(
                f"the registry at {self.base} answered HTTP {response.status_code} to GET "
                f"{path}{said}"
            )
        if body is None:
            raise BaselineError(f"the registry at {self.base} sent non-JSON for {path}")
        return body

    def _level(self, subject: str, default: CompatibilityLevel) -> CompatibilityLevel:
        body = self._get(f"/config/{quote(subject, safe='')}?defaultToGlobal=true")
        if not isinstance(body, dict):
            body = self._get("/config")
        value = body.get("compatibilityLevel") if isinstance(body, dict) else None
        try:
            return CompatibilityLevel.parse(value) if isinstance(value, str) else default
        except ValueError:
            return default

    def _version(self, subject: str, version: int | None) -> dict[str, Any] | None:
        key = (subject, version or -1)
        if key not in self._versions:
            which = str(version) if version is not None else "latest"
            body = self._get(f"/subjects/{quote(subject, safe='')}/versions/{which}")
            if body is None:
                return None
            if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
                raise BaselineError(f"the registry at {self.base} sent a malformed version")
            self._versions[key] = body
        return self._versions[key]

    def lookup(self, subject: str, version: int | None) -> Referenced | None:
        """A registered version (latest when `version` is None), for reference resolution."""
        body = self._version(subject, version)
        if body is None:
            return None
        number = body.get("version")
        return Referenced(body["schema"], number if isinstance(number, int) else 0, _specs(body))

    def _subject(
        self, subject: str, override: CompatibilityLevel | None, default: CompatibilityLevel
    ) -> BaselineSubject | None:
        numbers = self._get(f"/subjects/{quote(subject, safe='')}/versions")
        if not isinstance(numbers, list) or not numbers:
            return None
        numbers = sorted(int(n) for n in numbers if isinstance(n, int))
        level = override or self._level(subject, default)
        chosen = numbers if level.transitive else numbers[-1:]
        versions: list[BaselineVersion] = []
        notes: list[str] = []
        for number in chosen:
            body = self._version(subject, number)
            if body is None:
                continue
            try:
                refs = resolve(_specs(body), self.lookup, self.limits)
            except UnresolvedReferenceError as exc:
                notes.append(f"{subject} version {number}: {exc}")
                refs = ()
            kind = body.get("schemaType")
            try:
                schema_type = SchemaType.parse(kind if isinstance(kind, str) else str(kind or ""))
            except ValueError:
                notes.append(f"{subject} version {number}: unknown schema type, skipped")
                continue
            versions.append(
                BaselineVersion(number, f"version {number}", schema_type, body["schema"], refs)
            )
        if not versions:
            return None
        return BaselineSubject(subject, level, tuple(versions), notes=tuple(notes))


def _specs(body: Mapping[str, Any]) -> tuple[ReferenceSpec, ...]:
    """The references of a registered version; malformed entries are left out."""
    refs = body.get("references")
    return tuple(
        ReferenceSpec(ref["name"], ref["subject"], ref["version"])
        for ref in (refs if isinstance(refs, list) else [])
        if isinstance(ref, dict)
        and isinstance(ref.get("name"), str)
        and isinstance(ref.get("subject"), str)
        and isinstance(ref.get("version"), int)
        and not isinstance(ref.get("version"), bool)
    )
