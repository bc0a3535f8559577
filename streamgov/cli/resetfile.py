"""The CSV of kafka-consumer-groups' `--export` and `--from-file`, and `--by-duration`.

One row per partition: `TOPIC,PARTITION,OFFSET` for one group, `GROUP,TOPIC,PARTITION,OFFSET`
when several groups are exported. Pure: text in, text out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable

from engine.types import TopicPartition

#: Rows read from a file: group (None in a three-column file) -> partition -> offset.
ResetOffsets = dict[str | None, dict[TopicPartition, int]]

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


class ResetFileError(ValueError):
    """A reset file or duration is not valid; the message names the line or the text."""


def parse_duration_ms(text: str) -> int:
    """An ISO 8601 duration `PnDTnHnMnS` (kafka-consumer-groups' `--by-duration`) in ms."""
    match = _DURATION.match(text.strip().upper())
    if match is None or not any(match.groupdict().values()) or text.strip().upper().endswith("T"):
        raise ResetFileError(
            f"{text!r} is not a duration like P1DT2H30M (days, hours, minutes, seconds)"
        )
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    seconds = parts["d"] * 86_400 + parts["h"] * 3_600 + parts["m"] * 60 + parts["s"]
    return round(seconds * 1000)


def format_reset_csv(rows: Iterable[tuple[str, str, int, int]], with_group: bool) -> str:
    """(group, topic, partition, offset) rows as the export CSV."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for group, topic, partition, offset in rows:
        writer.writerow(
            [group, topic, partition, offset] if with_group else [topic, partition, offset]
        )
    return out.getvalue()


def parse_reset_csv(text: str, source: str) -> ResetOffsets:
    """Read an export CSV; every row must have the same number of columns (3 or 4). Errors
    name the file and line."""
    result: ResetOffsets = {}
    width = None
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        cells = [cell.strip() for cell in row]
        if len(cells) not in (3, 4) or (width is not None and len(cells) != width):
            raise ResetFileError(
                f"{source}:{number}: expected TOPIC,PARTITION,OFFSET or "
                "GROUP,TOPIC,PARTITION,OFFSET on every line"
            )
        width = len(cells)
        group = cells[0] if width == 4 else None
        topic, partition, offset = cells[-3:]
        if not topic or (group is not None and not group):
            raise ResetFileError(f"{source}:{number}: a topic or group is empty")
        if not partition.isdigit() or not offset.isdigit():
            raise ResetFileError(
                f"{source}:{number}: partition and offset must be whole numbers >= 0"
            )
        offsets = result.setdefault(group, {})
        tp = TopicPartition(topic, int(partition))
        if tp in offsets:
            raise ResetFileError(f"{source}:{number}: {topic} partition {partition} is repeated")
        offsets[tp] = int(offset)
    if not result:
        raise ResetFileError(f"{source}: no offsets in the file")
    return result
