"""`streamgov users ...`: users with salted SCRAM credentials and REST API tokens."""

from __future__ import annotations

import sys

import click

from streamgov.cli.acl import access_cluster_options, acl_errors, open_access
from streamgov.cli.output import echo_json, echo_table, format_option


@click.group("users")
def users() -> None:
    """Users who may authenticate (SASL, HTTP Basic) and their API tokens."""


@users.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, required=True, help="Read the password from stdin.")
@access_cluster_options
@acl_errors
def add(name: str, password_stdin: bool, cluster_name: str | None, bootstrap: str | None) -> None:
    """Create a user (or change their password); only salted SCRAM credentials are stored."""
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password on stdin")
    with open_access(cluster_name, bootstrap, audit=True) as access:
        access.add_user(name, password)
    click.echo(f"User {name} saved (SCRAM-SHA-256, SCRAM-SHA-512).")


@users.command("list")
@format_option
@access_cluster_options
@acl_errors
def list_users(output_format: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Users, their mechanisms and how many API tokens they hold."""
    with open_access(cluster_name, bootstrap) as access:
        found = access.users()
    if output_format == "json":
        echo_json(
            [{"name": u.name, "mechanisms": list(u.mechanisms), "tokens": u.tokens} for u in found]
        )
        return
    echo_table(
        ["USER", "MECHANISMS", "TOKENS"],
        [[u.name, ",".join(u.mechanisms), u.tokens] for u in found],
    )


@users.command("delete")
@click.argument("name")
@access_cluster_options
@acl_errors
def delete(name: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Delete a user and revoke their tokens (their ACLs stay)."""
    with open_access(cluster_name, bootstrap, audit=True) as access:
        access.delete_user(name)
    click.echo(f"User {name} deleted.")


@users.command("token")
@click.argument("name")
@access_cluster_options
@acl_errors
def token(name: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Issue a REST API token for the user (printed once; only its digest is stored)."""
    with open_access(cluster_name, bootstrap, audit=True) as access:
        text = access.issue_token(name)
    click.echo(text)
