"""Kafka's StandardAuthorizer decision over an index of ACLs. Pure: no I/O.

The decision, as Kafka takes it:

1. a super user is allowed, whatever the ACLs say;
2. the candidates are the ACLs of the resource type whose pattern covers the name: LITERAL
   with the same name, PREFIXED whose name starts the requested name, LITERAL `*`;
3. a candidate applies when its principal is the caller or `User:*`, its host is `*` or the
   caller's address, and its operation is the one asked for or ALL, or (ALLOW only) one that
   implies it (READ/WRITE/DELETE/ALTER imply DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS);
4. an applicable DENY denies; else an applicable ALLOW allows; else, when no candidate exists
   at all, `allow_everyone_if_no_acl_found` decides; else denied.

The index keys candidates by (resource type, name) for LITERAL and by (resource type, prefix)
for PREFIXED, each split by principal, so a decision costs a few dictionary lookups per
distinct prefix length however many ACLs there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from acl.model import (
    IMPLIED_BY,
    WILDCARD,
    WILDCARD_PRINCIPAL,
    Acl,
    Operation,
    PatternType,
    Permission,
    ResourceType,
)

NO_ACL_MATCHED = "no ACL matched"


@dataclass(frozen=True, slots=True)
class AuthorizerSettings:
    """The operator's settings that take part in every decision."""

    super_users: frozenset[str] = frozenset()
    allow_everyone_if_no_acl_found: bool = False


@dataclass(frozen=True, slots=True)
class Decision:
    """An answer and why: the ACL that decided, or a reason when none did."""

    allowed: bool
    acl: Acl | None
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


_SUPER = Decision(True, None, "super user")
_NO_ACL_ALLOWED = Decision(True, None, f"{NO_ACL_MATCHED}; allow.everyone.if.no.acl.found")
_NO_ACL_DENIED = Decision(False, None, NO_ACL_MATCHED)
_NO_APPLICABLE = Decision(False, None, "ACLs exist for the resource; none allows this")

# principal -> the ACLs of one resource pattern
_ByPrincipal = dict[str, list[Acl]]


class AclIndex:
    """A set of ACLs indexed for decisions; `add` and `remove` keep the index current."""

    def __init__(self, acls: Iterable[Acl] = ()) -> None:
        self._all: set[Acl] = set()
        self._literal: dict[tuple[ResourceType, str], _ByPrincipal] = {}
        self._prefixed: dict[tuple[ResourceType, str], _ByPrincipal] = {}
        #: resource type -> prefix length -> how many prefixes of that length
        self._lengths: dict[ResourceType, dict[int, int]] = {}
        for acl in acls:
            self.add(acl)

    def __len__(self) -> int:
        return len(self._all)

    def __iter__(self) -> Iterator[Acl]:
        return iter(sorted(self._all))

    def __contains__(self, acl: object) -> bool:
        return acl in self._all

    def add(self, acl: Acl) -> bool:
        """Index the ACL; False if it was there already."""
        if acl in self._all:
            return False
        self._all.add(acl)
        table = self._table(acl)
        key = (acl.resource_type, acl.name)
        if key not in table and acl.pattern_type is PatternType.PREFIXED:
            lengths = self._lengths.setdefault(acl.resource_type, {})
            lengths[len(acl.name)] = lengths.get(len(acl.name), 0) + 1
        table.setdefault(key, {}).setdefault(acl.principal, []).append(acl)
        return True

    def remove(self, acl: Acl) -> bool:
        """Drop the ACL; False if it was not there."""
        if acl not in self._all:
            return False
        self._all.discard(acl)
        table = self._table(acl)
        key = (acl.resource_type, acl.name)
        by_principal = table[key]
        by_principal[acl.principal].remove(acl)
        if not by_principal[acl.principal]:
            del by_principal[acl.principal]
        if not by_principal:
            del table[key]
            if acl.pattern_type is PatternType.PREFIXED:
                lengths = self._lengths[acl.resource_type]
                lengths[len(acl.name)] -= 1
                if not lengths[len(acl.name)]:
                    del lengths[len(acl.name)]
        return True

    def _table(self, acl: Acl) -> dict[tuple[ResourceType, str], _ByPrincipal]:
        return self._literal if acl.pattern_type is PatternType.LITERAL else self._prefixed

    def candidates(self, resource_type: ResourceType, name: str) -> list[_ByPrincipal]:
        """The ACL groups whose pattern covers the literal name (step 2 above)."""
        found: list[_ByPrincipal] = []
        literal = self._literal.get((resource_type, name))
        if literal is not None:
            found.append(literal)
        lengths = self._lengths.get(resource_type)
        if lengths:
            prefixed = self._prefixed
            size = len(name)
            for length in lengths:
                if length <= size:
                    group = prefixed.get((resource_type, name[:length]))
                    if group is not None:
                        found.append(group)
        if name != WILDCARD:
            wildcard = self._literal.get((resource_type, WILDCARD))
            if wildcard is not None:
                found.append(wildcard)
        return found

    def decide(
        self,
        settings: AuthorizerSettings,
        principal: str,
        operation: Operation,
        resource_type: ResourceType,
        name: str,
        host: str | None = None,
    ) -> Decision:
        """Kafka's decision for one request (see the module docstring). `host` None means the
        caller's address is unknown: only ACLs for host `*` apply."""
        if principal in settings.super_users:
            return _SUPER
        groups = self.candidates(resource_type, name)
        if not groups:
            return _NO_ACL_ALLOWED if settings.allow_everyone_if_no_acl_found else _NO_ACL_DENIED
        implied = IMPLIED_BY.get(operation, frozenset())
        allow: Acl | None = None
        for group in groups:
            for who in (principal, WILDCARD_PRINCIPAL):
                acls = group.get(who)
                if not acls:
                    continue
                for acl in acls:
                    if acl.host != WILDCARD and acl.host != host:
                        continue
                    op = acl.operation
                    if acl.permission is Permission.DENY:
                        if op is operation or op is Operation.ALL:
                            return Decision(False, acl, "denied by an ACL")
                    elif allow is None and (
                        op is operation or op is Operation.ALL or op in implied
                    ):
                        allow = acl
                if who == WILDCARD_PRINCIPAL:
                    break
        if allow is not None:
            return Decision(True, allow, "allowed by an ACL")
        return _NO_APPLICABLE


class StandardAuthorizer:
    """The `engine.auth.Authorizer` protocol over an `AclIndex` and the operator's settings.

    Both take the client's address when the caller has one; without it only ACLs for any
    host (`*`) apply."""

    def __init__(self, index: AclIndex, settings: AuthorizerSettings | None = None) -> None:
        self.index = index
        self.settings = settings or AuthorizerSettings()

    def authorize(
        self,
        principal: str,
        operation: str,
        resource_type: str,
        resource_name: str,
        host: str | None = None,
    ) -> bool:
        """True when allowed (names as `engine.auth` spells them)."""
        return self.decide(principal, operation, resource_type, resource_name, host).allowed

    def decide(
        self,
        principal: str,
        operation: str,
        resource_type: str,
        resource_name: str,
        host: str | None = None,
    ) -> Decision:
        """The decision with the ACL that took it."""
        return self.index.decide(
            self.settings,
            principal,
            Operation(operation),
            ResourceType(resource_type),
            resource_name,
            host,
        )
