"""`streamgov generate TOPIC --subject S`: records valid for the subject's latest schema, made
by the `testdata` generator and written in the registry's wire format."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

import click

from engine.cluster import Cluster
from engine.errors import EngineError
from registry.client import RegistryClient, RegistryClientError
from registry.formats import ParsedSchema, ResolvedReference, SchemaError, parse_schema
from registry.serde import SerdeError
from registry.serde.base import referenced_schemas
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import Progress, interruptible
from streamgov.cli.recordformats import SCHEMA_FORMATS, Serializer, make_serializer
from streamgov.cli.serveroptions import registry_client
from testdata import GenerationError, generator_for
from testdata.pace import Pacer
from testdata.stream import records

#: Records between two flushes when no rate holds them back.
FLUSH_EVERY = 5_000


def latest_schema(client: RegistryClient, subject: str) -> ParsedSchema:
    """The subject's latest schema, parsed with its references (one-line error if none)."""
    try:
        registered = client.get_latest(subject)
        resolved = [
            ResolvedReference(name, "", 0, text)
            for name, text in referenced_schemas(client, registered.references)
        ]
        return parse_schema(registered.schema_type, registered.schema, resolved)
    except RegistryClientError as exc:
        raise click.ClickException(f"subject {subject}: {exc.message}") from None
    except (SerdeError, SchemaError) as exc:
        raise click.ClickException(f"subject {subject}: {exc}") from None


def catalog_field_tags(client: RegistryClient, topic: str) -> dict[str, Collection[str]]:
    """Tags of the topic's value fields from the catalog (schema tags merged with the ones the
    catalog declares); none when the server has no catalog entry for the topic."""
    try:
        described = client.request("GET", f"/catalog/streams/{topic}")
    except RegistryClientError as exc:
        if exc.status == 404:
            return {}
        raise click.ClickException(f"catalog: {exc.message}") from None
    fields = described.get("fields", []) if isinstance(described, dict) else []
    return {
        str(field["path"]): [str(tag) for tag in field.get("tags", [])]
        for field in fields
        if isinstance(field, dict) and field.get("part") == "value" and field.get("tags")
    }


def produce_generated(
    cluster: Cluster,
    topic: str,
    pairs: Iterable[tuple[bytes | None, Any]],
    serialize: Serializer,
    pacer: Pacer,
    progress: Progress,
) -> int:
    """Serialize and send every pair, holding the pacer's rate; the number sent."""
    producer = cluster.producer()
    sent = flushed = 0
    try:
        for key, value in pairs:
            delay = pacer.delay(sent)
            if delay > 0:
                producer.flush()  # what is due goes out before the pause
                flushed = sent
                progress.update(sent)
                pacer.wait(delay)
            producer.send(topic, serialize(value, topic, False), key)
            sent += 1
            if sent - flushed >= FLUSH_EVERY:
                producer.flush()
                flushed = sent
                progress.update(sent)
        producer.flush()
    finally:
        producer.close()
    return sent


@click.command("generate")
@click.argument("topic")
@click.option("--subject", required=True, help="Subject whose latest schema the records follow.")
@click.option(
    "--count",
    "-n",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many records (0: until Ctrl-C).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="PER_SECOND",
    help="Records per second to hold (default: as fast as possible).",
)
@click.option("--seed", type=int, default=None, help="Same seed, same records.")
@click.option(
    "--key-field",
    default=None,
    metavar="FIELD",
    help="Use this field of each record (dotted path for nested ones) as the key.",
)
@click.option(
    "--registry-url",
    "-r",
    "registry_url",
    metavar="URL",
    default=None,
    help="Schema registry and catalog (env STREAMGOV_URL, default http://127.0.0.1:8081).",
)
@cluster_options
@user_errors
def generate(
    topic: str,
    subject: str,
    count: int,
    rate: float | None,
    seed: int | None,
    key_field: str | None,
    registry_url: str | None,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Produce COUNT records to TOPIC that are valid for SUBJECT's latest schema (Avro, JSON
    Schema or Protobuf), in the registry's wire format. Fields tagged PII (in the schema or
    the catalog) get realistic fake values; every value is validated before it is sent."""
    client = registry_client(registry_url)
    cluster: Cluster | None = None
    progress = Progress("generated")
    try:
        parsed = latest_schema(client, subject)
        fmt = next(n for n, f in SCHEMA_FORMATS.items() if f.schema_type == parsed.schema_type)
        generator = generator_for(parsed, seed=seed, field_tags=catalog_field_tags(client, topic))
        serialize = make_serializer(client, fmt, None, subject)
        cluster = open_cluster(cluster_name, bootstrap)
        cluster.describe_topic(topic)  # fail before generating: the topic must exist
        pairs = records(generator, count or None, key_field)
        with interruptible():
            sent = produce_generated(cluster, topic, pairs, serialize, Pacer(rate), progress)
    except (GenerationError, SerdeError) as exc:
        raise click.ClickException(str(exc)) from None
    except EngineError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        if cluster is not None:
            cluster.close()
        client.close()
    progress.finish(sent)
    click.echo(f"Generated {sent} record(s) to {topic} (subject {subject}).", err=True)
