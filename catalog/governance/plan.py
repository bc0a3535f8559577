"""`streamgov plan` / `apply`: the difference between the governance files and the live
cluster, registry and catalog, as a list of changes, and the code that makes each change.

A provider compares one kind of resource and applies its own changes; the plan is their
concatenation, applied in provider order (topics before the schemas and catalog entries that
refer to them), with deletions last. Only what the files mark with `delete: true` is deleted.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from catalog import state as commands
from catalog.governance.files import DesiredStream, Governance
from catalog.model import Lifecycle, Stream, Tag
from catalog.service import Catalog
from engine.cluster import Cluster
from engine.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError
from engine.topics import DEFAULT_CONFIG
from registry.errors import RegistryError
from registry.service import SchemaRegistry

CREATE, UPDATE, DELETE = "create", "update", "delete"
_SYMBOL = {CREATE: "+", UPDATE: "~", DELETE: "-"}


@dataclass(frozen=True, slots=True)
class Change:
    """One change the plan would make."""

    kind: str  # topic, schema, stream, service, catalog-settings, acl, ...
    name: str
    action: str  # create, update, delete
    #: what changes: field -> [before, after]
    diff: dict[str, list[Any]] = field(default_factory=dict)
    #: everything the provider needs to apply the change
    payload: dict[str, Any] = field(default_factory=dict)
    origin: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of `plan --format json`."""
        return {
            "kind": self.kind,
            "name": self.name,
            "action": self.action,
            "changes": self.diff,
            "origin": self.origin,
        }

    def describe(self) -> str:
        """One readable line, terraform style."""
        head = f"{_SYMBOL[self.action]} {self.kind} {self.name}"
        if not self.diff:
            return head
        parts = [
            f"{key}: {_show(before)} -> {_show(after)}"
            for key, (before, after) in self.diff.items()
        ]
        return f"{head}: " + "; ".join(parts)


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(item) for item in value) + "]"
    return str(value)


@dataclass
class Plan:
    """The changes, in the order they will be applied."""

    changes: list[Change]

    @property
    def empty(self) -> bool:
        """True when the live state already matches the files."""
        return not self.changes

    def counts(self) -> dict[str, int]:
        """How many changes of each action."""
        counts = {CREATE: 0, UPDATE: 0, DELETE: 0}
        for change in self.changes:
            counts[change.action] += 1
        return counts

    def render(self) -> str:
        """The readable plan."""
        if self.empty:
            return "No changes: the cluster, registry and catalog match the files."
        lines = [change.describe() for change in self.changes]
        counts = self.counts()
        lines.append(
            f"\nPlan: {counts[CREATE]} to add, {counts[UPDATE]} to change, "
            f"{counts[DELETE]} to delete."
        )
        return "\n".join(lines)

    def to_json(self) -> str:
        """The JSON plan."""
        return json.dumps(
            {"changes": [c.to_dict() for c in self.changes], "summary": self.counts()}, indent=2
        )


@dataclass
class Context:
    """The live systems a plan is compared with and applied to."""

    cluster: Cluster
    registry: SchemaRegistry
    catalog: Catalog


class Provider(Protocol):
    """Plans and applies one kind of resource."""

    #: the `Change.kind` this provider plans and applies
    kind: str

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        """The changes that would bring the live state to the files."""
        ...

    def apply(self, change: Change, context: Context) -> None:
        """Make one change this provider planned."""
        ...


# -- topics ---------------------------------------------------------------------------------------


class Topics:
    """Topics: create, grow partitions, set declared configs, delete when marked."""

    kind = "topic"

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        live = context.cluster.topic_settings(sorted(governance.streams))
        changes: list[Change] = []
        for topic, desired in sorted(governance.streams.items()):
            origin = str(desired.origin)
            current = live.get(topic)
            if desired.delete:
                if current is not None:
                    changes.append(Change(self.kind, topic, DELETE, origin=origin))
                continue
            if current is None:
                partitions = desired.partitions or 1
                diff: dict[str, list[Any]] = {"partitions": [None, partitions]}
                diff.update({key: [None, value] for key, value in sorted(desired.config.items())})
                payload = {"partitions": partitions, "config": desired.config}
                changes.append(Change(self.kind, topic, CREATE, diff, payload, origin))
                continue
            diff = {}
            update: dict[str, Any] = {}
            if desired.partitions is not None and desired.partitions != current.partitions:
                diff["partitions"] = [current.partitions, desired.partitions]
                update["partitions"] = desired.partitions
            configs = {
                key: value
                for key, value in desired.config.items()
                if current.config.get(key, DEFAULT_CONFIG.get(key)) != value
            }
            for key, value in sorted(configs.items()):
                diff[key] = [current.config.get(key), value]
            if configs:
                update["config"] = configs
            if diff:
                changes.append(Change(self.kind, topic, UPDATE, diff, update, origin))
        return changes

    def apply(self, change: Change, context: Context) -> None:
        cluster = context.cluster
        if change.action == CREATE:
            with contextlib.suppress(TopicAlreadyExistsError):
                cluster.create_topic(
                    change.name, change.payload["partitions"], change.payload["config"]
                )
        elif change.action == UPDATE:
            if "partitions" in change.payload:
                cluster.add_partitions(change.name, change.payload["partitions"])
            if "config" in change.payload:
                cluster.alter_topic_config(change.name, change.payload["config"])
        else:
            with contextlib.suppress(UnknownTopicOrPartitionError):
                cluster.delete_topic(change.name)


# -- schemas --------------------------------------------------------------------------------------


class Schemas:
    """Key and value schemas from files: a new version when the latest differs."""

    kind = "schema"

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        changes: list[Change] = []
        for topic, desired in sorted(governance.streams.items()):
            if desired.delete:
                continue
            subjects = Stream(
                topic, key_subject=desired.key_subject, value_subject=desired.value_subject
            ).subjects()
            for subject, schema_file in zip(
                subjects, (desired.key_schema, desired.value_schema), strict=True
            ):
                if schema_file is None:
                    continue
                text = schema_file.read()
                body = {"schema": text, "schemaType": schema_file.schema_type}
                try:
                    context.registry.lookup(subject, body)
                    continue  # this exact schema is already a version of the subject
                except RegistryError as exc:
                    if exc.error_code not in {40401, 40403}:
                        raise
                latest = _latest_version(context.registry, subject)
                action = CREATE if latest is None else UPDATE
                changes.append(
                    Change(
                        self.kind,
                        subject,
                        action,
                        {"version": [latest, "new"], "file": [None, str(schema_file.path.name)]},
                        {"body": body},
                        str(schema_file.origin),
                    )
                )
        return changes

    def apply(self, change: Change, context: Context) -> None:
        context.registry.register(change.name, change.payload["body"])


def _latest_version(registry: SchemaRegistry, subject: str) -> int | None:
    try:
        return int(registry.get_version(subject, "latest")["version"])
    except RegistryError:
        return None


# -- catalog entries ------------------------------------------------------------------------------


def _desired_fields(desired: DesiredStream) -> dict[str, Any]:
    fields = {
        "owner": desired.owner,
        "namespace": desired.namespace,
        "description": desired.description,
        "key_subject": desired.key_subject,
        "value_subject": desired.value_subject,
    }
    return {key: value for key, value in fields.items() if value is not None}


class Streams:
    """Catalog entries of streams: metadata, tags, deprecation."""

    kind = "stream"

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        state = context.catalog.state()
        changes: list[Change] = []
        for topic, desired in sorted(governance.streams.items()):
            origin = str(desired.origin)
            current = state.streams.get(topic)
            if desired.delete:
                if current is not None and current.lifecycle is not Lifecycle.RETIRED:
                    changes.append(Change(self.kind, topic, DELETE, origin=origin))
                continue
            base = current or Stream(topic)
            diff: dict[str, list[Any]] = {}
            fields = {}
            for key, value in _desired_fields(desired).items():
                if getattr(base, key) != value:
                    diff[key] = [getattr(base, key), value]
                    fields[key] = value
            add: list[str] = []
            remove: list[str] = []
            if desired.tags is not None:
                wanted = {Tag.parse(text) for text in desired.tags}
                have = set(base.tags)
                add = sorted(str(tag) for tag in wanted - have)
                remove = sorted({tag.name for tag in have - wanted} - {tag.name for tag in wanted})
                if add or remove:
                    diff["tags"] = [[str(t) for t in base.tags], sorted(str(t) for t in wanted)]
            deprecation = _deprecation_change(base, desired)
            if deprecation is not None:
                diff["deprecated"] = deprecation
            if diff:  # a stream declared without catalog metadata needs no entry
                changes.append(
                    Change(
                        self.kind,
                        topic,
                        CREATE if current is None else UPDATE,
                        diff,
                        {
                            "fields": fields,
                            "add": add,
                            "remove": remove,
                            "deprecated": desired.deprecated,
                        },
                        origin,
                    )
                )
        return changes

    def apply(self, change: Change, context: Context) -> None:
        catalog = context.catalog
        if change.action == DELETE:
            catalog.write(commands.delete_stream(change.name))
            return
        payload = change.payload
        catalog.write(
            commands.upsert_stream(
                change.name,
                fields=payload["fields"],
                add_tags=payload["add"],
                remove_tags=payload["remove"],
            )
        )
        if "deprecated" not in change.diff:
            return
        deprecated = payload["deprecated"]
        if deprecated is None:
            catalog.undeprecate(change.name)
        else:
            catalog.deprecate(
                change.name,
                replacement=deprecated.get("replacement"),
                sunset=deprecated.get("sunset"),
                reason=deprecated.get("reason"),
                since=deprecated.get("since"),
            )


def _deprecation_change(current: Stream, desired: DesiredStream) -> list[Any] | None:
    now = current.deprecation.to_dict() if current.deprecation else None
    wanted = desired.deprecated
    if wanted is None:
        return [now, None] if now is not None else None
    if now is None:
        return [None, {k: v for k, v in wanted.items() if v is not None}]
    compared = ("replacement", "sunset", "reason") + (("since",) if wanted.get("since") else ())
    if any(now.get(key) != wanted.get(key) for key in compared):
        return [now, {k: v for k, v in wanted.items() if v is not None}]
    return None


class Services:
    """Catalog entries of services."""

    kind = "service"

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        state = context.catalog.state()
        changes: list[Change] = []
        for name, desired in sorted(governance.services.items()):
            origin = str(desired.origin)
            current = state.services.get(name)
            if desired.delete:
                if current is not None:
                    changes.append(Change(self.kind, name, DELETE, origin=origin))
                continue
            now = current.to_dict() if current else {}
            diff = {}
            for key, value in desired.fields.items():
                have = now.get(key)
                if key == "groups" and current is not None:
                    have = list(current.groups)
                if have != value and not (have in (None, []) and value in (None, [])):
                    diff[key] = [have, value]
            if current is None or diff:
                action = CREATE if current is None else UPDATE
                changes.append(
                    Change(self.kind, name, action, diff, {"fields": desired.fields}, origin)
                )
        return changes

    def apply(self, change: Change, context: Context) -> None:
        if change.action == DELETE:
            context.catalog.write(commands.delete_service(change.name))
        else:
            context.catalog.write(commands.upsert_service(change.name, change.payload["fields"]))


class CatalogSettings:
    """The `catalog:` section: webhook and consumer horizon."""

    kind = "catalog-settings"

    def plan(self, governance: Governance, context: Context) -> list[Change]:
        current = context.catalog.state().settings
        diff = {
            key: [current.get(key), value]
            for key, value in sorted(governance.settings.items())
            if current.get(key) != value
        }
        if not diff:
            return []
        return [Change(self.kind, "catalog", UPDATE, diff, {"values": dict(governance.settings)})]

    def apply(self, change: Change, context: Context) -> None:
        context.catalog.write(commands.set_settings(change.payload["values"]))


#: The providers in apply order; access control adds its own (see `streamgov.cli.governance`).
PROVIDERS: tuple[Provider, ...] = (Topics(), Schemas(), Streams(), Services(), CatalogSettings())


def build_plan(
    governance: Governance, context: Context, providers: Sequence[Provider] = PROVIDERS
) -> Plan:
    """Every provider's changes; creations and updates in provider order, deletions last (in
    reverse provider order, so catalog entries go before the topics they describe)."""
    ordered: list[Change] = []
    deletions: list[Change] = []
    for provider in providers:
        for change in provider.plan(governance, context):
            (deletions if change.action == DELETE else ordered).append(change)
    return Plan(ordered + list(reversed(deletions)))


def apply_plan(
    plan: Plan,
    context: Context,
    providers: Sequence[Provider] = PROVIDERS,
    progress: Callable[[Change], None] | None = None,
) -> int:
    """Apply every change with the provider of its kind, in plan order; returns how many."""
    by_kind = {provider.kind: provider for provider in providers}
    for change in plan.changes:
        if change.kind not in by_kind:
            raise LookupError(f"no provider applies {change.kind} changes")
    for change in plan.changes:
        by_kind[change.kind].apply(change, context)
        if progress is not None:
            progress(change)
    return len(plan.changes)
