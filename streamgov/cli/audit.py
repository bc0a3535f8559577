"""`streamgov audit`: the audit events of the `_audit` topic (CloudEvents JSON): denied
requests and allowed changes."""

from __future__ import annotations

from typing import Any

import click

from acl.audit import AUTHORIZATION, AuditLog
from acl.audit_query import AuditQuery
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import echo_json, echo_table, format_option


def _row(event: dict[str, Any]) -> list[Any]:
    data = event.get("data", {})
    info = data.get("authorizationInfo", {})
    if event.get("type") == AUTHORIZATION:
        what = f"DENIED {info.get('operation')}" if not info.get("granted") else "ALLOWED"
    else:
        what = "CHANGED"
    return [
        event.get("time"),
        data.get("authenticationInfo", {}).get("principal"),
        what,
        event.get("subject"),
        data.get("methodName"),
    ]


@click.command("audit")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1), help="Newest N.")
@click.option("--denied", is_flag=True, help="Only denied requests.")
@click.option("--principal", default=None, metavar="P", help="Only this principal's events.")
@click.option(
    "--action",
    default=None,
    metavar="TEXT",
    help="Only methods containing TEXT, or that operation.",
)
@click.option("--since", default=None, metavar="TIME", help="Only from TIME on (ISO 8601).")
@click.option("--until", default=None, metavar="TIME", help="Only up to TIME (ISO 8601).")
@format_option
@cluster_options
@user_errors
def audit(
    limit: int,
    denied: bool,
    principal: str | None,
    action: str | None,
    since: str | None,
    until: str | None,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Denied requests and allowed changes, oldest first (the newest --limit that match)."""
    query = AuditQuery.from_params(
        {
            "principal": principal,
            "action": action,
            "result": "denied" if denied else None,
            "since": since,
            "until": until,
        }
    )
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        events, _ = AuditLog(cluster).page(query.matches, limit)
    finally:
        cluster.close()
    events.reverse()
    if output_format == "json":
        echo_json(events)
        return
    echo_table(["TIME", "PRINCIPAL", "WHAT", "RESOURCE", "METHOD"], [_row(e) for e in events])
