"""DescribeAcls, CreateAcls and DeleteAcls over the broker's `AclAdmin` (CLUSTER DESCRIBE to
list, CLUSTER ALTER to change; SECURITY_DISABLED without an ACL store). Kafka's enum codes are
translated to and from the names the admin speaks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.auth import CLUSTER_RESOURCE, AclFields, Operation, ResourceType
from engine.kafka_listener import errors
from engine.kafka_listener.context import Connection, Request

if TYPE_CHECKING:
    from engine.kafka_listener.broker import Broker

RESOURCE_TYPES = {1: "ANY", 2: "TOPIC", 3: "GROUP", 4: "CLUSTER", 5: "TRANSACTIONAL_ID"}
OPERATIONS = {
    1: "ANY",
    2: "ALL",
    3: "READ",
    4: "WRITE",
    5: "CREATE",
    6: "DELETE",
    7: "ALTER",
    8: "DESCRIBE",
    9: "CLUSTER_ACTION",
    10: "DESCRIBE_CONFIGS",
    11: "ALTER_CONFIGS",
    12: "IDEMPOTENT_WRITE",
}
PATTERN_TYPES = {1: "ANY", 2: "MATCH", 3: "LITERAL", 4: "PREFIXED"}
PERMISSIONS = {1: "ANY", 2: "DENY", 3: "ALLOW"}
_CODES = {
    "resource_type": {v: k for k, v in RESOURCE_TYPES.items()},
    "operation": {v: k for k, v in OPERATIONS.items()},
    "pattern_type": {v: k for k, v in PATTERN_TYPES.items()},
    "permission": {v: k for k, v in PERMISSIONS.items()},
}


def _name(table: dict[int, str], code: Any) -> str:
    return table.get(int(code), "UNKNOWN")


def _filter(body: Any, pattern_field: str) -> AclFields:
    return {
        "resource_type": _name(RESOURCE_TYPES, body.resource_type_filter),
        "resource_name": body.resource_name_filter,
        "pattern_type": _name(PATTERN_TYPES, getattr(body, pattern_field)),
        "principal": body.principal_filter,
        "host": body.host_filter,
        "operation": _name(OPERATIONS, body.operation),
        "permission": _name(PERMISSIONS, body.permission_type),
    }


def _codes(binding: dict[str, str]) -> dict[str, Any]:
    return {
        "resource_type": _CODES["resource_type"].get(binding["resource_type"], 0),
        "resource_name": binding["resource_name"],
        "pattern_type": _CODES["pattern_type"].get(binding["pattern_type"], 0),
        "principal": binding["principal"],
        "host": binding["host"],
        "operation": _CODES["operation"].get(binding["operation"], 0),
        "permission_type": _CODES["permission"].get(binding["permission"], 0),
    }


def _refusal(broker: Broker, conn: Connection, operation: Operation) -> tuple[int, str] | None:
    if broker.acl_admin is None:
        return errors.SECURITY_DISABLED, "no ACL store is configured"
    if not conn.allowed(operation, ResourceType.CLUSTER, CLUSTER_RESOURCE):
        return errors.CLUSTER_AUTHORIZATION_FAILED, f"{conn.principal} may not {operation} CLUSTER"
    return None


async def describe_acls(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """The bindings the filter selects, grouped by resource pattern."""
    refused = _refusal(broker, conn, Operation.DESCRIBE)
    if refused is not None:
        return {"error_code": refused[0], "error_message": refused[1], "resources": []}
    admin = broker.acl_admin
    assert admin is not None
    try:
        found = await broker.run(
            admin.describe_acl_bindings, _filter(request.body, "pattern_type_filter")
        )
    except ValueError as exc:
        return {"error_code": errors.INVALID_REQUEST, "error_message": str(exc), "resources": []}
    grouped: dict[tuple[int, str, int], list[dict[str, Any]]] = {}
    for binding in found:
        codes = _codes(binding)
        key = (codes["resource_type"], codes["resource_name"], codes["pattern_type"])
        grouped.setdefault(key, []).append(codes)
    resources = [
        {
            "resource_type": rt,
            "resource_name": name,
            "pattern_type": pattern,
            "acls": [
                {k: c[k] for k in ("principal", "host", "operation", "permission_type")}
                for c in entries
            ],
        }
        for (rt, name, pattern), entries in grouped.items()
    ]
    return {"error_code": errors.NONE, "error_message": None, "resources": resources}


async def create_acls(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Create each binding; a per-binding error for each refusal."""
    creations = request.body.creations
    refused = _refusal(broker, conn, Operation.ALTER)
    if refused is not None:
        code, message = refused
        return {"results": [{"error_code": code, "error_message": message} for _ in creations]}
    admin = broker.acl_admin
    assert admin is not None
    bindings = [
        {
            "resource_type": _name(RESOURCE_TYPES, c.resource_type),
            "resource_name": c.resource_name,
            "pattern_type": _name(PATTERN_TYPES, c.resource_pattern_type),
            "principal": c.principal,
            "host": c.host,
            "operation": _name(OPERATIONS, c.operation),
            "permission": _name(PERMISSIONS, c.permission_type),
        }
        for c in creations
    ]
    outcomes = await broker.run(admin.create_acl_bindings, bindings)
    return {
        "results": [
            {
                "error_code": errors.NONE if message is None else errors.INVALID_REQUEST,
                "error_message": message,
            }
            for message in outcomes
        ]
    }


async def delete_acls(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Delete what each filter selects; per filter the deleted bindings."""
    filters = request.body.filters
    refused = _refusal(broker, conn, Operation.ALTER)
    if refused is not None:
        code, message = refused
        return {
            "filter_results": [
                {"error_code": code, "error_message": message, "matching_acls": []} for _ in filters
            ]
        }
    admin = broker.acl_admin
    assert admin is not None
    selectors = [_filter(f, "pattern_type_filter") for f in filters]
    try:
        deleted = await broker.run(admin.delete_acl_bindings, selectors)
    except ValueError as exc:
        return {
            "filter_results": [
                {
                    "error_code": errors.INVALID_REQUEST,
                    "error_message": str(exc),
                    "matching_acls": [],
                }
                for _ in filters
            ]
        }
    return {
        "filter_results": [
            {
                "error_code": errors.NONE,
                "error_message": None,
                "matching_acls": [
                    {"error_code": errors.NONE, "error_message": None, **_codes(b)} for b in found
                ],
            }
            for found in deleted
        ]
    }
