"""Which audit events a reader asks for: by principal, action, result and time. Pure; shared
by `GET /audit`, `streamgov audit` and the TUI's audit screen (which sends the same fields).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from acl.audit import AUTHORIZATION

#: The results an event can have: a denied request, or an allowed one (a change, or a granted
#: decision).
RESULTS = ("denied", "allowed")


class AuditQueryError(ValueError):
    """A filter value that is not valid (the message names it)."""


def parse_time(value: str, what: str) -> dt.datetime:
    """An ISO 8601 time (`2026-12-05T03:00:00Z`; no zone means UTC)."""
    try:
        parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise AuditQueryError(
            f"{what} must be an ISO 8601 time such as 2026-12-05T03:00:00Z, got {value!r}"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """A filter over audit events; every field given must match."""

    #: exactly this principal (`User:alice`)
    principal: str | None = None
    #: a case-insensitive part of the method (`CreateTopics`, `POST /subjects`) or exactly
    #: the operation decided (`WRITE`)
    action: str | None = None
    #: `denied` or `allowed`
    result: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str | None]) -> AuditQuery:
        """From query parameters `principal, action, result, since, until` (empty = any)."""
        values = {k: (v or "").strip() or None for k, v in params.items()}
        result = values.get("result")
        if result is not None:
            result = result.lower()
            if result not in RESULTS:
                raise AuditQueryError(f"result must be one of {', '.join(RESULTS)}, got {result!r}")
        since, until = values.get("since"), values.get("until")
        query = cls(
            principal=values.get("principal"),
            action=values.get("action"),
            result=result,
            since=parse_time(since, "since") if since else None,
            until=parse_time(until, "until") if until else None,
        )
        if query.since and query.until and query.since > query.until:
            raise AuditQueryError("since is after until")
        return query

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether the event passes every filter given."""
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        assert isinstance(data, dict)
        who = (data.get("authenticationInfo") or {}).get("principal")
        if self.principal is not None and who != self.principal:
            return False
        if self.result is not None and result_of(event) != self.result:
            return False
        if self.action is not None:
            wanted = self.action.lower()
            method = str(data.get("methodName") or "").lower()
            operation = str((data.get("authorizationInfo") or {}).get("operation") or "")
            if wanted not in method and wanted != operation.lower():
                return False
        if self.since is not None or self.until is not None:
            try:
                at = parse_time(str(event.get("time")), "time")
            except AuditQueryError:
                return False
            if (self.since and at < self.since) or (self.until and at > self.until):
                return False
        return True


def result_of(event: Mapping[str, Any]) -> str:
    """`denied` for a refused request, `allowed` for anything else (changes, grants)."""
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    assert isinstance(data, dict)
    granted = (data.get("authorizationInfo") or {}).get("granted")
    return "denied" if event.get("type") == AUTHORIZATION and not granted else "allowed"
