"""A slow, obviously right model of Kafka's StandardAuthorizer: a linear scan, written straight
from the rules, against which the indexed authorizer is checked."""

from __future__ import annotations

from collections.abc import Iterable

from acl.authorizer import AuthorizerSettings
from acl.model import Acl, Operation, PatternType, Permission, ResourceType


def covers(acl: Acl, resource_type: ResourceType, name: str) -> bool:
    """Whether the ACL's resource pattern covers the literal resource name."""
    if acl.resource_type != resource_type:
        return False
    if acl.pattern_type == PatternType.LITERAL:
        return acl.name == name or acl.name == "*"
    return name.startswith(acl.name)


def grants(acl: Acl, operation: Operation) -> bool:
    """Whether the ACL's operation covers the one asked for."""
    if acl.operation == Operation.ALL or acl.operation == operation:
        return True
    if acl.permission == Permission.DENY:
        return False
    if operation == Operation.DESCRIBE:
        return acl.operation in (Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER)
    if operation == Operation.DESCRIBE_CONFIGS:
        return acl.operation == Operation.ALTER_CONFIGS
    return False


def allowed(
    acls: Iterable[Acl],
    settings: AuthorizerSettings,
    principal: str,
    operation: Operation,
    resource_type: ResourceType,
    name: str,
    host: str | None,
) -> bool:
    """The decision by a scan of every ACL."""
    if principal in settings.super_users:
        return True
    matching = [acl for acl in acls if covers(acl, resource_type, name)]
    applicable = [
        acl
        for acl in matching
        if acl.principal in (principal, "User:*")
        and (acl.host == "*" or acl.host == host)
        and grants(acl, operation)
    ]
    if any(acl.permission == Permission.DENY for acl in applicable):
        return False
    if any(acl.permission == Permission.ALLOW for acl in applicable):
        return True
    return not matching and settings.allow_everyone_if_no_acl_found
