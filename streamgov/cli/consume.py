"""`streamgov consume TOPIC`: print records as they arrive (kcat -C / console-consumer habits)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import click

from engine.cluster import AutoOffsetReset, Cluster, Consumer
from engine.types import ConsumedRecord, OffsetAndMetadata, OffsetSpec, TopicPartition
from streamgov.cli.common import cluster_options, open_cluster, user_errors
from streamgov.cli.formatstring import FormatString
from streamgov.cli.groups import check_group_id
from streamgov.cli.lines import unescape
from streamgov.cli.output import Progress, choice_format_option, interruptible
from streamgov.cli.recordformats import (
    CONSUME_FORMATS,
    Decoded,
    RecordDecoder,
    as_bytes,
    json_field,
    needs_registry,
)
from streamgov.cli.serveroptions import record_format_options, registry_client

#: How long `--exit-at-end` waits for a group to hand this consumer its partitions.
ASSIGNMENT_WAIT_S = 60.0


def record_json(
    record: ConsumedRecord,
    key: bytes | Decoded | None = None,
    value: bytes | Decoded | None = None,
    *,
    decoded: bool = False,
) -> str:
    """One JSON line: topic, partition, offset, timestamp, key, value, headers. With
    `decoded`, `key` and `value` are what the record formats made of the record's bytes."""
    out: dict[str, Any] = {
        "topic": record.topic,
        "partition": record.partition,
        "offset": record.offset,
        "timestamp": record.timestamp_ms,
    }
    json_field(key if decoded else record.key, "key", out)
    json_field(value if decoded else record.value, "value", out)
    headers = []
    for name, header_value in record.headers:
        header: dict[str, Any] = {"key": name}
        json_field(header_value, "value", header)
        headers.append(header)
    out["headers"] = headers
    return json.dumps(out, ensure_ascii=False)


def record_text(
    key: bytes | None, value: bytes | None, key_separator: bytes | None, delimiter: bytes
) -> bytes:
    """The value (with `KEY<sep>` in front when a key separator is given) and the delimiter."""
    if key_separator is None:
        return (value or b"") + delimiter
    return (key or b"") + key_separator + (value or b"") + delimiter


def _at_end(consumer: Consumer, ends: dict[TopicPartition, int]) -> bool:
    """Whether every assigned partition has been read up to the end seen at start."""
    assigned = consumer.assignment()
    return bool(assigned) and all(consumer.position(tp) >= ends.get(tp, 0) for tp in assigned)


def parse_start(text: str) -> int | str:
    """`--offset`: `beginning`, `end`, an offset N >= 0, or -N (N records before the end)."""
    if text in ("beginning", "end"):
        return text
    try:
        return int(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not beginning, end, an offset or -N (N before the end)",
            param_hint="--offset",
        ) from None


def start_offset(start: int | str, earliest: int, latest: int, where: str) -> int:
    """Where `--offset` starts reading a partition with these bounds."""
    if start == "beginning":
        return earliest
    if start == "end":
        return latest
    assert isinstance(start, int)
    if start < 0:
        return max(earliest, latest + start)
    if not earliest <= start <= latest:
        raise click.BadParameter(
            f"offset {start} is out of range for {where}: valid offsets are {earliest} to {latest}",
            param_hint="--offset",
        )
    return start


def consume_records(
    cluster: Cluster,
    topic: str,
    *,
    group: str | None,
    from_beginning: bool,
    max_records: int | None,
    exit_at_end: bool,
    emit: Callable[[ConsumedRecord], None],
    progress: Progress,
    partition: int | None = None,
    start: int | str | None = None,
) -> int:
    """Read TOPIC (or one partition of it) and hand each record to `emit`; returns how many
    were emitted. `start` places every read partition (see `start_offset`).

    With a group, what was emitted is committed after each batch."""
    reset: AutoOffsetReset = "earliest" if from_beginning else "latest"
    earliest = cluster.list_offsets(topic, OffsetSpec.EARLIEST)
    latest = cluster.list_offsets(topic, OffsetSpec.LATEST)
    partitions = sorted(earliest)
    if partition is not None:
        if partition not in earliest:
            raise click.BadParameter(
                f"topic {topic} has partitions 0 to {len(partitions) - 1}",
                param_hint="--partition",
            )
        partitions = [partition]
    positions: dict[int, int] = {}
    if start is not None:
        positions = {
            p: start_offset(start, earliest[p], latest[p], f"{topic}[{p}]") for p in partitions
        }
    ends = {TopicPartition(topic, p): end for p, end in latest.items()}
    consumer = cluster.consumer(group, auto_offset_reset=reset, client_id="streamgov-consume")
    count = 0
    started = time.monotonic()
    try:
        if group:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, p) for p in partitions])
            for p, offset in positions.items():
                consumer.seek(TopicPartition(topic, p), offset)
        while max_records is None or count < max_records:
            wanted = 500 if max_records is None else min(500, max_records - count)
            batch = consumer.poll(timeout=0.2, max_records=wanted)
            for record in batch:
                emit(record)
            count += len(batch)
            if batch:
                progress.update(count)
                if group:
                    last: dict[TopicPartition, OffsetAndMetadata] = {}
                    for record in batch:
                        last[record.topic_partition] = OffsetAndMetadata(record.offset + 1)
                    consumer.commit(last)
            elif exit_at_end:
                if _at_end(consumer, ends):
                    break
                if not consumer.assignment() and time.monotonic() - started > ASSIGNMENT_WAIT_S:
                    raise click.ClickException(
                        f"no partitions of {topic} were assigned to this consumer within "
                        f"{ASSIGNMENT_WAIT_S:g}s (are other members of the group reading them?)"
                    )
    finally:
        consumer.close()
    return count


@click.command("consume")
@click.argument("topic")
@click.option("--from-beginning", is_flag=True, help="Start at the earliest offset.")
@click.option(
    "--group",
    "-g",
    default=None,
    callback=check_group_id,
    help="Consume as this group and commit progress.",
)
@click.option("--partition", "-p", type=int, default=None, help="Read only this partition.")
@click.option(
    "--offset",
    "-o",
    "start_text",
    metavar="beginning|end|N|-N",
    default=None,
    help="Start each partition here (-N: N records before the end); needs --partition for N.",
)
@click.option(
    "--max-records",
    "-c",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help="Stop after N records (kcat -c).",
)
@choice_format_option(
    ["text", "json"], "text: the value per line; json: one JSON object per record."
)
@click.option(
    "--format-string",
    "-f",
    metavar="FMT",
    default=None,
    help="Print each record as kcat -f does: %t %p %o %T %k %K %s %S %h, escapes like \\n.",
)
@click.option(
    "--key-separator",
    "-K",
    default=None,
    help="text: print KEY SEP VALUE (escapes such as \\t are understood).",
)
@click.option(
    "--delimiter",
    "-D",
    default="\\n",
    show_default=True,
    help="text: what ends each record in the output (kcat -D).",
)
@click.option("--exit-at-end", "-e", is_flag=True, help="Exit once the end of the log is read.")
@record_format_options(CONSUME_FORMATS)
@cluster_options
@user_errors
def consume(
    topic: str,
    from_beginning: bool,
    group: str | None,
    partition: int | None,
    start_text: str | None,
    max_records: int | None,
    output_format: str,
    format_string: str | None,
    key_separator: str | None,
    delimiter: str,
    exit_at_end: bool,
    key_format: str,
    value_format: str,
    registry_url: str | None,
    cluster_name: str | None,
    bootstrap: str | None,
) -> None:
    """Print the records of TOPIC as they arrive (Ctrl-C stops)."""
    start = None if start_text is None else parse_start(start_text)
    if group is not None and (partition is not None or start is not None):
        raise click.UsageError("--partition and --offset read without a group; drop --group")
    if from_beginning and start is not None:
        raise click.UsageError("give --from-beginning or --offset, not both")
    if isinstance(start, int) and start >= 0 and partition is None:
        raise click.UsageError("--offset N needs --partition (offsets differ per partition)")
    if format_string is not None and output_format == "json":
        raise click.UsageError("give --format json or --format-string, not both")
    template = FormatString.parse(format_string) if format_string is not None else None
    separator = None if key_separator is None else unescape(key_separator, "--key-separator")
    ending = unescape(delimiter, "--delimiter")
    client = registry_client(registry_url) if needs_registry(key_format, value_format) else None
    decode_key = RecordDecoder(key_format, client)
    decode_value = RecordDecoder(value_format, client)
    out = sys.stdout.buffer

    def emit(record: ConsumedRecord) -> None:
        where = f"{record.topic}[{record.partition}]@{record.offset}"
        key = decode_key(record.key, record.topic, f"the key of {where}")
        value = decode_value(record.value, record.topic, f"the value of {where}")
        if output_format == "json":
            out.write(record_json(record, key, value, decoded=True).encode() + b"\n")
        elif template is not None:
            out.write(template.render(record, as_bytes(key), as_bytes(value)))
        else:
            out.write(record_text(as_bytes(key), as_bytes(value), separator, ending))
        out.flush()

    cluster = open_cluster(cluster_name, bootstrap)
    progress = Progress("consumed")
    count = 0
    try:
        with interruptible():
            count = consume_records(
                cluster,
                topic,
                group=group,
                from_beginning=from_beginning,
                max_records=max_records,
                exit_at_end=exit_at_end,
                emit=emit,
                progress=progress,
                partition=partition,
                start=start,
            )
    finally:
        cluster.close()
        if client is not None:
            client.close()
    progress.finish(count)
