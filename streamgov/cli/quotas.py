"""`streamgov quotas ...`: Kafka client quotas as kafka-configs manages them, on the cluster
directly (every server reads the same `_quotas` log; the local command acts as the operator
and its changes are audited)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from acl.audit import AuditLog
from acl.quota_service import ClientQuotaService
from acl.quota_state import QuotaAlteration
from acl.quotas import (
    CLIENT_ID,
    CONSUMER_BYTE_RATE,
    DEFAULT_LABEL,
    PRODUCER_BYTE_RATE,
    QUOTA_KEYS,
    REQUEST_PERCENTAGE,
    USER,
    QuotaEntity,
    QuotaError,
    parse_value,
    user_of,
)
from streamgov.cli.acl import acl_errors
from streamgov.cli.common import cluster_options, open_cluster
from streamgov.cli.output import echo_json, echo_table, format_option

F = TypeVar("F", bound=Callable[..., Any])

#: the value flags of `quotas set`, one per quota key
_VALUE_FLAGS = {
    PRODUCER_BYTE_RATE: "--producer-byte-rate",
    CONSUMER_BYTE_RATE: "--consumer-byte-rate",
    REQUEST_PERCENTAGE: "--request-percentage",
}


@contextlib.contextmanager
def open_quotas(
    cluster_name: str | None, bootstrap: str | None, *, audit: bool = False
) -> Iterator[ClientQuotaService]:
    """Client quotas over the chosen cluster; with `audit`, changes go to `_audit` as the
    local operator's."""
    cluster = open_cluster(cluster_name, bootstrap)
    quotas = None
    log = None
    try:
        quotas = ClientQuotaService(cluster).start()
        if audit:
            log = AuditLog(cluster).start()
            quotas.audit = log
        yield quotas
    finally:
        if quotas is not None:
            quotas.close()
        if log is not None:
            log.close()
        cluster.close()


def entity_options(func: F) -> F:
    """`--user NAME | --default-user` and `--client-id NAME | --default-client-id`."""
    options = [
        click.option("--user", metavar="NAME", help="A user (User:NAME or NAME)."),
        click.option("--default-user", is_flag=True, help="The default for every user."),
        click.option("--client-id", metavar="ID", help="A client id."),
        click.option("--default-client-id", is_flag=True, help="The default for every client."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def entity_from(options: dict[str, Any]) -> QuotaEntity:
    """The entity the entity options name (a usage error when they name none or clash)."""
    parts: list[tuple[str, str | None]] = []
    for kind, name, default, flag in (
        (USER, options.pop("user"), options.pop("default_user"), "user"),
        (CLIENT_ID, options.pop("client_id"), options.pop("default_client_id"), "client-id"),
    ):
        if name is not None and default:
            raise click.UsageError(f"give --{flag} or --default-{flag}, not both")
        if name is not None:
            parts.append((kind, user_of(name) if kind == USER else name))
        elif default:
            parts.append((kind, None))
    if not parts:
        raise click.UsageError(
            "name an entity: --user/--default-user and/or --client-id/--default-client-id"
        )
    try:
        return QuotaEntity.from_parts(parts)
    except QuotaError as exc:
        raise click.UsageError(str(exc)) from None


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else str(value)


@click.group("quotas")
def quotas_group() -> None:
    """Kafka client quotas (byte rates and request percentage) per user and client id."""


@quotas_group.command("set")
@entity_options
@click.option("--producer-byte-rate", metavar="BYTES/S", help="Produce bytes per second.")
@click.option("--consumer-byte-rate", metavar="BYTES/S", help="Fetch bytes per second.")
@click.option("--request-percentage", metavar="PERCENT", help="Percent of a request thread.")
@cluster_options
@acl_errors
def set_command(cluster_name: str | None, bootstrap: str | None, **options: Any) -> None:
    """Set quota values on an entity (values not given are left as they are)."""
    entity = entity_from(options)
    values = {
        key: parse_value(key, options[key]) for key in QUOTA_KEYS if options.get(key) is not None
    }
    if not values:
        raise click.UsageError(f"give at least one of {', '.join(_VALUE_FLAGS.values())}")
    with open_quotas(cluster_name, bootstrap, audit=True) as quotas:
        changes = quotas.alter([QuotaAlteration(entity, values)])
    verb = "Set" if changes else "Unchanged:"
    shown = ", ".join(f"{k}={_number(v)}" for k, v in values.items())
    click.echo(f"{verb} {shown} for {entity.describe()}.")


@quotas_group.command("remove")
@entity_options
@click.option(
    "--delete-config",
    "keys",
    multiple=True,
    metavar="KEY",
    help="A key to remove (repeatable; default: every key of the entity).",
)
@cluster_options
@acl_errors
def remove(
    keys: tuple[str, ...], cluster_name: str | None, bootstrap: str | None, **options: Any
) -> None:
    """Remove quota values from an entity."""
    entity = entity_from(options)
    wanted = tuple(dict.fromkeys(k.strip() for key in keys for k in key.split(",") if k.strip()))
    for key in wanted:
        if key not in QUOTA_KEYS:
            raise click.UsageError(f"unknown quota key {key!r} (known: {', '.join(QUOTA_KEYS)})")
    with open_quotas(cluster_name, bootstrap, audit=True) as quotas:
        changes = quotas.alter([QuotaAlteration(entity, {}, wanted or tuple(QUOTA_KEYS))])
    if not changes:
        click.echo(f"No quota to remove for {entity.describe()}.")
        return
    gone = sorted(set(changes[0].before) - set(changes[0].after))
    click.echo(f"Removed {', '.join(gone)} for {entity.describe()}.")


@quotas_group.command("list")
@format_option
@cluster_options
@acl_errors
def list_command(output_format: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Every entity with quota values."""
    with open_quotas(cluster_name, bootstrap) as quotas:
        found = quotas.quotas()
    if output_format == "json":
        echo_json([{"entity": e.to_dict(), "values": v} for e, v in found.items()])
        return
    echo_table(
        ["USER", "CLIENT-ID", *(k.upper() for k in QUOTA_KEYS)],
        [
            [
                _part(e.has_user, e.user),
                _part(e.has_client, e.client_id),
                *(None if k not in v else _number(v[k]) for k in QUOTA_KEYS),
            ]
            for e, v in found.items()
        ],
    )


def _part(present: bool, name: str | None) -> str | None:
    if not present:
        return None
    return DEFAULT_LABEL if name is None else name


@quotas_group.command("describe")
@click.option("--user", required=True, metavar="NAME", help="The client's user (principal).")
@click.option("--client-id", required=True, metavar="ID", help="The client's client id.")
@format_option
@cluster_options
@acl_errors
def describe(
    user: str, client_id: str, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """The quotas in force for a client, and the entity each comes from."""
    with open_quotas(cluster_name, bootstrap) as quotas:
        found = quotas.effective(user_of(user), client_id)
    if output_format == "json":
        echo_json(
            {
                key: None
                if key not in found
                else {"value": found[key].value, "entity": found[key].entity.to_dict()}
                for key in QUOTA_KEYS
            }
        )
        return
    echo_table(
        ["KEY", "VALUE", "FROM"],
        [
            [key, _number(found[key].value), found[key].entity.describe()]
            if key in found
            else [key, "unlimited", None]
            for key in QUOTA_KEYS
        ],
    )
