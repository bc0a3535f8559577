"""`streamgov registry ...`: the schema registry from the command line (a thin HTTP client)."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from registry.check.discovery import type_from_name
from registry.client import RegistryClient, RegistryClientError
from registry.formats.base import SchemaReference, SchemaType
from streamgov.cli.output import choice_format_option
from streamgov.cli.serveroptions import registry_client, url_option

F = TypeVar("F", bound=Callable[..., Any])
TYPES = click.Choice([t.value for t in SchemaType], case_sensitive=False)


def _client_errors(func: F) -> F:
    """Registry errors become one line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegistryClientError as exc:
            raise click.ClickException(exc.message) from exc

    return wrapper  # type: ignore[return-value]


def _client(ctx: click.Context) -> RegistryClient:
    client: RegistryClient = ctx.obj
    return client


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


def _read_schema(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise click.ClickException(f"cannot read schema file {path}: {exc.strerror}") from exc


def _parse_ref(text: str) -> SchemaReference:
    """`name=subject:version`."""
    name, _, rest = text.partition("=")
    subject, _, version = rest.rpartition(":")
    if not name or not subject or not version.isdigit():
        raise click.BadParameter(f"{text!r}: expected NAME=SUBJECT:VERSION")
    return SchemaReference(name, subject, int(version))


def _schema_options(func: F) -> F:
    func = click.option(
        "--ref",
        "refs",
        multiple=True,
        metavar="NAME=SUBJECT:VERSION",
        help="A reference to a registered schema (repeatable).",
    )(func)
    func = click.option(
        "--type",
        "schema_type",
        type=TYPES,
        default=None,
        help="The schema's format (default: from the file name as check reads it: .avsc Avro, "
        ".json JSON Schema, .proto Protobuf; otherwise AVRO).",
    )(func)
    return func


def _schema_type(given: str | None, path: str) -> str:
    """`--type`, else what the file name says, else Confluent's default AVRO."""
    if given is not None:
        return given.upper()
    found = type_from_name(path) if path != "-" else None
    return found.value if found is not None else SchemaType.AVRO.value


@click.group("registry")
@url_option("--url", "The schema registry: a streamgov server or any Confluent-compatible one")
@click.pass_context
def registry(ctx: click.Context, url: str | None) -> None:
    """Subjects, versions, compatibility, config and mode of a schema registry."""
    ctx.obj = ctx.with_resource(registry_client(url))


@registry.command("subjects")
@click.option("--prefix", default=None, help="Only subjects starting with this.")
@click.option("--deleted", is_flag=True, help="Include soft-deleted subjects.")
@click.pass_context
@_client_errors
def subjects(ctx: click.Context, prefix: str | None, deleted: bool) -> None:
    """List subjects."""
    for name in _client(ctx).subjects(prefix, deleted):
        click.echo(name)


@registry.command("versions")
@click.argument("subject")
@click.option("--deleted", is_flag=True, help="Include soft-deleted versions.")
@click.pass_context
@_client_errors
def versions(ctx: click.Context, subject: str, deleted: bool) -> None:
    """List the versions of a subject."""
    for number in _client(ctx).versions(subject, deleted):
        click.echo(number)


@registry.command("get")
@click.argument("subject", required=False)
@click.argument("version", required=False, default="latest")
@click.option("--id", "schema_id", type=int, default=None, help="Fetch by schema id instead.")
@click.option("--schema-only", is_flag=True, help="Print only the schema text.")
@click.pass_context
@_client_errors
def get(
    ctx: click.Context, subject: str | None, version: str, schema_id: int | None, schema_only: bool
) -> None:
    """Show a version of a subject (default: latest), or a schema by --id."""
    client = _client(ctx)
    if schema_id is not None:
        answer = client.request("GET", f"/schemas/ids/{schema_id}")
    elif subject:
        answer = client.request("GET", f"/subjects/{_quote(subject)}/versions/{_quote(version)}")
    else:
        raise click.UsageError("give a SUBJECT (and optionally a VERSION), or --id")
    if schema_only:
        click.echo(answer["schema"])
    else:
        _echo_json(answer)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


@registry.command("register")
@click.argument("subject")
@click.argument("schema_file", metavar="FILE")
@_schema_options
@click.option("--normalize", is_flag=True, help="Register the normalized form.")
@click.pass_context
@_client_errors
def register(
    ctx: click.Context,
    subject: str,
    schema_file: str,
    schema_type: str | None,
    refs: tuple[str, ...],
    normalize: bool,
) -> None:
    """Register the schema in FILE ('-' for stdin) under SUBJECT; prints its id."""
    schema_id = _client(ctx).register(
        subject,
        _read_schema(schema_file),
        _schema_type(schema_type, schema_file),
        [_parse_ref(r) for r in refs],
        normalize,
    )
    click.echo(schema_id)


@registry.command("compat")
@click.argument("subject")
@click.argument("schema_file", metavar="FILE")
@_schema_options
@click.option(
    "--version",
    default=None,
    help="Check against this version only (default: the versions the level names).",
)
@click.pass_context
@_client_errors
def compat(
    ctx: click.Context,
    subject: str,
    schema_file: str,
    schema_type: str | None,
    refs: tuple[str, ...],
    version: str | None,
) -> None:
    """Test whether FILE may be registered under SUBJECT; exit 1 when it may not."""
    answer = _client(ctx).test_compatibility(
        subject,
        _read_schema(schema_file),
        _schema_type(schema_type, schema_file),
        [_parse_ref(r) for r in refs],
        version=version,
    )
    if answer.get("is_compatible"):
        click.echo("compatible")
        return
    click.echo("incompatible")
    for message in answer.get("messages") or ():
        click.echo(f"  {message}")
    ctx.exit(1)


@registry.command("config")
@click.argument("subject", required=False)
@click.option("--set", "level", default=None, metavar="LEVEL", help="Set the level.")
@click.option("--normalize/--no-normalize", default=None, help="Set normalization.")
@click.option("--delete", is_flag=True, help="Drop the subject's (or reset the global) setting.")
@choice_format_option(
    ["text", "json"], "A sentence for people, or JSON (each setting with where it comes from)."
)
@click.pass_context
@_client_errors
def config(
    ctx: click.Context,
    subject: str | None,
    level: str | None,
    normalize: bool | None,
    delete: bool,
    output_format: str,
) -> None:
    """Show or change the compatibility level, globally or of SUBJECT, saying whether each
    setting is the subject's own or inherited from the global level."""
    client = _client(ctx)
    if delete:
        client.delete_config(subject)
        if output_format == "text":
            click.echo(
                f"Dropped {subject}'s own settings." if subject else "Reset the global settings."
            )
    elif level is not None or normalize is not None:
        client.set_config(subject, level.upper() if level else None, normalize)
        if output_format == "text":
            click.echo(f"Set {'subject ' + subject if subject else 'the global level'}.")
    effective = effective_config(client, subject)
    if output_format == "json":
        _echo_json(effective)
    else:
        click.echo(config_sentence(effective))


#: The settings `registry config` reports, as the registry names them.
CONFIG_SETTINGS = ("compatibilityLevel", "normalize")


def effective_config(client: RegistryClient, subject: str | None) -> dict[str, Any]:
    """Each setting's value and where it comes from: `subject` (its own), `global`, or
    `default` (set nowhere: the registry's default)."""
    global_level = client.get_config(None)
    own: dict[str, Any] = {}
    if subject is not None:
        try:
            own = client.get_config(subject)
        except RegistryClientError as exc:
            if exc.status != 404:
                raise
    out: dict[str, Any] = {"subject": subject}
    for name in CONFIG_SETTINGS:
        if name in own:
            out[name], source = own[name], "subject"
        elif name in global_level:
            out[name], source = global_level[name], "global"
        else:
            out[name], source = None, "default"
        out[f"{name}Source"] = source
    return out


def config_sentence(effective: dict[str, Any]) -> str:
    """`Subject orders-value: compatibility FULL (its own setting); normalization off
    (inherited from the global level).`"""
    subject = effective["subject"]
    where = {
        "subject": "its own setting" if subject else "set globally",
        "global": "inherited from the global level" if subject else "set globally",
        "default": "the registry's default",
    }
    level = effective["compatibilityLevel"] or "BACKWARD"
    normalize = "on" if effective["normalize"] else "off"
    return (
        f"{'Subject ' + subject if subject else 'Global level'}: compatibility {level} "
        f"({where[effective['compatibilityLevelSource']]}); normalization {normalize} "
        f"({where[effective['normalizeSource']]})."
    )


@registry.command("mode")
@click.argument("subject", required=False)
@click.option("--set", "mode", default=None, metavar="MODE", help="READWRITE, READONLY, IMPORT.")
@click.option("--force", is_flag=True, help="Allow IMPORT although schemas exist.")
@click.option("--delete", is_flag=True, help="Drop the subject's (or reset the global) mode.")
@click.pass_context
@_client_errors
def mode(
    ctx: click.Context, subject: str | None, mode: str | None, force: bool, delete: bool
) -> None:
    """Show or change the mode, globally or of SUBJECT."""
    client = _client(ctx)
    if delete:
        click.echo(client.delete_mode(subject))
    elif mode is not None:
        click.echo(client.set_mode(mode.upper(), subject, force))
    else:
        click.echo(client.get_mode(subject, default_to_global=True))


@registry.command("delete")
@click.argument("subject")
@click.option("--version", default=None, help="Delete only this version ('latest' allowed).")
@click.option("--permanent", is_flag=True, help="Hard delete (after a soft delete).")
@click.pass_context
@_client_errors
def delete(ctx: click.Context, subject: str, version: str | None, permanent: bool) -> None:
    """Soft-delete a subject or one version (--permanent to hard-delete afterwards)."""
    client = _client(ctx)
    if version is None:
        for number in client.delete_subject(subject, permanent):
            click.echo(number)
    else:
        click.echo(client.delete_version(subject, version, permanent))
