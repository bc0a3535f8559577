"""`streamgov produce TOPIC`: one record per line of stdin (kcat -P / console-producer habits)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable

import click

from engine.cluster import Cluster
from engine.errors import EngineError
from engine.types import Headers
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.lines import IDLE, read_lines, unescape
from streamgov.cli.output import Progress, interruptible, parse_pairs
from streamgov.cli.recordformats import (
    PRODUCE_FORMATS,
    SCHEMA_FORMATS,
    RecordEncoder,
    make_serializer,
    needs_registry,
)
from streamgov.cli.serveroptions import record_format_options, registry_client

#: The longest line read when the topic does not tell its `max.message.bytes`.
DEFAULT_MAX_LINE = 2**31 - 1

#: Records sent between two flushes: large enough to batch well, small enough to bound memory.
FLUSH_EVERY = 5_000


def split_line(line: bytes, separator: bytes | None, number: int) -> tuple[bytes | None, bytes]:
    """The (key, value) of one input line; the key is everything before the first separator."""
    if separator is None:
        return None, line
    key, sep, value = line.partition(separator)
    if not sep:
        raise click.ClickException(
            f"line {number} has no key separator {separator.decode(errors='replace')!r}"
        )
    return key, value


def produce_lines(
    cluster: Cluster,
    topic: str,
    lines: Iterable[bytes | None],
    *,
    separator: bytes | None,
    empty_as_null: bool = False,
    partition: int | None,
    headers: Headers,
    progress: Progress,
    encode: Callable[[bytes | None, bytes | None, int], tuple[bytes | None, bytes | None]]
    | None = None,
) -> int:
    """Send every line as a record; the number of records written.

    Records are delivered in batches of at most FLUSH_EVERY, and whenever the input has
    nothing ready (an IDLE item), so slow input is delivered as it arrives. `progress` counts
    records the cluster acknowledged. On Ctrl-C what was read is delivered and the count
    reported in `InterruptedProduceError`. A failure names how many records were written
    before it."""
    producer = cluster.producer()
    sent = flushed = 0

    def flush() -> None:
        nonlocal flushed
        if sent > flushed:
            producer.flush()
            flushed = sent
            progress.update(flushed)

    try:
        try:
            number = 0
            for line in lines:
                if line is IDLE:
                    flush()
                    continue
                number += 1
                key, text = split_line(line, separator, number)
                value = None if empty_as_null and not text else text
                if encode is not None:
                    key, value = encode(key, value, number)
                producer.send(topic, value, key, headers=headers, partition=partition)
                sent += 1
                if sent - flushed >= FLUSH_EVERY:
                    flush()
        except click.ClickException as exc:  # a bad input line: keep the lines before it
            flush()
            raise click.ClickException(
                f"{exc.message}; the {sent} record(s) before it were produced"
            ) from exc
        except KeyboardInterrupt:
            flush()
            raise InterruptedProduceError(flushed) from None
        flush()
    except EngineError as exc:
        # The failed batch stays buffered in the embedded producer; drop it so that closing
        # does not try to write it again.
        purge = getattr(producer, "purge", None)
        if callable(purge):
            purge()
        written = f"{flushed} record(s) before that batch were" if flushed else "no record was"
        raise click.ClickException(f"{exc}; {written} produced") from exc
    finally:
        producer.close()
    return sent


class InterruptedProduceError(Exception):
    """Ctrl-C stopped `produce_lines`; `count` records were written before it."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


@click.command("produce")
@click.argument("topic")
@click.option(
    "--key-separator",
    "-K",
    default=None,
    help="Split each line into KEY SEP VALUE (escapes such as \\t are understood).",
)
@click.option(
    "--delimiter",
    "-D",
    default="\\n",
    show_default=True,
    help="What ends each record in the input (kcat -D; escapes such as \\0 are understood).",
)
@click.option("--partition", "-p", type=int, default=None, help="Write to this partition.")
@click.option(
    "--header", "-H", "header_pairs", multiple=True, metavar="KEY=VALUE", help="Add a header."
)
@click.option(
    "--empty-as-null",
    "-Z",
    is_flag=True,
    help="An empty value is a null value (a tombstone on a compacted topic).",
)
@click.option("--subject", default=None, help="Value subject (default: TOPIC-value).")
@click.option(
    "--schema-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Value schema to register and write with (default: the subject's latest).",
)
@click.option("--key-subject", default=None, help="Key subject (default: TOPIC-key).")
@click.option(
    "--key-schema-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Key schema to register and write with (default: the subject's latest).",
)
@record_format_options(PRODUCE_FORMATS)
@cluster_options
@user_errors
def produce(
    topic: str,
    key_separator: str | None,
    delimiter: str,
    partition: int | None,
    header_pairs: tuple[str, ...],
    empty_as_null: bool,
    subject: str | None,
    schema_file: str | None,
    key_subject: str | None,
    key_schema_file: str | None,
    key_format: str,
    value_format: str,
    registry_url: str | None,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Produce one record per line of stdin to TOPIC, delivering as lines arrive (Ctrl-C
    delivers what was read and stops)."""
    separator = None if key_separator is None else unescape(key_separator, "--key-separator")
    ending = unescape(delimiter, "--delimiter")
    headers: Headers = tuple(
        (key, value.encode()) for key, value in parse_pairs(header_pairs, "--header")
    )
    chosen = {True: (key_format, key_subject, key_schema_file)}
    chosen[False] = (value_format, subject, schema_file)
    for is_key, (fmt, named, file) in chosen.items():
        side = "key-" if is_key else ""
        if fmt not in SCHEMA_FORMATS and (named or file):
            raise click.UsageError(
                f"--{side}subject and --{side}schema-file need a registry --{side or 'value-'}"
                f"format ({', '.join(SCHEMA_FORMATS)})"
            )
    if separator is None and key_format != "string":
        raise click.UsageError("--key-format needs --key-separator to find the key")
    client = registry_client(registry_url) if needs_registry(key_format, value_format) else None
    serializers = {
        is_key: make_serializer(client, fmt, _read_text(file), named)
        for is_key, (fmt, named, file) in chosen.items()
        if fmt in SCHEMA_FORMATS and client is not None
    }
    encode = RecordEncoder(topic, key_format, value_format, serializers)
    cluster = open_cluster(cluster_name, bootstrap)
    progress = Progress("produced")
    try:
        # Fail before reading input: the topic must exist and have the chosen partition.
        description = cluster.describe_topic(topic)
        partitions = len(description.partitions)
        # No record can be larger than the topic allows: refuse longer lines while reading.
        max_line = int(description.config.get("max.message.bytes", DEFAULT_MAX_LINE))
        if partition is not None and not 0 <= partition < partitions:
            raise click.BadParameter(
                f"topic {topic} has partitions 0 to {partitions - 1}", param_hint="--partition"
            )
        lines = read_lines(
            sys.stdin.buffer,
            max_line + len(separator or b""),
            f" (max.message.bytes={max_line} of topic {topic}"
            + (", plus the key separator)" if separator else ")"),
            delimiter=ending,
        )
        with interruptible():
            try:
                sent = produce_lines(
                    cluster,
                    topic,
                    lines,
                    separator=separator,
                    empty_as_null=empty_as_null,
                    partition=partition,
                    headers=headers,
                    progress=progress,
                    encode=encode,
                )
            except InterruptedProduceError as stop:
                progress.finish(stop.count)
                click.echo(f"Interrupted: produced {stop.count} record(s) to {topic}.", err=True)
                raise KeyboardInterrupt from None
    finally:
        cluster.close()
        if client is not None:
            client.close()
    progress.finish(sent)
    click.echo(f"Produced {sent} record(s) to {topic}.", err=True)


def _read_text(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
