"""DescribeClientQuotas and AlterClientQuotas over the broker's `ClientQuotaAdmin` (CLUSTER
DESCRIBE_CONFIGS to list, CLUSTER ALTER_CONFIGS to change, as Kafka checks them; with no
quota store both answer INVALID_REQUEST saying so)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.auth import CLUSTER_RESOURCE, Operation, ResourceType
from engine.kafka_listener import errors
from engine.kafka_listener.context import Connection, Request

if TYPE_CHECKING:
    from engine.kafka_listener.broker import Broker


def _refusal(broker: Broker, conn: Connection, operation: Operation) -> tuple[int, str] | None:
    if broker.quota_admin is None:
        return errors.INVALID_REQUEST, "no client quota store is configured"
    if not conn.allowed(operation, ResourceType.CLUSTER, CLUSTER_RESOURCE):
        return errors.CLUSTER_AUTHORIZATION_FAILED, f"{conn.principal} may not {operation} CLUSTER"
    return None


def _entity(parts: list[tuple[str, str | None]]) -> list[dict[str, Any]]:
    return [{"entity_type": kind, "entity_name": name} for kind, name in parts]


async def describe_client_quotas(
    broker: Broker, conn: Connection, request: Request
) -> dict[str, Any]:
    """The entities the filter selects, each with its quota values."""
    refused = _refusal(broker, conn, Operation.DESCRIBE_CONFIGS)
    if refused is not None:
        return {"error_code": refused[0], "error_message": refused[1], "entries": None}
    admin = broker.quota_admin
    assert admin is not None
    body = request.body
    components = [(c.entity_type, int(c.match_type), c.match) for c in body.components]
    try:
        found = await broker.run(admin.describe_client_quotas, components, bool(body.strict))
    except ValueError as exc:
        return {"error_code": errors.INVALID_REQUEST, "error_message": str(exc), "entries": None}
    return {
        "error_code": errors.NONE,
        "error_message": None,
        "entries": [
            {
                "entity": _entity(parts),
                "values": [{"key": k, "value": v} for k, v in values.items()],
            }
            for parts, values in found
        ],
    }


async def alter_client_quotas(broker: Broker, conn: Connection, request: Request) -> dict[str, Any]:
    """Apply each entry (or only check it, with validate_only); an error per refused entry."""
    body = request.body
    entities = [[(e.entity_type, e.entity_name) for e in entry.entity] for entry in body.entries]
    refused = _refusal(broker, conn, Operation.ALTER_CONFIGS)
    if refused is not None:
        code, message = refused
        return {
            "entries": [
                {"error_code": code, "error_message": message, "entity": _entity(parts)}
                for parts in entities
            ]
        }
    admin = broker.quota_admin
    assert admin is not None
    entries = [
        (parts, [(op.key, float(op.value), bool(op.remove)) for op in entry.ops])
        for parts, entry in zip(entities, body.entries, strict=True)
    ]
    outcomes = await broker.run(
        admin.alter_client_quotas, entries, bool(body.validate_only), conn.principal
    )
    return {
        "entries": [
            {
                "error_code": errors.NONE if message is None else errors.INVALID_REQUEST,
                "error_message": message,
                "entity": _entity(parts),
            }
            for parts, message in zip(entities, outcomes, strict=True)
        ]
    }
