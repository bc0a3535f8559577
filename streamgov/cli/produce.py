"""`streamgov produce TOPIC`: one record per line of stdin (kcat -P / console-producer habits)."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import click

from engine.cluster import Cluster
from engine.errors import EngineError
from engine.types import Headers
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.output import Progress, interruptible, parse_pairs

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


def read_lines(stream: BinaryIO, max_bytes: int | None = None, why: str = "") -> Iterator[bytes]:
    """Lines of a binary stream without their line ending (`\\n` or `\\r\\n`). A line longer
    than `max_bytes` (without its ending) is an error naming it and `why` the limit holds,
    raised before the line is held in memory whole."""
    if max_bytes is None:
        for raw in stream:
            yield raw.rstrip(b"\n").removesuffix(b"\r")
        return
    number = 0
    while raw := stream.readline(max_bytes + 3):
        number += 1
        line = raw.rstrip(b"\n").removesuffix(b"\r")
        if len(line) > max_bytes:
            raise click.ClickException(f"line {number} is longer than {max_bytes} bytes{why}")
        yield line


def produce_lines(
    cluster: Cluster,
    topic: str,
    lines: Iterable[bytes],
    *,
    separator: bytes | None,
    empty_as_null: bool = False,
    partition: int | None,
    headers: Headers,
    progress: Progress,
) -> int:
    """Send every line as a record, flushing in batches; the number of records produced.

    A failure names how many records were written before it: those stay written."""
    producer = cluster.producer()
    sent = flushed = 0
    try:
        try:
            for number, line in enumerate(lines, start=1):
                key, text = split_line(line, separator, number)
                value = None if empty_as_null and not text else text
                producer.send(topic, value, key, headers=headers, partition=partition)
                sent += 1
                if sent % FLUSH_EVERY == 0:
                    producer.flush()
                    flushed = sent
                    progress.update(sent)
        except click.ClickException as exc:  # a bad input line: keep the lines before it
            producer.flush()
            raise click.ClickException(
                f"{exc.message}; the {sent} record(s) before it were produced"
            ) from exc
        producer.flush()
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


@click.command("produce")
@click.argument("topic")
@click.option("--key-separator", "-K", default=None, help="Split each line into KEY SEP VALUE.")
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
@cluster_options
@user_errors
def produce(
    topic: str,
    key_separator: str | None,
    partition: int | None,
    header_pairs: tuple[str, ...],
    empty_as_null: bool,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Produce one record per line of stdin to TOPIC."""
    if key_separator == "":
        raise click.BadParameter("must not be empty", param_hint="--key-separator")
    headers: Headers = tuple(
        (key, value.encode()) for key, value in parse_pairs(header_pairs, "--header")
    )
    separator = key_separator.encode() if key_separator is not None else None
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
        with interruptible():
            stdin = sys.stdin.buffer
            sent = produce_lines(
                cluster,
                topic,
                read_lines(
                    stdin,
                    max_line + len(separator or b""),
                    f" (max.message.bytes={max_line} of topic {topic}"
                    + (", plus the key separator)" if separator else ")"),
                ),
                separator=separator,
                empty_as_null=empty_as_null,
                partition=partition,
                headers=headers,
                progress=progress,
            )
    finally:
        cluster.close()
    progress.finish(sent)
    click.echo(f"Produced {sent} record(s) to {topic}.", err=True)
