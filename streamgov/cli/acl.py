"""`streamgov acl ...`: ACLs with kafka-acls' flags, on the cluster directly (every instance
reads the same `_acls` log; the local command acts as the operator)."""

from __future__ import annotations

import contextlib
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import click

from acl.audit import AuditLog
from acl.authorizer import AuthorizerSettings
from acl.derived import owners_from
from acl.model import (
    WILDCARD,
    Acl,
    AclError,
    AclFilter,
    Operation,
    PatternType,
    Permission,
    ResourceType,
    check_principal,
    operation_label,
    parse_operation,
)
from acl.quotas import QuotaError
from acl.service import AccessControl
from catalog.service import Catalog, CatalogSettings
from engine.auth import CLUSTER_RESOURCE
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import echo_json, echo_table, format_option

F = TypeVar("F", bound=Callable[..., Any])


def acl_errors(func: F) -> F:
    """ACL, credential and quota errors become one line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (AclError, QuotaError) as exc:
            raise click.ClickException(str(exc)) from exc

    return user_errors(wrapper)  # type: ignore[return-value]


@contextlib.contextmanager
def open_access(
    cluster_name: str | None, bootstrap: str | None, *, audit: bool = False
) -> Iterator[AccessControl]:
    """Access control over the chosen cluster, with the catalog's owners for the
    single-writer rule; with `audit`, changes are recorded in `_audit` as the local
    operator's."""
    cluster = open_cluster(cluster_name, bootstrap)
    access = None
    catalog = None
    log = None
    try:
        catalog = Catalog(cluster, CatalogSettings(readonly=True)).start()
        reader = catalog
        access = AccessControl(
            cluster, owners=lambda: owners_from(reader.services(), reader.streams())
        ).start()
        if audit:
            log = AuditLog(cluster).start()
            access.audit, access.audit_changes = log, True
        yield access
    finally:
        if access is not None:
            access.close()
        if log is not None:
            log.close()
        if catalog is not None:
            catalog.close()
        cluster.close()


def access_cluster_options(func: F) -> F:
    """The common cluster options, with the embedded cluster's name as `--cluster-name`:
    kafka-acls' `--cluster` names the cluster resource here."""
    func = cluster_options(func)
    for param in getattr(func, "__click_params__", []):
        if param.name == "cluster_name":
            param.opts = ["--cluster-name"]
    return func


def resource_options(func: F) -> F:
    """`--topic`, `--group`, `--subject`, `--transactional-id` (repeatable) and `--cluster`."""
    for name, flag in reversed(RESOURCE_FLAGS):
        func = click.option(
            flag, name, multiple=True, metavar="NAME", help=f"A {name.replace('_', ' ')}."
        )(func)
    return click.option("--cluster-resource", "--cluster", "cluster_resource", is_flag=True,
                        help=f"The cluster ({CLUSTER_RESOURCE}).")(func)  # fmt: skip


RESOURCE_FLAGS: tuple[tuple[str, str], ...] = (
    ("topic", "--topic"),
    ("group", "--group"),
    ("subject", "--subject"),
    ("transactional_id", "--transactional-id"),
)


def resources(options: dict[str, Any]) -> list[tuple[ResourceType, str]]:
    """The resources the resource options name."""
    found = [
        (ResourceType(name.upper()), value)
        for name, _flag in RESOURCE_FLAGS
        for value in options.pop(name)
    ]
    if options.pop("cluster_resource"):
        found.append((ResourceType.CLUSTER, CLUSTER_RESOURCE))
    return found


def _operations(names: Sequence[str]) -> list[Operation]:
    try:
        return [parse_operation(name) for name in names] or [Operation.ALL]
    except AclError as exc:
        raise click.UsageError(str(exc)) from None


def _principal(text: str) -> str:
    try:
        return check_principal(text)
    except AclError as exc:
        raise click.UsageError(str(exc)) from None


def binding_options(func: F) -> F:
    """The flags `add` and `remove` share (kafka-acls')."""
    options = [
        click.option("--allow-principal", multiple=True, metavar="P", help="Type:name (User:*)."),
        click.option("--deny-principal", multiple=True, metavar="P", help="Type:name."),
        click.option("--allow-host", multiple=True, metavar="H", help="Default * (any)."),
        click.option("--deny-host", multiple=True, metavar="H", help="Default * (any)."),
        click.option(
            "--operation", multiple=True, metavar="OP", help="Read, Write, ... (default All)."
        ),
        click.option("--producer", is_flag=True, help="Write, Describe, Create on the topics."),
        click.option(
            "--consumer", is_flag=True, help="Read, Describe on the topics; Read on the group."
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return resource_options(func)


def _convenience(
    producer: bool, consumer: bool, found: list[tuple[ResourceType, str]]
) -> list[tuple[ResourceType, Operation]]:
    """kafka-acls' --producer and --consumer as (resource type, operation) pairs."""
    pairs: list[tuple[ResourceType, Operation]] = []
    kinds = {kind for kind, _ in found}
    if producer:
        if ResourceType.TOPIC not in kinds:
            raise click.UsageError("--producer needs --topic")
        pairs += [(ResourceType.TOPIC, op) for op in (Operation.WRITE, Operation.DESCRIBE)]
        pairs += [(ResourceType.TOPIC, Operation.CREATE)]
        pairs += [(ResourceType.TRANSACTIONAL_ID, Operation.WRITE)]
        pairs += [(ResourceType.TRANSACTIONAL_ID, Operation.DESCRIBE)]
    if consumer:
        if ResourceType.TOPIC not in kinds or ResourceType.GROUP not in kinds:
            raise click.UsageError("--consumer needs --topic and --group")
        pairs += [(ResourceType.TOPIC, op) for op in (Operation.READ, Operation.DESCRIBE)]
        pairs += [(ResourceType.GROUP, Operation.READ)]
    return pairs


def build_acls(options: dict[str, Any], pattern: PatternType) -> list[Acl]:
    """The bindings `acl add` means: one per principal x host x operation x resource."""
    found = resources(options)
    if not found:
        raise click.UsageError("name a resource: --topic, --group, --subject or --cluster")
    allow = [_principal(p) for p in options["allow_principal"]]
    deny = [_principal(p) for p in options["deny_principal"]]
    if not allow and not deny:
        raise click.UsageError("give --allow-principal or --deny-principal")
    convenience = options["producer"] or options["consumer"]
    if convenience and (options["operation"] or deny):
        raise click.UsageError("--producer/--consumer take no --operation and no deny flags")
    allow_hosts = list(options["allow_host"]) or [WILDCARD]
    deny_hosts = list(options["deny_host"]) or [WILDCARD]
    entries = [(p, h, Permission.ALLOW) for p in allow for h in allow_hosts]
    entries += [(p, h, Permission.DENY) for p in deny for h in deny_hosts]
    if convenience:
        pairs = _convenience(options["producer"], options["consumer"], found)
        targets = [(kind, name, op) for kind, op in pairs for k, name in found if k is kind]
    else:
        ops = _operations(options["operation"])
        targets = [(kind, name, op) for kind, name in found for op in ops]
    try:
        return [
            Acl(kind, name, pattern, principal, host, op, permission)
            for (principal, host, permission), (kind, name, op) in itertools.product(
                entries, targets
            )
        ]
    except AclError as exc:
        raise click.UsageError(str(exc)) from None


def echo_acls(acls: Sequence[Acl], output_format: str) -> None:
    """Bindings as a table or JSON."""
    if output_format == "json":
        echo_json([acl.to_dict() for acl in acls])
        return
    echo_table(
        ["PRINCIPAL", "PERMISSION", "OPERATION", "HOST", "RESOURCE", "NAME", "PATTERN"],
        [
            [
                a.principal,
                a.permission.value,
                operation_label(a.operation),
                a.host,
                a.resource_type.value,
                a.name,
                a.pattern_type.value,
            ]
            for a in acls
        ],
    )


_PATTERN_CREATE = click.Choice(["literal", "prefixed"], case_sensitive=False)
_PATTERN_FILTER = click.Choice(["literal", "prefixed", "any", "match"], case_sensitive=False)


@click.group("acl")
def acl_group() -> None:
    """ACLs with Apache Kafka's semantics, on topics, groups, subjects and the cluster."""


@acl_group.command("add")
@binding_options
@click.option("--resource-pattern-type", type=_PATTERN_CREATE, default="literal")
@click.option(
    "--force", is_flag=True, help="Grant WRITE on an owned stream to someone not its owner."
)
@format_option
@access_cluster_options
@acl_errors
def add(
    resource_pattern_type: str,
    force: bool,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
    **options: Any,
) -> None:
    """Add ACLs (one per principal, host, operation and resource)."""
    acls = build_acls(options, PatternType(resource_pattern_type.upper()))
    with open_access(cluster_name, bootstrap, audit=True) as access:
        added = access.add(acls, force=force)
    if output_format == "json":
        echo_json([a.to_dict() for a in added])
        return
    click.echo(f"Added {len(added)} ACL(s) ({len(acls) - len(added)} existed already).")
    for acl in added:
        click.echo(f"  {acl.describe()}")


def _filters(options: dict[str, Any], pattern: PatternType) -> list[AclFilter]:
    """The filters `acl remove` means: per resource, per principal and operation given."""
    found = resources(options)
    targets: list[tuple[ResourceType | None, str | None]] = list(found) or [(None, None)]
    principals: list[tuple[str | None, Permission | None]] = []
    principals += [(_principal(p), Permission.ALLOW) for p in options["allow_principal"]]
    principals += [(_principal(p), Permission.DENY) for p in options["deny_principal"]]
    ops: list[Operation | None] = (
        list(_operations(options["operation"])) if options["operation"] else [None]
    )
    hosts = list(options["allow_host"]) + list(options["deny_host"])
    host_choices: list[str | None] = list(hosts) if hosts else [None]
    return [
        AclFilter(kind, name, pattern, principal, host, op, permission)
        for kind, name in targets
        for principal, permission in (principals or [(None, None)])
        for op in ops
        for host in host_choices
    ]


@acl_group.command("remove")
@binding_options
@click.option("--resource-pattern-type", type=_PATTERN_FILTER, default="literal")
@format_option
@access_cluster_options
@acl_errors
def remove(
    resource_pattern_type: str,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
    **options: Any,
) -> None:
    """Remove the ACLs the flags select (without a principal: every ACL of the resource)."""
    if options["producer"] or options["consumer"]:
        acls = build_acls(options, PatternType(resource_pattern_type.upper()))
        filters = [
            AclFilter(
                a.resource_type,
                a.name,
                a.pattern_type,
                a.principal,
                a.host,
                a.operation,
                a.permission,
            )
            for a in acls
        ]
    else:
        filters = _filters(options, PatternType(resource_pattern_type.upper()))
        if filters == [AclFilter(pattern_type=filters[0].pattern_type)]:
            raise click.UsageError("name a resource or a principal to remove ACLs")
    with open_access(cluster_name, bootstrap, audit=True) as access:
        removed = access.remove(filters)
    if output_format == "json":
        echo_json([a.to_dict() for a in removed])
        return
    click.echo(f"Removed {len(removed)} ACL(s).")
    for acl in removed:
        click.echo(f"  {acl.describe()}")


@acl_group.command("list")
@resource_options
@click.option("--principal", default=None, metavar="P", help="Only this principal's ACLs.")
@click.option("--resource-pattern-type", type=_PATTERN_FILTER, default="any")
@format_option
@access_cluster_options
@acl_errors
def list_acls(
    principal: str | None,
    resource_pattern_type: str,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
    **options: Any,
) -> None:
    """List ACLs, optionally of some resources or of one principal."""
    found = resources(options)
    pattern = PatternType(resource_pattern_type.upper())
    principal = None if principal is None else _principal(principal)
    filters = [AclFilter(kind, name, pattern, principal) for kind, name in found] or [
        AclFilter(None, None, pattern, principal)
    ]
    with open_access(cluster_name, bootstrap) as access:
        acls = [a for a in access.acls() if any(f.matches(a) for f in filters)]
    echo_acls(acls, output_format)


@acl_group.command("check")
@click.option("--principal", required=True, metavar="P", help="Type:name (User:alice).")
@click.option("--operation", required=True, metavar="OP", help="Read, Write, AlterConfigs, ...")
@resource_options
@click.option("--host", default=None, metavar="H", help="The client's address.")
@click.option(
    "--super-user", multiple=True, metavar="P", help="Decide with these super users instead."
)
@click.option(
    "--allow-everyone-if-no-acl",
    is_flag=True,
    default=None,
    help="Decide with allow.everyone.if.no.acl.found on instead of the server's setting.",
)
@access_cluster_options
@acl_errors
def check(
    principal: str,
    operation: str,
    host: str | None,
    super_user: tuple[str, ...],
    allow_everyone_if_no_acl: bool | None,
    cluster_name: str | None,
    bootstrap: str | None,
    **options: Any,
) -> None:
    """Whether a principal may: prints ALLOWED or DENIED and what decided; exit 0 when
    allowed, 1 when denied, 2 on usage errors."""
    found = resources(options)
    if len(found) != 1:
        raise click.UsageError(
            "name exactly one resource: --topic, --group, --subject or --cluster"
        )
    (kind, name), op = found[0], _operations([operation])[0]
    who = _principal(principal)
    supers = [_principal(p) for p in super_user]
    with open_access(cluster_name, bootstrap) as access:
        current = access.settings()
        settings = None
        if supers or allow_everyone_if_no_acl is not None:
            settings = AuthorizerSettings(
                frozenset(supers) if supers else current.super_users,
                bool(allow_everyone_if_no_acl)
                if allow_everyone_if_no_acl is not None
                else current.allow_everyone_if_no_acl_found,
            )
        decision = access.decide(who, op, kind, name, host, settings=settings)
    verdict = "ALLOWED" if decision.allowed else "DENIED"
    why = decision.acl.describe() if decision.acl is not None else decision.reason
    click.echo(f"{verdict}: {who} {operation_label(op)} {kind}:{name} ({why})")
    if not decision.allowed:
        raise SystemExit(1)


@acl_group.command("sync")
@click.option(
    "--bootstrap",
    "-b",
    "target",
    required=True,
    metavar="HOST:PORT",
    help="The external Kafka cluster whose ACLs are made to match.",
)
@click.option(
    "--property",
    "-X",
    "properties",
    multiple=True,
    metavar="KEY=VALUE",
    help="A client property for the external cluster (repeatable; KEY=@FILE reads a file).",
)
@click.option(
    "--cluster-name",
    default=None,
    metavar="NAME",
    help="The embedded cluster whose ACLs are the source (env STREAMGOV_CLUSTER).",
)
@click.option("--dry-run", is_flag=True, help="Show the difference, change nothing.")
@click.option(
    "--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1), help="Seconds."
)
@acl_errors
def sync(
    target: str,
    properties: tuple[str, ...],
    cluster_name: str | None,
    dry_run: bool,
    timeout: float,
) -> None:
    """Make an external Kafka cluster's ACLs match these (SUBJECT ACLs stay here): a diff,
    then CreateAcls and DeleteAcls through its admin API."""
    from confluent_kafka import KafkaException

    from acl.sync import ExternalAcls, diff
    from streamgov.kafka_properties import KafkaProperties, from_options

    config = KafkaProperties.merge(from_options(properties)).config()
    config["bootstrap.servers"] = target
    with open_access(cluster_name, None) as access:
        ours = access.acls()
    external = ExternalAcls(config, timeout)
    try:
        plan = diff(ours, external.list())
        for acl in plan.create:
            click.echo(f"+ {acl.describe()}")
        for acl in plan.delete:
            click.echo(f"- {acl.describe()}")
        if not dry_run:
            external.apply(plan)
    except KafkaException as exc:
        raise click.ClickException(f"{target}: {exc.args[0].str()}") from exc
    verb = "would create" if dry_run else "created"
    click.echo(f"{target}: {verb} {len(plan.create)}, deleted {len(plan.delete)} ACL(s).")
