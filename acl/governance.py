"""ACLs in `streamgov plan` / `apply`: the ACLs derived from the catalog (as the files will
leave it) plus the `acls:` section's explicit entries and canned roles, compared with the
`_acls` log. Missing ACLs are created; an entry marked `delete: true` is removed.

```yaml
acls:
  - principal: User:reporting
    role: consumer              # consumer | producer | stream-processing-app
    topics: [orders]
    groups: [reporting]
  - principal: User:alice
    operations: [Read, Describe]
    topic: orders               # or group:, subject:, transactional_id:, cluster: true
    pattern: prefixed           # literal (default) | prefixed
    permission: deny            # allow (default) | deny
    host: 10.0.0.7              # default *
  - principal: User:batch
    operations: [Write]
    topic: orders
    force: true                 # a non-owner writing an owned stream (single writer)
```
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from acl.derived import catalog_acls, owners_from, role_acls, single_writer_violations
from acl.model import (
    WILDCARD,
    Acl,
    AclError,
    AclFilter,
    PatternType,
    Permission,
    ResourceType,
    check_principal,
    parse_enum,
    parse_operation,
)
from acl.service import AccessControl
from catalog.governance.files import Governance
from catalog.governance.plan import CREATE, DELETE, Change, Context
from catalog.model import Service, Stream
from engine.auth import CLUSTER_RESOURCE

_KEYS = (
    "principal",
    "role",
    "operations",
    "topic",
    "topics",
    "group",
    "groups",
    "subject",
    "subjects",
    "transactional_id",
    "cluster",
    "pattern",
    "permission",
    "host",
    "force",
    "delete",
)
_RESOURCES = (
    ("topic", "topics", ResourceType.TOPIC),
    ("group", "groups", ResourceType.GROUP),
    ("subject", "subjects", ResourceType.SUBJECT),
    ("transactional_id", "transactional_id", ResourceType.TRANSACTIONAL_ID),
)


@dataclass(frozen=True, slots=True)
class Entry:
    """The ACLs one `acls:` entry stands for."""

    acls: tuple[Acl, ...]
    force: bool
    delete: bool
    origin: str
    #: the error to raise about this entry (points at its file and line)
    fail: Callable[[str], Exception]


def read_entries(governance: Governance) -> list[Entry]:
    """Every `acls:` entry of every file, checked (errors name file and line)."""
    entries: list[Entry] = []
    for section, reader in governance.sections.get("acls", []):
        if section is None:
            continue
        if not isinstance(section, list):
            raise reader.fail(getattr(section, "line", 1), "acls must be a list of entries")
        lines = getattr(section, "item_lines", [1] * len(section))
        for number, (item, line) in enumerate(zip(section, lines, strict=True)):
            where = f"acls[{number}]"
            value = reader.mapping(item, where, line)
            reader.keys(value, _KEYS, where)
            try:
                acls = _entry_acls(reader, value, where)
            except AclError as exc:
                raise reader.fail(line, f"{where}: {exc}") from None
            entries.append(
                Entry(
                    tuple(acls),
                    reader.boolean(value, "force", where),
                    reader.boolean(value, "delete", where),
                    f"{reader.source}:{line}",
                    functools.partial(reader.fail, line),
                )
            )
    return entries


def _entry_acls(reader: Any, value: Any, where: str) -> list[Acl]:
    principal = reader.text(value, "principal", where)
    if principal is None:
        raise AclError("principal is required")
    check_principal(principal)
    resources: dict[ResourceType, list[str]] = {}
    for one, many, kind in _RESOURCES:
        names = [reader.text(value, one, where)]
        if many != one:
            names += [name for name, _ in reader.strings(value, many, where)]
        found = [name for name in names if name]
        if found:
            resources[kind] = found
    if reader.boolean(value, "cluster", where):
        resources[ResourceType.CLUSTER] = [CLUSTER_RESOURCE]
    if not resources:
        raise AclError("name a topic, group, subject, transactional_id or cluster")
    pattern = parse_enum(PatternType, reader.text(value, "pattern", where) or "literal", "pattern")
    role = reader.text(value, "role", where)
    ops = [parse_operation(op) for op, _ in reader.strings(value, "operations", where)]
    if role is not None:
        if ops:
            raise AclError("give a role or operations, not both")
        return role_acls(role, principal, resources, pattern)
    if not ops:
        raise AclError("give a role or operations")
    permission = parse_enum(
        Permission, reader.text(value, "permission", where) or "allow", "permission"
    )
    host = reader.text(value, "host", where) or WILDCARD
    return [
        Acl(kind, name, pattern, principal, host, op, permission)
        for kind, names in resources.items()
        for name in names
        for op in ops
    ]


def planned_catalog(governance: Governance, context: Context) -> tuple[list[Service], list[Stream]]:
    """The catalog's services and streams as the files will leave them."""
    services = {s.name: s for s in context.catalog.services()}
    streams = {s.topic: s for s in context.catalog.streams()}
    for name, desired in governance.services.items():
        if desired.delete:
            services.pop(name, None)
            continue
        fields = {k: v for k, v in desired.fields.items() if k in _SERVICE_FIELDS}
        fields = {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}
        base = services.get(name)
        merged = {**(_service_fields(base) if base is not None else {}), **fields}
        services[name] = Service(name, **merged)
    for topic, desired_stream in governance.streams.items():
        if desired_stream.delete:
            streams.pop(topic, None)
        elif desired_stream.owner is not None:
            streams[topic] = Stream(topic=topic, owner=desired_stream.owner)
    return list(services.values()), list(streams.values())


_SERVICE_FIELDS = ("team", "description", "contacts", "inputs", "outputs", "groups", "principals")


def _service_fields(service: Service) -> dict[str, Any]:
    return {key: getattr(service, key) for key in _SERVICE_FIELDS}


class AclProvider:
    """Plans and applies ACLs (the `acl` kind of change)."""

    kind = "acl"

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        """Creates for missing derived and declared ACLs; deletes for `delete: true`."""
        services, streams = planned_catalog(governance, context)
        owners = owners_from(services, streams)
        access = AccessControl(context.cluster).start()
        try:
            live = set(access.acls())
        finally:
            access.close()
        changes: list[Change] = []
        wanted: dict[Acl, str] = {acl: "catalog" for acl in catalog_acls(services, streams)}
        for entry in read_entries(governance):
            if not entry.force:
                problems = single_writer_violations(entry.acls, owners)
                if problems:
                    raise entry.fail(problems[0])
            for acl in entry.acls:
                if entry.delete:
                    if acl in live:
                        changes.append(self._change(acl, DELETE, entry.origin))
                    wanted.pop(acl, None)
                else:
                    wanted.setdefault(acl, entry.origin)
        for acl, origin in sorted(wanted.items()):
            if acl not in live:
                changes.append(self._change(acl, CREATE, origin))
        return changes

    def _change(self, acl: Acl, action: str, origin: str) -> Change:
        resource = f"{acl.resource_type}:{acl.pattern_type}:{acl.name}"
        name = f"{acl.permission} {acl.principal} {acl.operation} {resource}"
        if acl.host != WILDCARD:
            name += f" from {acl.host}"
        return Change(self.kind, name, action, payload=acl.to_dict(), origin=origin)

    def apply(self, change: Change, context: Context) -> None:
        """Create or delete the one ACL."""
        acl = Acl.from_dict(change.payload)
        access = AccessControl(context.cluster).start()
        try:
            if change.action == DELETE:
                exact = AclFilter(
                    acl.resource_type,
                    acl.name,
                    acl.pattern_type,
                    acl.principal,
                    acl.host,
                    acl.operation,
                    acl.permission,
                )
                access.remove([exact])
            else:
                access.add([acl], force=True)  # the plan checked the single-writer rule
        finally:
            access.close()


PROVIDER = AclProvider()
