"""`streamgov acl sync`: make an external Kafka cluster's ACLs match ours, through its admin
API (DescribeAcls, then CreateAcls and DeleteAcls for the difference).

SUBJECT ACLs have no Kafka resource type and stay here; every other ACL is mirrored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
)
from confluent_kafka.admin import ResourceType as KafkaResourceType

from acl.model import Acl, Operation, PatternType, Permission, ResourceType

TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class SyncPlan:
    """What a sync creates and deletes on the external cluster."""

    create: tuple[Acl, ...]
    delete: tuple[Acl, ...]

    @property
    def empty(self) -> bool:
        """Nothing to do."""
        return not self.create and not self.delete


def mirrored(acls: Iterable[Acl]) -> set[Acl]:
    """The ACLs a Kafka cluster can hold (all but SUBJECT)."""
    return {acl for acl in acls if acl.resource_type is not ResourceType.SUBJECT}


def diff(ours: Iterable[Acl], theirs: Iterable[Acl]) -> SyncPlan:
    """Create what they lack, delete what we do not have."""
    want, have = mirrored(ours), set(theirs)
    return SyncPlan(tuple(sorted(want - have)), tuple(sorted(have - want)))


def to_binding(acl: Acl) -> AclBinding:
    """Our ACL as confluent-kafka's binding."""
    return AclBinding(
        KafkaResourceType[acl.resource_type.value],
        acl.name,
        ResourcePatternType[acl.pattern_type.value],
        acl.principal,
        acl.host,
        AclOperation[acl.operation.value],
        AclPermissionType[acl.permission.value],
    )


def from_binding(binding: AclBinding) -> Acl | None:
    """confluent-kafka's binding as our ACL (None for what we do not model)."""
    try:
        return Acl(
            ResourceType(_enum_name(binding.restype)),
            binding.name,
            PatternType(_enum_name(binding.resource_pattern_type)),
            binding.principal,
            binding.host,
            Operation(_enum_name(binding.operation)),
            Permission(_enum_name(binding.permission_type)),
        )
    except ValueError:
        return None


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


def _exact(acl: Acl) -> AclBindingFilter:
    binding = to_binding(acl)
    return AclBindingFilter(
        binding.restype,
        binding.name,
        binding.resource_pattern_type,
        binding.principal,
        binding.host,
        binding.operation,
        binding.permission_type,
    )


class ExternalAcls:
    """An external cluster's ACLs through its admin API."""

    def __init__(self, config: Mapping[str, str], timeout: float = TIMEOUT_S) -> None:
        self._admin = AdminClient(dict(config))
        self._timeout = timeout

    def list(self) -> list[Acl]:
        """Every ACL the cluster holds that we can model."""
        anything: Any = None  # a None name, principal or host matches any
        everything = AclBindingFilter(
            KafkaResourceType.ANY,
            anything,
            ResourcePatternType.ANY,
            anything,
            anything,
            AclOperation.ANY,
            AclPermissionType.ANY,
        )
        found = self._admin.describe_acls(everything, request_timeout=self._timeout)
        bindings = found.result(timeout=self._timeout)
        return sorted(acl for acl in map(from_binding, bindings) if acl is not None)

    def apply(self, plan: SyncPlan) -> None:
        """Create and delete as planned (raises the first failure)."""
        if plan.create:
            created = self._admin.create_acls(
                [to_binding(acl) for acl in plan.create], request_timeout=self._timeout
            )
            for future in created.values():
                future.result(timeout=self._timeout)
        if plan.delete:
            deleted = self._admin.delete_acls(
                [_exact(acl) for acl in plan.delete], request_timeout=self._timeout
            )
            for future in deleted.values():
                future.result(timeout=self._timeout)
