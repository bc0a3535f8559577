"""Which changes a listener request made, read from the request and its reply, for the
broker's `ChangeAuditor` (admin changes, ACL changes, groups and offsets deleted). Pure but
for `report`, which hands them over.

A change counts when its part of the reply carries no error; `validate_only` requests change
nothing. Routine traffic (produce, offset commits) is not a change here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.auth import ChangeAuditor
from engine.kafka_listener import errors
from engine.kafka_listener.context import Connection, Request
from engine.kafka_listener.handlers.acls import (
    OPERATIONS,
    PATTERN_TYPES,
    PERMISSIONS,
    RESOURCE_TYPES,
)

#: One change: the method (`kafka.CreateTopics`) and the resource (`TOPIC:orders`).
Change = tuple[str, str]


def _ok(part: Any) -> bool:
    return isinstance(part, dict) and part.get("error_code", errors.NONE) == errors.NONE


def _validate_only(body: Any) -> bool:
    return bool(getattr(body, "validate_only", False))


def _named(method: str, kind: str, items: str, name: str = "name") -> Callable[..., list[Change]]:
    def changes(body: Any, reply: dict[str, Any]) -> list[Change]:
        if _validate_only(body):
            return []
        return [(method, f"{kind}:{p[name]}") for p in reply.get(items, ()) if _ok(p)]

    return changes


def _delete_records(body: Any, reply: dict[str, Any]) -> list[Change]:
    return [
        ("kafka.DeleteRecords", f"TOPIC:{t['name']}")
        for t in reply.get("topics", ())
        if any(_ok(p) for p in t.get("partitions", ()))
    ]


def _acl(fields: dict[str, Any]) -> str:
    return (
        f"ACL:{fields['permission']} {fields['principal']} {fields['operation']} "
        f"{fields['resource_type']}:{fields['resource_name']} {fields['pattern_type']} "
        f"host {fields['host']}"
    )


def _code_name(table: dict[int, str], code: Any) -> str:
    return table.get(int(code), "UNKNOWN")


def _create_acls(body: Any, reply: dict[str, Any]) -> list[Change]:
    return [
        (
            "kafka.CreateAcls",
            _acl(
                {
                    "permission": _code_name(PERMISSIONS, c.permission_type),
                    "principal": c.principal,
                    "operation": _code_name(OPERATIONS, c.operation),
                    "resource_type": _code_name(RESOURCE_TYPES, c.resource_type),
                    "resource_name": c.resource_name,
                    "pattern_type": _code_name(PATTERN_TYPES, c.resource_pattern_type),
                    "host": c.host,
                }
            ),
        )
        for c, result in zip(body.creations, reply.get("results", ()), strict=False)
        if _ok(result)
    ]


def _delete_acls(body: Any, reply: dict[str, Any]) -> list[Change]:
    return [
        (
            "kafka.DeleteAcls",
            _acl(
                {
                    "permission": _code_name(PERMISSIONS, acl["permission_type"]),
                    "principal": acl["principal"],
                    "operation": _code_name(OPERATIONS, acl["operation"]),
                    "resource_type": _code_name(RESOURCE_TYPES, acl["resource_type"]),
                    "resource_name": acl["resource_name"],
                    "pattern_type": _code_name(PATTERN_TYPES, acl["pattern_type"]),
                    "host": acl["host"],
                }
            ),
        )
        for result in reply.get("filter_results", ())
        if _ok(result)
        for acl in result.get("matching_acls", ())
        if _ok(acl)
    ]


def _offset_delete(body: Any, reply: dict[str, Any]) -> list[Change]:
    if not _ok(reply):
        return []
    return [
        ("kafka.OffsetDelete", f"GROUP:{body.group_id} TOPIC:{t['name']}")
        for t in reply.get("topics", ())
        if any(_ok(p) for p in t.get("partitions", ()))
    ]


def _alter_configs(method: str) -> Callable[..., list[Change]]:
    def changes(body: Any, reply: dict[str, Any]) -> list[Change]:
        if _validate_only(body):
            return []
        return [
            (method, f"TOPIC:{r['resource_name']}") for r in reply.get("responses", ()) if _ok(r)
        ]

    return changes


#: API key -> the changes a request of it made, from its body and reply.
CHANGE_APIS: dict[int, Callable[[Any, dict[str, Any]], list[Change]]] = {
    19: _named("kafka.CreateTopics", "TOPIC", "topics"),
    20: _named("kafka.DeleteTopics", "TOPIC", "responses"),
    21: _delete_records,
    30: _create_acls,
    31: _delete_acls,
    33: _alter_configs("kafka.AlterConfigs"),
    37: _named("kafka.CreatePartitions", "TOPIC", "results"),
    42: _named("kafka.DeleteGroups", "GROUP", "results", "group_id"),
    44: _alter_configs("kafka.IncrementalAlterConfigs"),
    47: _offset_delete,
}


def changes_of(request: Request, reply: Any) -> list[Change]:
    """The changes the request made, judged by its reply (none for other APIs)."""
    read = CHANGE_APIS.get(request.api_key)
    if read is None or not isinstance(reply, dict):
        return []
    return read(request.body, reply)


def report(auditor: ChangeAuditor, conn: Connection, request: Request, reply: Any) -> None:
    """Tell the auditor of each change the request made, as the connection's principal."""
    for method, resource in changes_of(request, reply):
        auditor.changed(conn.principal, method, resource, conn.host)
