"""`streamgov audit`: the audit events of the `_audit` topic (CloudEvents JSON): denied
requests and allowed changes."""

from __future__ import annotations

from typing import Any

import click

from acl.audit import AUTHORIZATION, AuditLog
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
@format_option
@cluster_options
@user_errors
def audit(
    limit: int,
    denied: bool,
    principal: str | None,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Denied requests and allowed changes, oldest first (the newest --limit)."""
    cluster = open_cluster(cluster_name, bootstrap)
    try:
        events = list(AuditLog(cluster).read(limit))
    finally:
        cluster.close()
    if denied:
        events = [e for e in events if e.get("type") == AUTHORIZATION]
    if principal is not None:
        events = [
            e
            for e in events
            if e.get("data", {}).get("authenticationInfo", {}).get("principal") == principal
        ]
    if output_format == "json":
        echo_json(events)
        return
    echo_table(["TIME", "PRINCIPAL", "WHAT", "RESOURCE", "METHOD"], [_row(e) for e in events])
