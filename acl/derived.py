"""ACLs that follow from the catalog, canned roles, and the single-writer rule. Pure.

A service reads its declared inputs with its own consumer groups, writes the streams it owns,
and fully manages its internal streams (topics prefixed `<service>-`). Its principals are
`User:<service>` and each of its declared principals (`User:` added when no type is given).

The single-writer rule: an owned stream is written by its owner only, so an ALLOW that would
let anyone else WRITE to it (WRITE or ALL, literal or through a prefix or `*`, `User:*`
included) is refused unless forced.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from acl.model import (
    WILDCARD,
    Acl,
    AclError,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)
from catalog.model import Service, Stream

#: Canned roles as kafka-gitops users know them: (resource type, operations) per kind of
#: resource named in the entry.
ROLES: dict[str, dict[ResourceType, tuple[Operation, ...]]] = {
    "consumer": {
        ResourceType.TOPIC: (Operation.READ, Operation.DESCRIBE),
        ResourceType.GROUP: (Operation.READ,),
    },
    "producer": {
        ResourceType.TOPIC: (Operation.WRITE, Operation.DESCRIBE),
        ResourceType.TRANSACTIONAL_ID: (Operation.WRITE, Operation.DESCRIBE),
    },
    "stream-processing-app": {
        ResourceType.TOPIC: (Operation.READ, Operation.WRITE, Operation.DESCRIBE),
        ResourceType.GROUP: (Operation.READ,),
        ResourceType.TRANSACTIONAL_ID: (Operation.WRITE, Operation.DESCRIBE),
    },
}


class SingleWriterError(AclError):
    """A grant would let someone other than its owner write an owned stream."""


def principals_of(service: Service) -> tuple[str, ...]:
    """The principals a service acts as."""
    found = [f"User:{service.name}"]
    for entry in service.principals:
        found.append(entry if ":" in entry else f"User:{entry}")
    return tuple(dict.fromkeys(found))


def _allow(
    kind: ResourceType, name: str, principal: str, op: Operation, pattern: PatternType
) -> Acl:
    return Acl(kind, name, pattern, principal, WILDCARD, op, Permission.ALLOW)


def service_acls(service: Service, owned: Iterable[Stream]) -> list[Acl]:
    """What one service needs: READ its inputs and its groups, WRITE what it owns, ALL on
    its internal topics (`<name>-` prefix)."""
    lit, pre = PatternType.LITERAL, PatternType.PREFIXED
    acls: list[Acl] = []
    for principal in principals_of(service):
        for topic in service.inputs:
            acls.append(_allow(ResourceType.TOPIC, topic, principal, Operation.READ, lit))
        if service.inputs:
            for group in service.group_ids():
                acls.append(_allow(ResourceType.GROUP, group, principal, Operation.READ, lit))
        for stream in owned:
            acls.append(_allow(ResourceType.TOPIC, stream.topic, principal, Operation.WRITE, lit))
        acls.append(_allow(ResourceType.TOPIC, f"{service.name}-", principal, Operation.ALL, pre))
    return acls


def catalog_acls(services: Iterable[Service], streams: Iterable[Stream]) -> list[Acl]:
    """Every service's derived ACLs, sorted, without repeats."""
    by_owner: dict[str, list[Stream]] = {}
    for stream in streams:
        if stream.owner:
            by_owner.setdefault(stream.owner, []).append(stream)
    found: set[Acl] = set()
    for service in services:
        found.update(service_acls(service, by_owner.get(service.name, [])))
    return sorted(found)


def role_acls(
    role: str,
    principal: str,
    resources: Mapping[ResourceType, Iterable[str]],
    pattern: PatternType = PatternType.LITERAL,
) -> list[Acl]:
    """A canned role's ACLs on the named resources (AclError for an unknown role)."""
    grants = ROLES.get(role)
    if grants is None:
        raise AclError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    return [
        _allow(kind, name, principal, op, pattern)
        for kind, ops in grants.items()
        for name in resources.get(kind, ())
        for op in ops
    ]


#: topic -> the principals of its owner (None: not an owned stream)
OwnerLookup = Callable[[str], tuple[str, ...] | None]


def owners_from(
    services: Iterable[Service], streams: Iterable[Stream]
) -> dict[str, tuple[str, ...]]:
    """topic -> its owner's principals, for every owned stream."""
    by_name = {service.name: service for service in services}
    return {
        s.topic: principals_of(by_name[s.owner]) if s.owner in by_name else (f"User:{s.owner}",)
        for s in streams
        if s.owner
    }


def single_writer_violations(
    acls: Iterable[Acl], owners: Mapping[str, tuple[str, ...]]
) -> list[str]:
    """Why each ACL that would let a non-owner write an owned stream is refused."""
    problems: list[str] = []
    for acl in acls:
        if (
            acl.permission is not Permission.ALLOW
            or acl.resource_type is not ResourceType.TOPIC
            or acl.operation not in (Operation.WRITE, Operation.ALL)
        ):
            continue
        for topic, principals in owners.items():
            covered = (
                topic.startswith(acl.name)
                if acl.pattern_type is PatternType.PREFIXED
                else acl.name in (topic, WILDCARD)
            )
            if covered and acl.principal not in principals:
                problems.append(
                    f"{acl.principal} may not be granted {acl.operation} on {topic}: the stream "
                    f"is owned by {', '.join(principals)} (single writer; force to override)"
                )
    return problems


def check_single_writer(acls: Iterable[Acl], owners: Mapping[str, tuple[str, ...]]) -> None:
    """Raise `SingleWriterError` naming every violation."""
    problems = single_writer_violations(acls, owners)
    if problems:
        raise SingleWriterError("; ".join(problems))
