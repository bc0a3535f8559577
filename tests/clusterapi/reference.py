"""The obviously-right model of a record page: the API's pydantic models, filled one record at a
time, as the route built them before pages were written directly (`clusterapi/pages.py`)."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from clusterapi.links import Links
from clusterapi.models import RecordData, RecordDataItem, RecordDataList, RecordHeader
from engine.types import ConsumedRecord, PartitionInfo

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC, by exact integer arithmetic."""
    return (EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds")


def _data(raw: bytes | None) -> RecordData | None:
    if raw is None:
        return None
    return RecordData(size=len(raw), data=base64.b64encode(raw).decode("ascii"))


def record_page(
    links: Links,
    topic: str,
    info: PartitionInfo,
    start: int,
    limit: int,
    records: Sequence[ConsumedRecord],
) -> dict[str, Any]:
    """The page as the models render it to JSON."""
    items = [
        RecordDataItem(
            kind="KafkaRecord",
            metadata=links.resource(
                ("topics", topic, "partitions", r.partition, "records", r.offset),
                ("topic", topic),
                ("partition", r.partition),
                ("offset", r.offset),
            ),
            cluster_id=links.cluster_id,
            topic_name=topic,
            partition_id=r.partition,
            offset=r.offset,
            timestamp=iso(r.timestamp_ms),
            timestamp_ms=r.timestamp_ms,
            key=_data(r.key),
            value=_data(r.value),
            headers=[
                RecordHeader(name=name, value=base64.b64encode(value).decode("ascii"))
                for name, value in r.headers
            ],
        )
        for r in records[:limit]
    ]
    next_offset = items[-1].offset + 1 if items else start
    segments = ("topics", topic, "partitions", info.partition, "records")
    more = next_offset < info.latest_offset
    page = RecordDataList(
        kind="KafkaRecordList",
        metadata=links.collection(
            *segments,
            next_url=f"{links.url(*segments)}?offset={next_offset}&limit={limit}" if more else None,
        ),
        data=items,
        next_offset=next_offset,
        earliest_offset=info.earliest_offset,
        latest_offset=info.latest_offset,
    )
    return page.model_dump(mode="json")
