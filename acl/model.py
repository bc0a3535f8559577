"""ACL bindings as Kafka defines them, plus SUBJECT for the schema registry. Pure: no I/O.

An `Acl` is one binding: a resource pattern (type, name, LITERAL or PREFIXED), a principal
(`User:name` or `User:*`), a host (`*` or an address), an operation and ALLOW or DENY. An
`AclFilter` selects bindings for listing and removal with Kafka's filter semantics (ANY: any
pattern type with this exact name; MATCH: every binding that would apply to this literal name).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from engine.auth import CLUSTER_RESOURCE, Operation, ResourceType


class AclError(Exception):
    """An ACL, a filter or a name that is not valid; the message says what was wrong."""


class PatternType(StrEnum):
    """How a binding's resource name matches (ANY and MATCH only in filters)."""

    LITERAL = "LITERAL"
    PREFIXED = "PREFIXED"
    ANY = "ANY"
    MATCH = "MATCH"


class Permission(StrEnum):
    """ALLOW or DENY."""

    ALLOW = "ALLOW"
    DENY = "DENY"


#: Operations valid on each resource type besides ALL (Kafka's AclEntry; SUBJECT as the
#: registry uses it).
VALID_OPERATIONS: dict[ResourceType, frozenset[Operation]] = {
    ResourceType.TOPIC: frozenset(
        {
            Operation.READ,
            Operation.WRITE,
            Operation.CREATE,
            Operation.DESCRIBE,
            Operation.DELETE,
            Operation.ALTER,
            Operation.DESCRIBE_CONFIGS,
            Operation.ALTER_CONFIGS,
        }
    ),
    ResourceType.GROUP: frozenset(
        {
            Operation.READ,
            Operation.DESCRIBE,
            Operation.DELETE,
            Operation.DESCRIBE_CONFIGS,
            Operation.ALTER_CONFIGS,
        }
    ),
    ResourceType.CLUSTER: frozenset(
        {
            Operation.CREATE,
            Operation.CLUSTER_ACTION,
            Operation.DESCRIBE_CONFIGS,
            Operation.ALTER_CONFIGS,
            Operation.IDEMPOTENT_WRITE,
            Operation.ALTER,
            Operation.DESCRIBE,
        }
    ),
    ResourceType.TRANSACTIONAL_ID: frozenset({Operation.DESCRIBE, Operation.WRITE}),
    ResourceType.SUBJECT: frozenset(
        {
            Operation.READ,
            Operation.WRITE,
            Operation.DELETE,
            Operation.DESCRIBE,
            Operation.DESCRIBE_CONFIGS,
            Operation.ALTER_CONFIGS,
        }
    ),
}

#: What an ALLOW of an operation also allows (Kafka: READ, WRITE, DELETE, ALTER imply
#: DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS; nothing else). DENY implies nothing.
IMPLIED_BY: dict[Operation, frozenset[Operation]] = {
    Operation.DESCRIBE: frozenset(
        {Operation.READ, Operation.WRITE, Operation.DELETE, Operation.ALTER}
    ),
    Operation.DESCRIBE_CONFIGS: frozenset({Operation.ALTER_CONFIGS}),
}

WILDCARD = "*"
WILDCARD_PRINCIPAL = "User:*"
_PRINCIPAL = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*:.+$")


def parse_operation(text: str) -> Operation:
    """An operation as kafka-acls writes it (`Read`, `AlterConfigs`, `IdempotentWrite`), in any
    case, or as Kafka's enum names it (`ALTER_CONFIGS`)."""
    squashed = text.strip().upper()
    for op in Operation:
        if squashed in (op.value, op.value.replace("_", "")):
            return op
    names = ", ".join(_pascal(op) for op in Operation)
    raise AclError(f"unknown operation {text!r} (one of {names})")


def _pascal(op: Operation) -> str:
    return "".join(part.capitalize() for part in op.value.split("_"))


def operation_label(op: Operation) -> str:
    """The operation as kafka-acls prints it (`AlterConfigs`)."""
    return _pascal(op)


def parse_enum(kind: type[StrEnum], text: str, what: str) -> Any:
    """A member of `kind` named by `text` in any case, or AclError naming `what`."""
    try:
        return kind(text.strip().upper())
    except ValueError:
        names = ", ".join(m.value for m in kind)
        raise AclError(f"unknown {what} {text!r} (one of {names})") from None


def check_principal(principal: str) -> str:
    """`Type:name` (`User:alice`, `User:*`), or AclError."""
    if not _PRINCIPAL.match(principal):
        raise AclError(f"principal {principal!r} is not of the form Type:name (User:alice)")
    if principal.endswith(":*") and principal != WILDCARD_PRINCIPAL:
        raise AclError(f"principal {principal!r}: the only wildcard principal is User:*")
    return principal


@dataclass(frozen=True, slots=True, order=True)
class Acl:
    """One ACL binding (a resource pattern and an access control entry)."""

    resource_type: ResourceType
    name: str
    pattern_type: PatternType
    principal: str
    host: str
    operation: Operation
    permission: Permission

    def __post_init__(self) -> None:
        check_principal(self.principal)
        if not self.name:
            raise AclError("the resource name must not be empty")
        if self.pattern_type not in (PatternType.LITERAL, PatternType.PREFIXED):
            raise AclError(f"an ACL's pattern type is LITERAL or PREFIXED, not {self.pattern_type}")
        if self.resource_type is ResourceType.CLUSTER and (
            self.name != CLUSTER_RESOURCE or self.pattern_type is not PatternType.LITERAL
        ):
            raise AclError(f"the cluster resource is the literal name {CLUSTER_RESOURCE!r}")
        if not self.host:
            raise AclError("the host must not be empty (use * for any host)")
        if (
            self.operation is not Operation.ALL
            and self.operation not in VALID_OPERATIONS[self.resource_type]
        ):
            valid = ", ".join(sorted(_pascal(op) for op in VALID_OPERATIONS[self.resource_type]))
            raise AclError(
                f"operation {_pascal(self.operation)} is not valid on {self.resource_type} "
                f"(valid: All, {valid})"
            )

    def to_dict(self) -> dict[str, str]:
        """The binding in REST Proxy v3's field names."""
        return {
            "resource_type": self.resource_type.value,
            "resource_name": self.name,
            "pattern_type": self.pattern_type.value,
            "principal": self.principal,
            "host": self.host,
            "operation": self.operation.value,
            "permission": self.permission.value,
        }

    @staticmethod
    def from_dict(data: Any) -> Acl:
        """A binding from `to_dict`'s shape (names in any case), or AclError naming the
        missing or wrong field."""
        if not isinstance(data, dict):
            raise AclError("an ACL is an object with resource_type, resource_name, ...")
        try:
            return Acl(
                resource_type=parse_enum(ResourceType, str(data["resource_type"]), "resource type"),
                name=str(data["resource_name"]),
                pattern_type=parse_enum(
                    PatternType, str(data.get("pattern_type", "LITERAL")), "pattern type"
                ),
                principal=str(data["principal"]),
                host=str(data.get("host", WILDCARD)),
                operation=parse_operation(str(data["operation"])),
                permission=parse_enum(Permission, str(data["permission"]), "permission"),
            )
        except KeyError as exc:
            raise AclError(f"an ACL needs the field {exc.args[0]}") from None

    def describe(self) -> str:
        """One line as kafka-acls shows a binding."""
        return (
            f"{self.permission} {self.principal} {_pascal(self.operation)} from host "
            f"{self.host} on {self.resource_type}:{self.pattern_type}:{self.name}"
        )


@dataclass(frozen=True, slots=True)
class AclFilter:
    """Selects bindings; None in a field matches anything (Kafka's ANY)."""

    resource_type: ResourceType | None = None
    name: str | None = None
    pattern_type: PatternType = PatternType.ANY
    principal: str | None = None
    host: str | None = None
    operation: Operation | None = None
    permission: Permission | None = None

    def matches(self, acl: Acl) -> bool:
        """Whether the binding is selected (Kafka's AclBindingFilter.matches)."""
        if self.resource_type is not None and acl.resource_type is not self.resource_type:
            return False
        if self.principal is not None and acl.principal != self.principal:
            return False
        if self.host is not None and acl.host != self.host:
            return False
        if self.operation is not None and acl.operation is not self.operation:
            return False
        if self.permission is not None and acl.permission is not self.permission:
            return False
        return self._pattern_matches(acl)

    def _pattern_matches(self, acl: Acl) -> bool:
        pattern = self.pattern_type
        if pattern is PatternType.MATCH:
            if self.name is None:
                return True
            if acl.pattern_type is PatternType.LITERAL:
                return acl.name in (self.name, WILDCARD)
            return self.name.startswith(acl.name)
        if pattern is not PatternType.ANY and acl.pattern_type is not pattern:
            return False
        return self.name is None or acl.name == self.name

    def to_dict(self) -> dict[str, str | None]:
        """The filter's fields, None for any."""
        return {
            "resource_type": None if self.resource_type is None else self.resource_type.value,
            "resource_name": self.name,
            "pattern_type": self.pattern_type.value,
            "principal": self.principal,
            "host": self.host,
            "operation": None if self.operation is None else self.operation.value,
            "permission": None if self.permission is None else self.permission.value,
        }

    @staticmethod
    def from_dict(data: dict[str, Any]) -> AclFilter:
        """A filter from `to_dict`'s shape (absent or None fields, and ANY, match anything)."""

        def text(key: str) -> str | None:
            value = data.get(key)
            if value is None or (key != "resource_name" and str(value).upper() == "ANY"):
                return None
            return str(value)

        rt, op, perm = text("resource_type"), text("operation"), text("permission")
        return AclFilter(
            resource_type=None if rt is None else parse_enum(ResourceType, rt, "resource type"),
            name=text("resource_name"),
            pattern_type=parse_enum(
                PatternType, str(data.get("pattern_type") or "ANY"), "pattern type"
            ),
            principal=text("principal"),
            host=text("host"),
            operation=None if op is None else parse_operation(op),
            permission=None if perm is None else parse_enum(Permission, perm, "permission"),
        )
