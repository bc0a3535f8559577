"""Which permission each REST request needs: one table per router (registry, /v3, /catalog,
/lag, /audit), matched on method and path; and which listings name resources the principal must be
allowed to DESCRIBE to see (`LISTINGS`). Pure.

The first rule whose methods and pattern match decides; the resource name comes from a path
segment (percent-decoded by the server already) or is fixed (the cluster). A request no rule
names needs only authentication when it reads (GET/HEAD) and ALTER on the cluster otherwise,
so a route added later is never open for writes by accident.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from engine.auth import CLUSTER_RESOURCE, Operation, ResourceType

READS = frozenset({"GET", "HEAD"})
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True, slots=True)
class Requirement:
    """One permission a request needs."""

    operation: Operation
    resource_type: ResourceType
    name: str
    #: the owner of the stream `name` (in the catalog) may, without an ACL
    owner_may: bool = False

    def describe(self, principal: str) -> str:
        """`User:alice may not WRITE SUBJECT orders-value`."""
        return f"{principal} may not {self.operation} {self.resource_type} {self.name}"


@dataclass(frozen=True, slots=True)
class Rule:
    """Requests with one of `methods` whose path matches `pattern` need `operation` on the
    resource named by the pattern's group `name` (or `fixed`); `operation` None: only
    authentication."""

    methods: frozenset[str]
    pattern: re.Pattern[str]
    operation: Operation | None
    resource_type: ResourceType = ResourceType.CLUSTER
    fixed: str = CLUSTER_RESOURCE
    owner_may: bool = False


def rule(
    methods: str,
    pattern: str,
    operation: Operation | None,
    resource_type: ResourceType = ResourceType.CLUSTER,
    *,
    owner_may: bool = False,
) -> Rule:
    """A rule from a space-separated method list and a path regex (`(?P<name>...)`)."""
    return Rule(
        frozenset(methods.split()),
        re.compile(pattern + r"/?$"),
        operation,
        resource_type,
        owner_may=owner_may,
    )


SEG = r"(?P<name>[^/]+)"
ANY = r"(?P<name>.+?)"  # subjects may contain '/'
S, T, G, C = ResourceType.SUBJECT, ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER
Op = Operation
V3 = r"^/v3/clusters/[^/]+"

REGISTRY: tuple[Rule, ...] = (
    rule("GET HEAD", rf"^/config/{ANY}", Op.DESCRIBE_CONFIGS, S),
    rule("PUT DELETE", rf"^/config/{ANY}", Op.ALTER_CONFIGS, S),
    rule("GET HEAD", rf"^/mode/{ANY}", Op.DESCRIBE_CONFIGS, S),
    rule("PUT DELETE", rf"^/mode/{ANY}", Op.ALTER_CONFIGS, S),
    rule("GET HEAD", r"^/(config|mode)", Op.DESCRIBE_CONFIGS, C),
    rule("PUT DELETE", r"^/(config|mode)", Op.ALTER_CONFIGS, C),
    rule("POST", rf"^/compatibility/subjects/{ANY}/versions(/[^/]+)?", Op.WRITE, S),
    rule("POST", rf"^/subjects/{ANY}/versions", Op.WRITE, S),
    rule("DELETE", rf"^/subjects/{ANY}/versions/[^/]+", Op.DELETE, S),
    rule("GET HEAD", rf"^/subjects/{ANY}/versions(/[^/]+(/schema|/referencedby)?)?", Op.READ, S),
    rule("POST", rf"^/subjects/{ANY}", Op.READ, S),  # lookup
    rule("DELETE", rf"^/subjects/{ANY}", Op.DELETE, S),
    rule("GET HEAD", r"^/(subjects|schemas|contexts)(/.*)?", None),
    rule("GET HEAD", r"^/", None),
)

CLUSTER_API: tuple[Rule, ...] = (
    rule("GET HEAD", rf"{V3}/acls", Op.DESCRIBE, C),
    rule("POST DELETE", rf"{V3}/acls(:batch)?", Op.ALTER, C),
    rule("POST", rf"{V3}/topics", Op.CREATE, C),
    rule("DELETE", rf"{V3}/topics/{SEG}", Op.DELETE, T),
    rule("GET HEAD", rf"{V3}/topics/{SEG}/configs(/[^/]+)?", Op.DESCRIBE_CONFIGS, T),
    rule("POST PUT DELETE", rf"{V3}/topics/{SEG}/configs(:alter|/[^/]+)?", Op.ALTER_CONFIGS, T),
    rule("POST", rf"{V3}/topics/{SEG}/records", Op.WRITE, T),
    rule("GET HEAD", rf"{V3}/topics/{SEG}/partitions/[^/]+/records", Op.READ, T),
    rule("GET HEAD", rf"{V3}/topics/{SEG}(/.*)?", Op.DESCRIBE, T),
    rule("POST", rf"{V3}/consumer-groups/{SEG}/offsets:reset", Op.READ, G),
    rule("GET HEAD", rf"{V3}/consumer-groups/{SEG}(/.*)?", Op.DESCRIBE, G),
    rule("GET HEAD", r"^/v3(/.*)?", None),
)

CATALOG: tuple[Rule, ...] = (
    rule("PATCH PUT POST DELETE", rf"^/catalog/streams/{SEG}(/.*)?", Op.ALTER, T, owner_may=True),
    rule("GET HEAD", r"^/catalog(/.*)?", None),
)

LAG: tuple[Rule, ...] = (
    rule("GET HEAD", rf"^/(lag/groups|keda)/{ANY}", Op.DESCRIBE, G),
    rule("GET HEAD", r"^/(lag|metrics)(/.*)?", None),
)

AUDIT: tuple[Rule, ...] = (
    # as Confluent's audit logs: readable with DESCRIBE on the cluster (or as a super user)
    rule("GET HEAD", r"^/audit", Op.DESCRIBE, C),
    rule("GET HEAD", r"^/authorized-operations", None),
)

#: Every router's rules, in the order they are tried.
RULES: tuple[Rule, ...] = (*AUDIT, *CLUSTER_API, *CATALOG, *LAG, *REGISTRY)


def requirement(method: str, path: str) -> Requirement | None:
    """The permission the request needs (None: only authentication)."""
    method = method.upper()
    for candidate in RULES:
        if method not in candidate.methods:
            continue
        match = candidate.pattern.match(path)
        if match is None:
            continue
        if candidate.operation is None:
            return None
        groups = match.groupdict()
        name = groups.get("name") or candidate.fixed
        return Requirement(candidate.operation, candidate.resource_type, name, candidate.owner_may)
    if method in READS:
        return None
    return Requirement(Operation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE)


@dataclass(frozen=True, slots=True)
class Listing:
    """A GET answer listing resources: items naming one the principal may not DESCRIBE are
    left out, as Kafka's Metadata leaves out topics (never a 403). `items` is the path to the
    list in the JSON answer (`*` = every element of a list on the way); `key` is the field
    naming the resource (None: the item is the name)."""

    pattern: re.Pattern[str]
    resource_type: ResourceType
    items: tuple[str, ...] = ()
    key: str | None = None


def listing(
    pattern: str, resource_type: ResourceType, items: str = "", key: str | None = None
) -> Listing:
    """A listing from a path regex, the dotted path to its items and the naming field."""
    return Listing(
        re.compile(pattern + r"/?$"), resource_type, tuple(items.split(".")) if items else (), key
    )


#: Every listing that names subjects, topics or groups, in the order they are tried.
LISTINGS: tuple[Listing, ...] = (
    listing(r"^/subjects", S),
    listing(r"^/schemas/ids/[^/]+/subjects", S),
    listing(r"^/schemas/ids/[^/]+/versions", S, key="subject"),
    listing(r"^/schemas", S, key="subject"),
    listing(rf"{V3}/topics", T, "data", "topic_name"),
    listing(rf"{V3}/consumer-groups", G, "data", "consumer_group_id"),
    listing(rf"{V3}/consumer-groups/[^/]+/lags", T, "data", "topic_name"),
    listing(r"^/lag/groups", G, "groups", "group"),
    listing(r"^/catalog/(streams|search|deprecations|fields)", T, key="topic"),
    listing(r"^/catalog/events", T, key="topic"),
    listing(r"^/replication", T, "flows.*.partitions", "topic"),
    listing(r"^/replication/flows/[^/]+", T, "partitions", "topic"),
)


def listing_of(method: str, path: str) -> Listing | None:
    """The listing a GET request reads, if it reads one (HEAD has no body to filter)."""
    if method.upper() != "GET":
        return None
    return next((entry for entry in LISTINGS if entry.pattern.match(path)), None)


def filter_listing(body: Any, entry: Listing, may_describe: Callable[[str], bool]) -> Any:
    """The answer without the items naming a resource `may_describe` refuses (an answer of
    another shape is returned unchanged)."""
    return _filter_at(body, entry.items, entry.key, may_describe)


def _filter_at(
    node: Any, path: tuple[str, ...], key: str | None, may: Callable[[str], bool]
) -> Any:
    if path:
        head, rest = path[0], path[1:]
        if head == "*" and isinstance(node, list):
            return [_filter_at(item, rest, key, may) for item in node]
        if isinstance(node, dict) and head in node:
            return {**node, head: _filter_at(node[head], rest, key, may)}
        return node
    if not isinstance(node, list):
        return node
    kept = []
    for item in node:
        name = item if key is None else item.get(key) if isinstance(item, dict) else None
        if not isinstance(name, str) or may(name):
            kept.append(item)
    return kept
