"""`streamgov catalog ...`: the stream catalog from the command line, on the cluster directly
(every instance reads the same `_catalog` log, so no server is needed)."""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import click

from catalog import exports
from catalog.governance.files import parse_duration
from catalog.governance.plan import Context
from catalog.model import CatalogError
from catalog.schemas import RegistrySchemas
from catalog.search import SearchQueryError
from catalog.service import Catalog
from registry.check.yamlfile import ConfigFileError
from registry.errors import RegistryError
from registry.service import SchemaRegistry
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import echo_json, echo_table, format_option

F = TypeVar("F", bound=Callable[..., Any])


def catalog_errors(func: F) -> F:
    """Catalog, search, governance-file and registry errors become one line and exit 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (CatalogError, SearchQueryError, ConfigFileError) as exc:
            raise click.ClickException(str(exc)) from exc
        except RegistryError as exc:
            raise click.ClickException(exc.message) from exc

    return user_errors(wrapper)  # type: ignore[return-value]


@contextlib.contextmanager
def open_context(
    cluster_name: str | None, bootstrap: str | None, *, readonly: bool = True
) -> Iterator[Context]:
    """The cluster with the registry and the catalog over it (the registry read-only unless
    asked: only `apply` registers schemas)."""
    cluster = open_cluster(cluster_name, bootstrap)
    registry = catalog = None
    try:
        registry = SchemaRegistry(cluster, readonly=readonly).start()
        catalog = Catalog(cluster, schemas=RegistrySchemas(registry)).start()
        yield Context(cluster, registry, catalog)
    finally:
        if catalog is not None:
            catalog.close()
        if registry is not None:
            registry.close()
        cluster.close()


@contextlib.contextmanager
def open_catalog(cluster_name: str | None, bootstrap: str | None) -> Iterator[Catalog]:
    """The catalog over the chosen cluster, with the registry as its schema source."""
    with open_context(cluster_name, bootstrap) as context:
        yield context.catalog


@click.group("catalog")
def catalog_group() -> None:
    """Stream catalog: owners, tags, deprecation, consumers, search and exports."""


@catalog_group.command("list")
@click.option("--tag", default=None, help="Only streams with this tag name.")
@click.option("--owner", default=None, help="Only streams owned by this service.")
@click.option("--lifecycle", type=click.Choice(["active", "deprecated", "retired"]), default=None)
@format_option
@cluster_options
@catalog_errors
def list_streams(
    tag: str | None,
    owner: str | None,
    lifecycle: str | None,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Streams in the catalog with owner, tags and lifecycle."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        streams = [
            s
            for s in catalog.streams()
            if (tag is None or s.has_tag(tag.lower()))
            and (owner is None or s.owner == owner)
            and (lifecycle is None or s.lifecycle.value == lifecycle)
        ]
    if output_format == "json":
        echo_json([s.to_dict() for s in streams])
        return
    echo_table(
        ["TOPIC", "OWNER", "NAMESPACE", "TAGS", "LIFECYCLE"],
        [
            [
                s.topic,
                s.owner,
                s.namespace,
                ",".join(str(t) for t in s.tags) or None,
                s.lifecycle.value,
            ]
            for s in streams
        ],
    )


@catalog_group.command("describe")
@click.argument("topic")
@format_option
@cluster_options
@catalog_errors
def describe(
    topic: str, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Owner, tags, deprecation, consumers with lag, producers, fields and drift."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        detail = catalog.describe(topic).to_dict()
    if output_format == "json":
        echo_json(detail)
        return
    deprecated = detail["deprecated"]
    lines = [
        f"Stream:      {detail['topic']}"
        + ("" if detail["exists"] else "  (topic does not exist)"),
        f"Owner:       {detail['owner'] or '-'}",
        f"Namespace:   {detail['namespace'] or '-'}",
        f"Description: {detail['description'] or '-'}",
        f"Tags:        {', '.join(detail['tags']) or '-'}",
        f"Lifecycle:   {detail['lifecycle']}",
        f"Subjects:    {detail['key_subject']}, {detail['value_subject']}",
    ]
    if deprecated:
        lines.append(
            f"Deprecated:  since {deprecated['since']}, "
            f"replacement {deprecated['replacement'] or '-'}, "
            f"sunset {deprecated['sunset'] or '-'}"
            + (f" ({deprecated['reason']})" if deprecated["reason"] else "")
        )
    click.echo("\n".join(lines))
    if detail["consumer_details"]:
        click.echo("\nConsumers:")
        echo_table(
            ["GROUP", "SERVICE", "DECLARED", "LIVE", "LAG", "COUNTS"],
            [
                [
                    c["group"],
                    c["service"],
                    _yes(c["declared"]),
                    _yes(c["live"]),
                    c["lag"],
                    _yes(c["counts"]),
                ]
                for c in detail["consumer_details"]
            ],
        )
    if detail["producers"]:
        click.echo("\nProducers:")
        echo_table(
            ["PRINCIPAL", "CLIENT", "OWNER"],
            [
                [p["principal"], p["client_id"] or None, _yes(p["owner"])]
                for p in detail["producers"]
            ],
        )
    if detail["fields"]:
        click.echo("\nFields:")
        echo_table(
            ["PART", "FIELD", "TAGS"],
            [[f["part"], f["path"], ", ".join(f["tags"]) or None] for f in detail["fields"]],
        )
    if detail["drift"]:
        click.echo("\nDrift:")
        for item in detail["drift"]:
            click.echo(f"  {item['kind']}: {item['message']}")


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _field_tags(values: tuple[str, ...]) -> dict[str, list[str]]:
    """`PATH=TAG[,TAG...]` options; `PATH=` clears the field's tags."""
    out: dict[str, list[str]] = {}
    for value in values:
        path, sep, tags = value.partition("=")
        if not sep or not path:
            raise click.BadParameter(
                f"{value!r}: expected FIELD=TAG[,TAG...]", param_hint="--field"
            )
        out[path] = [tag for tag in tags.split(",") if tag]
    return out


@catalog_group.command("tag")
@click.argument("topic")
@click.option("--owner", metavar="SERVICE", default=None, help="The one service that writes it.")
@click.option("--namespace", default=None)
@click.option("--description", default=None)
@click.option(
    "--tag", "tags", multiple=True, metavar="NAME[=VALUE]", help="Add a tag (repeatable)."
)
@click.option("--untag", "untags", multiple=True, metavar="NAME", help="Remove a tag (repeatable).")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="PATH=TAG[,TAG]",
    help="Tag a schema field, e.g. customer.email=pii (repeatable; PATH= clears).",
)
@click.option("--key-subject", default=None, help="Subject of the keys (default TOPIC-key).")
@click.option("--value-subject", default=None, help="Subject of the values (default TOPIC-value).")
@format_option
@cluster_options
@catalog_errors
def tag(
    topic: str,
    owner: str | None,
    namespace: str | None,
    description: str | None,
    tags: tuple[str, ...],
    untags: tuple[str, ...],
    fields: tuple[str, ...],
    key_subject: str | None,
    value_subject: str | None,
    output_format: str,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Create or update a stream's entry: owner, namespace, description, tags."""
    field_tags = _field_tags(fields)
    with open_catalog(cluster_name, bootstrap) as catalog:
        stream = catalog.tag(
            topic,
            owner=owner,
            namespace=namespace,
            description=description,
            key_subject=key_subject,
            value_subject=value_subject,
            add_tags=tags,
            remove_tags=untags,
            field_tags=field_tags,
        )
    if output_format == "json":
        echo_json(stream.to_dict())
    else:
        click.echo(
            f"{stream.topic}: owner {stream.owner or '-'}, tags "
            f"{', '.join(str(t) for t in stream.tags) or '-'}"
        )


@catalog_group.command("deprecate")
@click.argument("topic")
@click.option("--replacement", metavar="NEW", default=None, help="The stream that replaces it.")
@click.option("--sunset", metavar="YYYY-MM-DD", default=None, help="When it will be deleted.")
@click.option("--reason", metavar="TEXT", default=None)
@cluster_options
@catalog_errors
def deprecate(
    topic: str,
    replacement: str | None,
    sunset: str | None,
    reason: str | None,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Deprecate a stream; its consumers are followed until none is left."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        stream = catalog.deprecate(topic, replacement=replacement, sunset=sunset, reason=reason)
        status = catalog.deprecation(topic)
    consumers = status.counting if status else []
    click.echo(
        f"{stream.topic} is deprecated"
        + (f" in favour of {replacement}" if replacement else "")
        + (
            f"; consumers still reading: {', '.join(consumers)}"
            if consumers
            else "; no consumer is left"
        )
    )


@catalog_group.command("undeprecate")
@click.argument("topic")
@cluster_options
@catalog_errors
def undeprecate(topic: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Make a deprecated stream active again."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        catalog.undeprecate(topic)
    click.echo(f"{topic} is active again")


@catalog_group.command("deprecations")
@format_option
@cluster_options
@catalog_errors
def deprecations(output_format: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Deprecated streams, their remaining consumers and whether each is safe to delete.
    Evaluates now: the owner of a stream that just became safe is told once."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        statuses: list[dict[str, Any]] = [status.to_dict() for status in catalog.deprecations()]
    if output_format == "json":
        echo_json(statuses)
        return
    echo_table(
        ["TOPIC", "REPLACEMENT", "SUNSET", "CONSUMERS", "SAFE TO DELETE"],
        [
            [
                s["topic"],
                s["deprecated"]["replacement"],
                s["deprecated"]["sunset"],
                ",".join(s["consumers"]) or None,
                _yes(s["safe_to_delete"]),
            ]
            for s in statuses
        ],
    )


@catalog_group.command("retire")
@click.argument("topic")
@click.option("--force", is_flag=True, help="Delete even with consumers left (names them).")
@cluster_options
@catalog_errors
def retire(topic: str, force: bool, cluster_name: str | None, bootstrap: str | None) -> None:
    """Delete a deprecated stream that is safe to delete, and mark it retired."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        outcome = catalog.retire(topic, force=force)
    broken = outcome["broken_consumers"]
    click.echo(
        f"{topic} is deleted and retired"
        + (f"; these consumers lose their stream: {', '.join(broken)}" if broken else "")
    )


@catalog_group.command("events")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@format_option
@cluster_options
@catalog_errors
def events(limit: int, output_format: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Catalog events, oldest first: no_consumers_left, single_writer_violation."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        found = catalog.events.read(limit)
    if output_format == "json":
        echo_json(found)
        return
    echo_table(
        ["TYPE", "TOPIC", "OWNER", "MESSAGE"],
        [[e.get("type"), e.get("topic"), e.get("owner"), e.get("message")] for e in found],
    )


@catalog_group.command("search")
@click.argument("text")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@format_option
@cluster_options
@catalog_errors
def search(
    text: str, limit: int, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Ranked search over stream names, descriptions, tags, owners and field names."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        hits = catalog.search(text, limit)
        streams = {s.topic: s for s in catalog.streams()}
    if output_format == "json":
        echo_json([hit.to_dict() for hit in hits])
        return
    echo_table(
        ["TOPIC", "OWNER", "TAGS"],
        [
            [
                h.topic,
                streams[h.topic].owner if h.topic in streams else None,
                ",".join(str(t) for t in streams[h.topic].tags) if h.topic in streams else None,
            ]
            for h in hits
        ],
    )


@catalog_group.command("fields")
@click.option("--tag", "tag_name", required=True, help="For example pii.")
@format_option
@cluster_options
@catalog_errors
def fields(
    tag_name: str, output_format: str, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Which streams carry a tag, on the stream or on a schema field."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        found = catalog.fields_with_tag(tag_name.lower())
    if output_format == "json":
        echo_json(found)
        return
    echo_table(
        ["TOPIC", "STREAM TAG", "FIELDS"],
        [
            [f["topic"], _yes(f["stream_tag"]), ", ".join(x["path"] for x in f["fields"]) or None]
            for f in found
        ],
    )


@catalog_group.command("services")
@format_option
@cluster_options
@catalog_errors
def services(output_format: str, cluster_name: str | None, bootstrap: str | None) -> None:
    """Services with team, inputs, outputs and consumer groups."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        found = [s.to_dict() for s in catalog.services()]
    if output_format == "json":
        echo_json(found)
        return
    echo_table(
        ["SERVICE", "TEAM", "INPUTS", "OUTPUTS", "GROUPS"],
        [
            [
                s["name"],
                s["team"],
                ",".join(s["inputs"]) or None,
                ",".join(s["outputs"]) or None,
                ",".join(s["groups"]),
            ]
            for s in found
        ],
    )


@catalog_group.command("service")
@click.argument("name")
@click.option("--team", default=None)
@click.option("--description", default=None)
@click.option("--contact", "contacts", multiple=True, help="Repeatable; replaces the list.")
@click.option(
    "--input", "inputs", multiple=True, metavar="TOPIC", help="Repeatable; replaces the list."
)
@click.option(
    "--output", "outputs", multiple=True, metavar="TOPIC", help="Repeatable; replaces the list."
)
@click.option("--group", "groups", multiple=True, help="Consumer groups (default: NAME).")
@click.option("--principal", "principals", multiple=True, help="Producer identities besides NAME.")
@click.option("--delete", is_flag=True, help="Forget the service.")
@cluster_options
@catalog_errors
def service(
    name: str,
    team: str | None,
    description: str | None,
    contacts: tuple[str, ...],
    inputs: tuple[str, ...],
    outputs: tuple[str, ...],
    groups: tuple[str, ...],
    principals: tuple[str, ...],
    delete: bool,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Create, update or delete a service."""
    given: dict[str, Any] = {"team": team, "description": description}
    lists = {
        "contacts": contacts,
        "inputs": inputs,
        "outputs": outputs,
        "groups": groups,
        "principals": principals,
    }
    fields = {k: v for k, v in given.items() if v is not None} | {
        k: list(v) for k, v in lists.items() if v
    }
    with open_catalog(cluster_name, bootstrap) as catalog:
        if delete:
            catalog.delete_service(name)
            click.echo(f"service {name} is deleted")
            return
        result = catalog.put_service(name, **fields)
    click.echo(
        f"service {result.name}: inputs {', '.join(result.inputs) or '-'}; "
        f"outputs {', '.join(result.outputs) or '-'}"
    )


@catalog_group.command("settings")
@click.option(
    "--webhook", "webhook", default=None, metavar="URL", help="POST events here ('' clears)."
)
@click.option(
    "--consumer-horizon",
    default=None,
    metavar="DURATION",
    help="e.g. 7d; idle consumers count this long.",
)
@cluster_options
@catalog_errors
def settings_command(
    webhook: str | None,
    consumer_horizon: str | None,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Show or change the catalog's settings (kept in the log, shared by every instance)."""
    values: dict[str, Any] = {}
    if webhook is not None:
        values["webhook_url"] = webhook or None
    if consumer_horizon is not None:
        values["consumer_horizon_seconds"] = parse_duration(consumer_horizon)
    with open_catalog(cluster_name, bootstrap) as catalog:
        current = catalog.set_settings(**values) if values else dict(catalog.state().settings)
    from catalog.model import redact_url

    if "webhook_url" in current:
        current["webhook_url"] = redact_url(str(current["webhook_url"]))
    click.echo(json.dumps(current, indent=2, sort_keys=True))


@catalog_group.group("export")
def export_group() -> None:
    """AsyncAPI, Backstage and topology exports."""


def _write(text: str, output: Path | None) -> None:
    if output is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@export_group.command("asyncapi")
@click.argument("service_name", metavar="SERVICE")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@cluster_options
@catalog_errors
def export_asyncapi(
    service_name: str, output: Path | None, cluster_name: str | None, bootstrap: str | None
) -> None:
    """An AsyncAPI 3.0 document (YAML) for one service."""
    import yaml

    with open_catalog(cluster_name, bootstrap) as catalog:
        document = exports.asyncapi(catalog.state(), service_name, catalog.schema_text)
    _write(yaml.safe_dump(document, sort_keys=False, allow_unicode=True), output)


@export_group.command("backstage")
@click.option("--system", default=None, help="Backstage system the entities belong to.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@cluster_options
@catalog_errors
def export_backstage(
    system: str | None, output: Path | None, cluster_name: str | None, bootstrap: str | None
) -> None:
    """Backstage catalog-info.yaml: a Component per service, an API per stream."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        text = exports.backstage(catalog.state(), system)
    _write(text, output)


@export_group.command("topology")
@click.option(
    "--format",
    "graph_format",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None)
@cluster_options
@catalog_errors
def export_topology(
    graph_format: str, output: Path | None, cluster_name: str | None, bootstrap: str | None
) -> None:
    """The service/stream topology as Mermaid or Graphviz DOT."""
    with open_catalog(cluster_name, bootstrap) as catalog:
        state = catalog.state()
        text = exports.dot(state) if graph_format == "dot" else exports.mermaid(state)
    _write(text, output)
